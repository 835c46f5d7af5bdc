//! The storage contract, run on SQLite and on PostgreSQL alike.

mod support;

use rapporteur::storage::{Claimant, GroupScope, NewInboxItem, NewOutboxItem, Store};

fn claimant(node: &str, instance: &str) -> Claimant {
    Claimant {
        node: node.into(),
        instance: instance.into(),
    }
}

fn message(external_id: &str, body: &str) -> NewInboxItem {
    NewInboxItem {
        channel: "matrix".into(),
        external_id: external_id.into(),
        group_id: "cip-ccg".into(),
        conversation: "!room:localhost".into(),
        sender: "@ana.lima:localhost".into(),
        body: body.into(),
        origin_ms: 1_000,
    }
}

fn reply_for(key: &str) -> NewOutboxItem {
    NewOutboxItem {
        idempotency_key: key.into(),
        channel: "matrix".into(),
        destination: "!room:localhost".into(),
        payload: "{}".into(),
        about: None,
    }
}

on_both_backends!(
    a_redelivered_message_is_recorded_once,
    |store: Store| async move {
        let first = store
            .record_inbound(
                &[message("$a", "!ping"), message("$b", "!help")],
                Some(("sync", "t1")),
                10,
            )
            .await
            .unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first[1].external_id, "$b");
        let again = store
            .record_inbound(
                &[message("$b", "!help"), message("$c", "!roster")],
                Some(("sync", "t2")),
                20,
            )
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].external_id, "$c");
        let pending = store.pending_inbox(10).await.unwrap();
        let ids: Vec<&str> = pending
            .iter()
            .map(|item| item.external_id.as_str())
            .collect();
        assert_eq!(ids, ["$a", "$b", "$c"]);
        assert_eq!(
            store.adapter_state("sync").await.unwrap().as_deref(),
            Some("t2")
        );
        assert!(store.inbox_contains("matrix", "$c").await.unwrap());
        assert!(!store.inbox_contains("mail", "$c").await.unwrap());
    }
);

on_both_backends!(
    the_mail_identity_is_made_once_kept_and_rotated_without_forgetting_old_mail,
    |store: Store| async move {
        let first = store.mail_identity(1_000).await.unwrap();
        let sent_before = first.message_id("rapporteur-0123", "bot.example.org");
        // Read again (a restart, or another process of the deployment): the same secret.
        let again = store.mail_identity(2_000).await.unwrap();
        assert_eq!(
            again.message_id("rapporteur-0123", "bot.example.org"),
            sent_before
        );

        assert_eq!(store.rotate_mail_identity_secret(3_000).await.unwrap(), 2);
        let rotated = store.mail_identity(4_000).await.unwrap();
        let sent_after = rotated.message_id("rapporteur-0123", "bot.example.org");
        assert_ne!(
            sent_after, sent_before,
            "new mail is tagged with the new secret"
        );
        assert_eq!(rotated.proven_key(&sent_before), Some("rapporteur-0123"));
        assert_eq!(rotated.proven_key(&sent_after), Some("rapporteur-0123"));

        assert_eq!(
            store.forget_retired_mail_identity_secrets().await.unwrap(),
            1
        );
        let current_only = store.mail_identity(5_000).await.unwrap();
        assert_eq!(current_only.proven_key(&sent_before), None);
        assert_eq!(
            current_only.proven_key(&sent_after),
            Some("rapporteur-0123")
        );
    }
);

