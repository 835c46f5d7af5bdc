//! One sender per outbox row, on SQLite and on PostgreSQL: claims that two processes never both
//! win, outcomes written only from the claim, abandoned claims settled by what the channel can
//! recognise, and queries limited to the groups a process owns.

mod support;

use rapporteur::storage::{
    ClaimAtInsert, Claimant, Completion, GroupScope, NewInboxItem, NewOutboxItem, Store,
};
use std::collections::BTreeSet;

fn claimant(node: &str, instance: &str) -> Claimant {
    Claimant {
        node: node.into(),
        instance: instance.into(),
    }
}

fn message(external_id: &str, group_id: &str, channel: &str) -> NewInboxItem {
    NewInboxItem {
        channel: channel.into(),
        external_id: external_id.into(),
        group_id: group_id.into(),
        conversation: "!room:localhost".into(),
        sender: "@ana.lima:localhost".into(),
        body: "!ping".into(),
        origin_ms: 1_000,
    }
}

fn effect(key: &str, channel: &str) -> NewOutboxItem {
    NewOutboxItem {
        idempotency_key: key.into(),
        channel: channel.into(),
        destination: "!room:localhost".into(),
        payload: "{}".into(),
        about: None,
    }
}

/// Stores one input of `group_id` answered by one effect on `channel`; returns the effect's ID.
async fn stored_effect(store: &Store, key: &str, group_id: &str, channel: &str) -> i64 {
    let recorded = store
        .record_inbound(&[message(&format!("${key}"), group_id, "matrix")], None, 10)
        .await
        .unwrap();
    let stored = store
        .complete_inbox_item(&recorded[0], "executed", None, &[effect(key, channel)], 20)
        .await
        .unwrap()
        .unwrap();
    stored[0].id
}

