//! The storage of encrypted Matrix events held until their room key arrives (issue 10, item 7),
//! on SQLite and on PostgreSQL alike: they are committed with the sync token that moves past
//! them (or neither is), keep their first sighting when a sync is replayed, and are settled
//! (with at most one notice) exactly once.

mod support;

use rapporteur::storage::{MatrixSyncCommit, NewOutboxItem, NewUndecryptable, Store};

const TOKEN: &str = "matrix.sync_token";

fn held(event_id: &str) -> NewUndecryptable {
    NewUndecryptable {
        event_id: event_id.into(),
        room_id: "!room:localhost".into(),
        group_id: "cceg-ig".into(),
        sender: "@ana.lima:localhost".into(),
        event_json: format!(
            r#"{{"type":"m.room.encrypted","event_id":"{event_id}","sender":"@ana.lima:localhost","origin_server_ts":1000,"content":{{"algorithm":"m.megolm.v1.aes-sha2","ciphertext":"AwgA"}}}}"#
        ),
        origin_ms: 1_000,
    }
}

fn notice(key: &str) -> NewOutboxItem {
    NewOutboxItem {
        idempotency_key: key.into(),
        channel: "matrix".into(),
        destination: "!room:localhost".into(),
        payload:
            r#"{"in_reply_to":"$a","mention":"@ana.lima:localhost","plain":"sorry","html":""}"#
                .into(),
        about: None,
    }
}

fn ids(store_rows: &[rapporteur::storage::Undecryptable]) -> Vec<&str> {
    store_rows
        .iter()
        .map(|row| row.event.event_id.as_str())
        .collect()
}

on_both_backends!(
    held_events_are_committed_with_the_token_and_keep_their_first_sighting,
    |store: Store| async move {
        store
            .record_matrix_sync(
                &[],
                &MatrixSyncCommit {
                    hold: &[held("$a"), held("$b")],
                    position: Some((TOKEN, "t1")),
                    ..MatrixSyncCommit::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(
            store.adapter_state(TOKEN).await.unwrap().as_deref(),
            Some("t1")
        );
        // The same sync replayed after a crash, and a later one with a new event.
        store
            .record_matrix_sync(
                &[],
                &MatrixSyncCommit {
                    hold: &[held("$b"), held("$c")],
                    position: Some((TOKEN, "t2")),
                    ..MatrixSyncCommit::default()
                },
                20,
            )
            .await
            .unwrap();
        let rows = store.undecryptable_events(10).await.unwrap();
        assert_eq!(ids(&rows), ["$a", "$b", "$c"]);
        assert_eq!(rows[0].event, held("$a"));
        let first_seen: Vec<i64> = rows.iter().map(|row| row.first_seen_ms).collect();
        assert_eq!(
            first_seen,
            [10, 10, 20],
            "a replay keeps the first sighting"
        );
        assert_eq!(
            ids(&store.undecryptable_events(2).await.unwrap()),
            ["$a", "$b"]
        );
    }
);

on_both_backends!(
    a_settled_event_is_forgotten_and_its_notice_stored_once,
    |store: Store| async move {
        store
            .record_matrix_sync(
                &[],
                &MatrixSyncCommit {
                    hold: &[held("$a"), held("$b")],
                    position: Some((TOKEN, "t1")),
                    ..MatrixSyncCommit::default()
                },
                10,
            )
            .await
            .unwrap();
        // `$a` was given up on: its report and its removal in one commit.
        let settled = ["$a".to_string()];
        let notices = [notice("rapporteur-report-a")];
        let commit = MatrixSyncCommit {
            notices: &notices,
            settled: &settled,
            position: Some((TOKEN, "t2")),
            ..MatrixSyncCommit::default()
        };
        assert_eq!(
            store.record_matrix_sync(&[], &commit, 20).await.unwrap().1,
            1
        );
        // The same pass again (as after a crash that lost the answer): no second notice.
        assert_eq!(
            store.record_matrix_sync(&[], &commit, 30).await.unwrap().1,
            0
        );
        assert_eq!(ids(&store.undecryptable_events(10).await.unwrap()), ["$b"]);
        let due = store.due_outbox("matrix", 1_000, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].idempotency_key, "rapporteur-report-a");
        assert_eq!(due[0].destination, "!room:localhost");
        assert_eq!(due[0].inbox_id, None);
        assert_eq!(
            store.adapter_state(TOKEN).await.unwrap().as_deref(),
            Some("t2")
        );
    }
);

on_both_backends!(
    a_failed_commit_keeps_neither_the_events_nor_the_token,
    |store: Store| async move {
        store
            .record_matrix_sync(
                &[],
                &MatrixSyncCommit {
                    position: Some((TOKEN, "t1")),
                    ..MatrixSyncCommit::default()
                },
                10,
            )
            .await
            .unwrap();
        // The commit is made to fail half-way, as a lost connection would: with the outbox gone,
        // storing the notice fails after the event was inserted.
        sqlx::query("DROP TABLE outbox")
            .execute(store.pool())
            .await
            .unwrap();
        let notices = [notice("rapporteur-x")];
        let result = store
            .record_matrix_sync(
                &[],
                &MatrixSyncCommit {
                    hold: &[held("$a")],
                    notices: &notices,
                    position: Some((TOKEN, "t2")),
                    ..MatrixSyncCommit::default()
                },
                20,
            )
            .await;
        assert!(result.is_err());
        assert!(store.undecryptable_events(10).await.unwrap().is_empty());
        assert_eq!(
            store.adapter_state(TOKEN).await.unwrap().as_deref(),
            Some("t1"),
            "the token does not move past events that were not held"
        );
    }
);