on_both_backends!(
    ignored_mail_is_kept_with_its_reason_and_the_readers_position,
    |store: Store| async move {
        let ignored = |id: &str, reason: &str, at: i64| rapporteur::storage::IgnoredMail {
            external_id: id.into(),
            reason: reason.into(),
            sender: Some("rapporteur@lists.example.org".into()),
            subject: Some("R-1: poll".into()),
            ignored_ms: at,
        };
        let day: i64 = 24 * 60 * 60 * 1000;
        store
            .record_ignored_mail(&ignored("<old@x>", "no-command", 0), None, 0)
            .await
            .unwrap();
        store
            .record_ignored_mail(
                &ignored("<a@x>", "own-message", 100 * day),
                Some(("imap", "7")),
                100 * day,
            )
            .await
            .unwrap();
        // Seen again: one row.
        store
            .record_ignored_mail(&ignored("<a@x>", "own-message", 100 * day), None, 100 * day)
            .await
            .unwrap();
        assert_eq!(
            store.adapter_state("imap").await.unwrap().as_deref(),
            Some("7")
        );
        assert_eq!(
            store.ignored_mail_counts().await.unwrap(),
            [("own-message".to_string(), 1)],
            "one row each, and the one of 100 days ago is gone"
        );
        let listed = store.ignored_mail(Some("own-message"), 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].external_id, "<a@x>");
        assert!(
            store
                .ignored_mail(Some("bounce"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.ignored_mail(None, 10).await.unwrap().len(), 1);
    }
);

on_both_backends!(
    a_message_is_completed_once_with_its_effects,
    |store: Store| async move {
        store
            .record_inbound(&[message("$a", "!ping")], None, 10)
            .await
            .unwrap();
        let item = store.pending_inbox(10).await.unwrap().remove(0);
        let completed = store
            .complete_inbox_item(&item, "executed", Some("ping"), &[reply_for("k1")], 20)
            .await
            .unwrap()
            .expect("the first completion stores the effects");
        assert_eq!(completed.len(), 1);
        assert_eq!(completed[0].in_reply_to_external_id.as_deref(), Some("$a"));
        // A second completion (say, from a handler racing after a restart) stores nothing.
        let again = store
            .complete_inbox_item(&item, "executed", Some("ping"), &[reply_for("k2")], 30)
            .await
            .unwrap();
        assert!(again.is_none());
        assert!(store.pending_inbox(10).await.unwrap().is_empty());
        let due = store.due_outbox("matrix", 100, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].idempotency_key, "k1");
        assert_eq!(due[0].inbox_id, Some(item.id));
    }
);