async fn state_of(store: &Store, id: i64) -> String {
    let (state,): (String,) = sqlx::query_as("SELECT state FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    state
}

/// Two stores on one database, as two processes have.
async fn two_processes(
    backend: support::Backend,
) -> Option<(Store, Store, Option<tempfile::TempDir>)> {
    let (url, guard) = match backend {
        support::Backend::Sqlite => {
            let (url, guard) = support::fresh_sqlite_url();
            (url, Some(guard))
        }
        support::Backend::Postgres => (support::fresh_postgres_url().await?, None),
    };
    let first = Store::connect(&url, 5).await.unwrap();
    first.migrate().await.unwrap();
    let second = Store::connect(&url, 5).await.unwrap();
    Some((first, second, guard))
}

async fn claimers_never_share_a_row(backend: support::Backend) {
    let Some((first, second, _guard)) = two_processes(backend).await else {
        return;
    };
    let items: Vec<NewOutboxItem> = (0..300).map(|n| effect(&format!("k{n}"), "mail")).collect();
    let stored = first.enqueue(&items, 0).await.unwrap();
    let all: BTreeSet<i64> = stored.iter().map(|item| item.id).collect();
    // Both claim as fast as they can, row by row in opposite orders and by scans, as the
    // dispatchers of two processes do.
    let claim_all = |store: Store, who: Claimant, by_id: Vec<i64>| async move {
        let mut mine = Vec::new();
        for chunk in by_id.chunks(13) {
            for id in chunk {
                if store.claim_outbox_item(*id, &who, 5).await.unwrap() {
                    mine.push(*id);
                }
            }
            let scanned = store
                .due_outbox_of("mail", GroupScope::Every, 5, 7)
                .await
                .unwrap();
            for item in scanned {
                if store.claim_outbox_item(item.id, &who, 5).await.unwrap() {
                    mine.push(item.id);
                }
            }
        }
        mine
    };
    let ids: Vec<i64> = all.iter().copied().collect();
    let reversed: Vec<i64> = ids.iter().rev().copied().collect();
    let (a, b) = tokio::join!(
        tokio::spawn(claim_all(first.clone(), claimant("node-a", "1"), ids)),
        tokio::spawn(claim_all(second.clone(), claimant("node-b", "1"), reversed)),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let a_set: BTreeSet<i64> = a.iter().copied().collect();
    let b_set: BTreeSet<i64> = b.iter().copied().collect();
    assert_eq!(a.len(), a_set.len(), "one claimant got a row twice");
    assert_eq!(b.len(), b_set.len(), "one claimant got a row twice");
    assert!(a_set.is_disjoint(&b_set), "a row was claimed by both");
    assert_eq!(&a_set | &b_set, all, "every row was claimed");
    assert!(!a.is_empty() && !b.is_empty(), "both claimants took part");
    assert_eq!(
        first.outbox_counts().await.unwrap(),
        vec![("sending".to_string(), 300)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_claimers_never_get_the_same_row_sqlite() {
    claimers_never_share_a_row(support::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_claimers_never_get_the_same_row_postgres() {
    claimers_never_share_a_row(support::Backend::Postgres).await;
}

on_both_backends!(
    outcomes_are_written_only_from_the_claim,
    |store: Store| async move {
        let a = claimant("node-a", "1");
        let b = claimant("node-b", "1");
        // (what happened to the row before, who marks it sent, whether the mark is written,
        // the state after)
        enum Before {
            Nothing,
            ClaimedBy(&'static str),
            ClaimedThenSettledBy(&'static str),
            SentBy(&'static str),
        }
        let cases = [
            (Before::Nothing, "a", false, "pending"),
            (Before::ClaimedBy("a"), "b", false, "sending"),
            (Before::ClaimedBy("a"), "a", true, "sent"),
            (Before::SentBy("a"), "a", false, "sent"),
            // The claimant knows the channel accepted it; the process that settled the claim
            // could not.
            (Before::ClaimedThenSettledBy("a"), "a", true, "sent"),
            (Before::ClaimedThenSettledBy("a"), "b", false, "uncertain"),
        ];
        let who = |name: &str| if name == "a" { a.clone() } else { b.clone() };
        for (index, (before, marker, written, after)) in cases.into_iter().enumerate() {
            let id = stored_effect(&store, &format!("case{index}"), "g1", "mail").await;
            match before {
                Before::Nothing => {}
                Before::ClaimedBy(name) => {
                    assert!(store.claim_outbox_item(id, &who(name), 30).await.unwrap());
                }
                Before::ClaimedThenSettledBy(name) => {
                    assert!(store.claim_outbox_item(id, &who(name), 30).await.unwrap());
                    let other = if name == "a" { &b } else { &a };
                    store
                        .settle_abandoned_claims(GroupScope::Every, other, &["matrix"])
                        .await
                        .unwrap();
                }
                Before::SentBy(name) => {
                    assert!(store.claim_outbox_item(id, &who(name), 30).await.unwrap());
                    assert!(
                        store
                            .mark_outbox_sent(id, &who(name), "<m@x>", 40)
                            .await
                            .unwrap()
                    );
                }
            }
            let marked = store
                .mark_outbox_sent(id, &who(marker), "<m@x>", 50)
                .await
                .unwrap();
            assert_eq!(marked, written, "case {index}");
            assert_eq!(state_of(&store, id).await, after, "case {index}");
        }
        // A retry or a failure is written only from the claim too.
        let id = stored_effect(&store, "unclaimed", "g1", "mail").await;
        assert!(!store.mark_outbox_retry(id, &a, 99, "down").await.unwrap());
        assert!(!store.mark_outbox_failed(id, &a, "gone").await.unwrap());
        assert_eq!(state_of(&store, id).await, "pending");
    }
);

on_both_backends!(
    abandoned_claims_are_held_unless_the_channel_recognises_a_resend,
    |store: Store| async move {
        let me = claimant("node-a", "2");
        // (channel, claimed by, state after the settlement)
        let cases = [
            // A mail may have left: never resent on its own.
            ("mail", claimant("node-a", "1"), "uncertain"),
            ("mail", claimant("node-b", "1"), "uncertain"),
            // The same device resends with the same transaction ID: the homeserver drops it.
            ("matrix", claimant("node-a", "1"), "pending"),
            // Another device's transaction IDs are not this one's.
            ("matrix", claimant("node-b", "1"), "uncertain"),
            // This process's own claims are under way, not abandoned.
            ("mail", me.clone(), "sending"),
        ];
        let mut ids = Vec::new();
        for (index, (channel, claimed_by, _)) in cases.iter().enumerate() {
            let id = stored_effect(&store, &format!("s{index}"), "g1", channel).await;
            assert!(store.claim_outbox_item(id, claimed_by, 30).await.unwrap());
            ids.push(id);
        }
        // Another group's claims wait for that group's owner.
        let elsewhere = stored_effect(&store, "elsewhere", "g2", "mail").await;
        assert!(
            store
                .claim_outbox_item(elsewhere, &claimant("node-b", "1"), 30)
                .await
                .unwrap()
        );
        let settled = store
            .settle_abandoned_claims(GroupScope::Only(&["g1".to_string()]), &me, &["matrix"])
            .await
            .unwrap();
        assert_eq!(settled.len(), 4);
        for ((channel, claimed_by, expected), id) in cases.iter().zip(&ids) {
            assert_eq!(
                &state_of(&store, *id).await,
                expected,
                "{channel} claimed by {}",
                claimed_by.name()
            );
        }
        assert_eq!(state_of(&store, elsewhere).await, "sending");
        // `uncertain` rows are counted apart, for `rapporteur status` and operators.
        let counts = store.outbox_counts().await.unwrap();
        assert!(counts.contains(&("uncertain".to_string(), 3)), "{counts:?}");
        let g1 = ["g1".to_string()];
        assert_eq!(
            store
                .uncertain_outbox_count(GroupScope::Only(&g1))
                .await
                .unwrap(),
            3
        );
        let g2 = ["g2".to_string()];
        assert_eq!(
            store
                .uncertain_outbox_count(GroupScope::Only(&g2))
                .await
                .unwrap(),
            0
        );
    }
);

on_both_backends!(
    a_process_sees_only_the_groups_it_owns,
    |store: Store| async move {
        let me = claimant("node-a", "1");
        let g1 = stored_effect(&store, "one", "g1", "mail").await;
        let _g2 = stored_effect(&store, "two", "g2", "mail").await;
        let ungrouped = store.enqueue(&[effect("none", "mail")], 0).await.unwrap()[0].id;
        store
            .record_inbound(
                &[
                    message("$in-g1", "g1", "matrix"),
                    message("$in-g2", "g2", "matrix"),
                ],
                None,
                60,
            )
            .await
            .unwrap();
        let owned = ["g1".to_string(), String::new()];
        let scope = GroupScope::Only(&owned);
        let pending = store.pending_inbox_of(scope, 10).await.unwrap();
        assert_eq!(
            pending
                .iter()
                .map(|item| item.external_id.as_str())
                .collect::<Vec<_>>(),
            vec!["$in-g1"]
        );
        assert!(
            store
                .pending_inbox_of(GroupScope::Only(&[]), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.next_outbox_due("mail", scope).await.unwrap(), Some(0));
        let due = store.due_outbox_of("mail", scope, 100, 10).await.unwrap();
        assert_eq!(
            due.iter().map(|item| item.id).collect::<Vec<_>>(),
            vec![g1, ungrouped]
        );
        for item in &due {
            assert!(store.claim_outbox_item(item.id, &me, 100).await.unwrap());
        }
        assert_eq!(store.next_outbox_due("mail", scope).await.unwrap(), None);
        assert_eq!(
            store
                .next_outbox_due("mail", GroupScope::Every)
                .await
                .unwrap(),
            Some(20)
        );
        // Timers: only the owned groups' fire.
        for (group, due) in [("g1", 500), ("g2", 400)] {
            sqlx::query(
                "INSERT INTO timers (group_id, timer_key, due_ms, timer, state, updated_ms) \
                 VALUES ($1, 'R-1:follow-up', $2, '{}', 'pending', 0)",
            )
            .bind(group)
            .bind(due)
            .execute(store.pool())
            .await
            .unwrap();
        }
        assert_eq!(store.next_timer_due_of(scope).await.unwrap(), Some(500));
        let fired = store.fire_due_timers_of(scope, 1_000, 10).await.unwrap();
        assert_eq!(
            fired
                .iter()
                .map(|item| item.group_id.as_str())
                .collect::<Vec<_>>(),
            vec!["g1"]
        );
        assert_eq!(store.next_timer_due_of(scope).await.unwrap(), None);
        assert_eq!(store.next_timer_due().await.unwrap(), Some(400));
    }
);

on_both_backends!(
    a_remote_error_with_a_nul_is_stored_cleaned,
    |store: Store| async move {
        // An SMTP server's or a homeserver's error text is the remote side's: PostgreSQL refuses
        // a NUL in TEXT, which would leave the outcome unwritable and the row claimed forever.
        let me = claimant("node-a", "1");
        let retried = stored_effect(&store, "nul-retry", "g1", "mail").await;
        let failed = stored_effect(&store, "nul-failed", "g1", "mail").await;
        for id in [retried, failed] {
            assert!(store.claim_outbox_item(id, &me, 30).await.unwrap());
        }
        let long = format!("451 busy\0{}", "x".repeat(10_000));
        assert!(
            store
                .mark_outbox_retry(retried, &me, 40, &long)
                .await
                .unwrap()
        );
        assert!(
            store
                .mark_outbox_failed(failed, &me, "550 no\0such user")
                .await
                .unwrap()
        );
        for id in [retried, failed] {
            let (error,): (String,) = sqlx::query_as("SELECT last_error FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert!(!error.contains('\0'), "{error:?}");
            assert!(error.len() <= 2048, "{}", error.len());
        }
    }
);

on_both_backends!(
    replies_stored_claimed_are_sent_only_by_their_claimant_and_come_back_after_a_restart,
    |store: Store| async move {
        // The handler stores a room reply already claimed for its own dispatcher (one commit
        // fewer per command, issue 11); a mail effect of the same batch stays pending for the
        // mail dispatcher's claim.
        let a = claimant("node-a", "1");
        let b = claimant("node-b", "1");
        let recorded = store
            .record_inbound(
                &[
                    message("$first", "g1", "matrix"),
                    message("$second", "g1", "matrix"),
                ],
                None,
                10,
            )
            .await
            .unwrap();
        let completion = |inbox, keys: &[(&str, &str)]| Completion {
            inbox,
            disposition: "executed",
            command: Some("ping"),
            effects: keys
                .iter()
                .map(|(key, channel)| effect(key, channel))
                .collect(),
            reply_limit_key: None,
            changes: Vec::new(),
            timers: Vec::new(),
            ballots: Vec::new(),
            forget_text: false,
        };
        let claim = ClaimAtInsert {
            claimant: &a,
            channels: &["matrix"],
        };
        let stored = store
            .complete_inbox_items_claiming(
                &[
                    completion(
                        &recorded[0],
                        &[("room-reply", "matrix"), ("a-mail", "mail")],
                    ),
                    completion(&recorded[1], &[("second-reply", "matrix")]),
                ],
                20,
                Some(claim),
            )
            .await
            .unwrap();
        let first = stored[0].as_ref().unwrap();
        let (reply, mail) = (&first[0], &first[1]);
        let second_reply = &stored[1].as_ref().unwrap()[0];
        assert!(reply.claimed && !mail.claimed);
        assert_eq!(state_of(&store, reply.id).await, "sending");
        assert_eq!(state_of(&store, mail.id).await, "pending");

        // Nobody else claims it, no scan finds it, and only its claimant marks it sent.
        assert!(!store.claim_outbox_item(reply.id, &b, 30).await.unwrap());
        let due = store
            .due_outbox_of("matrix", GroupScope::Every, 1_000_000, 100)
            .await
            .unwrap();
        assert!(due.is_empty(), "{due:?}");
        assert!(
            !store
                .mark_outbox_sent(reply.id, &b, "$x", 40)
                .await
                .unwrap()
        );
        assert!(
            store
                .mark_outbox_sent(reply.id, &a, "$x", 40)
                .await
                .unwrap()
        );
        assert_eq!(state_of(&store, reply.id).await, "sent");

        // A process killed before it sent the other one: the next run on the same node puts it
        // back to pending (the resend carries the same transaction ID from the same device).
        let next_run = claimant("node-a", "2");
        store
            .settle_abandoned_claims(GroupScope::Every, &next_run, &["matrix"])
            .await
            .unwrap();
        assert_eq!(state_of(&store, second_reply.id).await, "pending");

        // Without a claim, effects are stored pending as before.
        let third = store
            .record_inbound(&[message("$third", "g1", "matrix")], None, 50)
            .await
            .unwrap();
        let stored = store
            .complete_inbox_items_claiming(
                &[completion(&third[0], &[("third-reply", "matrix")])],
                60,
                None,
            )
            .await
            .unwrap();
        let third = &stored[0].as_ref().unwrap()[0];
        assert!(!third.claimed);
        assert_eq!(state_of(&store, third.id).await, "pending");
    }
);