on_both_backends!(
    outbox_retries_wait_and_sent_items_leave_the_queue,
    |store: Store| async move {
        store
            .record_inbound(&[message("$a", "!ping")], None, 10)
            .await
            .unwrap();
        let item = store.pending_inbox(10).await.unwrap().remove(0);
        store
            .complete_inbox_item(
                &item,
                "executed",
                None,
                &[reply_for("k1"), reply_for("k2")],
                20,
            )
            .await
            .unwrap();
        let claimant = claimant("node-a", "1");
        let every = GroupScope::Every;
        let due = store.due_outbox_of("matrix", every, 20, 10).await.unwrap();
        for item in &due {
            assert!(
                store
                    .claim_outbox_item(item.id, &claimant, 20)
                    .await
                    .unwrap()
            );
        }
        assert_eq!(due.len(), 2);
        assert!(
            store
                .mark_outbox_retry(due[0].id, &claimant, 1_000, "homeserver down")
                .await
                .unwrap()
        );
        assert!(
            store
                .mark_outbox_sent(due[1].id, &claimant, "$reply", 25)
                .await
                .unwrap()
        );
        assert!(
            store
                .due_outbox("matrix", 999, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.next_outbox_due("matrix", every).await.unwrap(),
            Some(1_000)
        );
        let retried = store
            .due_outbox_of("matrix", every, 1_000, 10)
            .await
            .unwrap();
        assert!(
            store
                .claim_outbox_item(retried[0].id, &claimant, 1_000)
                .await
                .unwrap()
        );
        assert_eq!(retried.len(), 1);
        assert_eq!(retried[0].attempts, 1);
        assert!(
            store
                .mark_outbox_failed(retried[0].id, &claimant, "forbidden")
                .await
                .unwrap()
        );
        assert_eq!(store.next_outbox_due("matrix", every).await.unwrap(), None);
        let counts = store.outbox_counts().await.unwrap();
        assert_eq!(
            counts,
            vec![("failed".to_string(), 1), ("sent".to_string(), 1)]
        );
    }
);

on_both_backends!(
    first_join_time_is_kept_from_the_first_call,
    |store: Store| async move {
        assert_eq!(
            store
                .first_joined("!r:localhost", "cip-ccg", 100)
                .await
                .unwrap(),
            100
        );
        assert_eq!(
            store
                .first_joined("!r:localhost", "cip-ccg", 200)
                .await
                .unwrap(),
            100
        );
        assert_eq!(
            store
                .first_joined("!s:localhost", "cip-ccg", 300)
                .await
                .unwrap(),
            300
        );
    }
);

on_both_backends!(
    migrations_are_idempotent_and_text_round_trips,
    |store: Store| async move {
        store.migrate().await.unwrap();
        let hostile = "Robert'); DROP TABLE inbox;-- \u{1F600} \0 é";
        let hostile = hostile.replace('\0', "");
        store
            .record_inbound(&[message("$x", &hostile)], None, 1)
            .await
            .unwrap();
        assert_eq!(store.pending_inbox(1).await.unwrap()[0].body, hostile);
    }
);

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    let error = Store::connect("postgres://bot:s3cret@127.0.0.1:1/none", 1)
        .await
        .expect_err("nothing listens on port 1");
    let text = error.to_string();
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

/// The write-ahead log is copied into the database when the bot is idle (issue 11), not by
/// whichever command's commit finds it over SQLite's default limit of 1,000 pages, which is
/// raised to 10,000 as a safety net.
#[tokio::test]
async fn the_sqlite_log_is_checkpointed_on_request_and_not_every_thousand_pages() {
    let (url, folder) = support::fresh_sqlite_url();
    let store = Store::connect(&url, 1).await.unwrap();
    store.migrate().await.unwrap();
    let (limit,): (i64,) = sqlx::query_as("PRAGMA wal_autocheckpoint")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(limit, 10_000);
    let messages: Vec<NewInboxItem> = (0..200)
        .map(|index| message(&format!("$event{index}"), "!ping"))
        .collect();
    store.record_inbound(&messages, None, 10).await.unwrap();
    let log = folder.path().join("test.db-wal");
    let log_bytes = std::fs::metadata(&log).map(|meta| meta.len()).unwrap_or(0);
    assert!(log_bytes > 0, "the writes are in the log");
    assert!(
        store.checkpoint().await.unwrap(),
        "the whole log was copied"
    );
    // A checkpoint does not shrink the file; the next writes reuse it from the start.
    store
        .record_inbound(&[message("$after", "!ping")], None, 20)
        .await
        .unwrap();
    assert!(store.checkpoint().await.unwrap());
}

/// The bundled SQLite is built as `.cargo/config.toml` asks (issue 11): a database in WAL mode
/// whose opener sets no `synchronous` (as matrix-sdk's crypto store does not; sqlx, used here,
/// sets its own) commits at NORMAL, without an fsync per commit, and the planner ignores bound
/// values, so a statement with a bound `LIMIT` is not prepared again on every execution.
#[tokio::test]
async fn the_bundled_sqlite_is_built_with_the_projects_flags() {
    use sqlx::{Connection, Row};
    let folder = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("plain.db").display()
    );
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA journal_mode=WAL")
        .execute(&mut connection)
        .await
        .unwrap();
    let cases = [
        ("SELECT sqlite_compileoption_used('ENABLE_QPSG')", 1_i64),
        (
            "SELECT sqlite_compileoption_used('DEFAULT_WAL_SYNCHRONOUS=1')",
            1,
        ),
    ];
    for (sql, expected) in cases {
        let row = sqlx::query(sql).fetch_one(&mut connection).await.unwrap();
        let value: i64 = row.try_get(0).unwrap();
        assert_eq!(value, expected, "{sql}");
    }
}
