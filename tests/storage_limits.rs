//! No poison message and bounded storage, on SQLite and on PostgreSQL alike: text PostgreSQL
//! refuses (NUL) and keys too long for its indexes are cleaned before they are stored, so every
//! channel goes on; a mail that still cannot be stored is quarantined with its reason; the
//! operator's views (quarantine purge, failed outbox items) and the text of messages that were
//! not commands.

mod support;

use rapporteur::config::load_group_file;
use rapporteur::core::engine::Disposition;
use rapporteur::mail::MailRules;
use rapporteur::mail::ingest::{
    IngestOutcome, MailGroup, MailIngest, ingest_mail, ingest_mail_part,
};
use rapporteur::storage::{NOT_A_COMMAND, NewInboxItem, NewOutboxItem, NewQuarantinedMail, Store};
use std::path::Path;

/// A Message-ID of 5,000 characters that does not compress (PostgreSQL compresses index keys,
/// so a repeated letter would fit in its index and hide the failure), made from `seed`.
fn long_message_id(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let random: String = (0..80)
        .map(|n| hex::encode(Sha256::digest(format!("{seed}{n}").as_bytes())))
        .collect();
    format!("<{}@example.org>", &random[..5000])
}

fn ingest() -> MailIngest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
    let group = load_group_file(&path, "cip-ccg", "UTC").expect("example group");
    MailIngest {
        rules: MailRules {
            command_prefix: "!".into(),
            message_id_domain: "rapporteur.localhost".into(),
            identity: rapporteur::mail::MailIdentity::from_hex(&[
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            ])
            .expect("a valid secret"),
            size_limit_bytes: 4096,
            list_addresses: vec!["cip-ccg@lists.example.org".into()],
            trusted_authserv_id: None,
            list_trust: Default::default(),
        },
        groups: vec![MailGroup {
            group_id: "cip-ccg".into(),
            short_name: group.short_name.clone(),
            list_address: Some("cip-ccg@lists.example.org".into()),
            list_id: Some("cip-ccg.lists.example.org".into()),
            member_addresses: group.people.iter().flat_map(|p| p.emails.clone()).collect(),
        }],
        bot_address: "rapporteur@lists.example.org".into(),
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

/// A mail from a member of the example group, with the given Message-ID and body.
fn member_mail(message_id: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Kwame Mensah <kwame.mensah@example.org>\r\nTo: cip-ccg@lists.example.org\r\n\
         Subject: commands\r\nMessage-ID: {message_id}\r\n{extra_headers}\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn stored_body(store: &Store, external_id: &str) -> String {
    let (body,): (String,) = sqlx::query_as("SELECT body FROM inbox WHERE external_id = $1")
        .bind(external_id)
        .fetch_one(store.pool())
        .await
        .expect("the message is stored");
    body
}

on_both_backends!(
    text_with_nul_is_stored_cleaned_and_the_batch_goes_on,
    |store: Store| async move {
        // A Matrix batch as the sync loop records it: one event with a NUL between two
        // ordinary ones. Before, PostgreSQL refused the whole batch, every time.
        let recorded = store
            .record_inbound(
                &[
                    message("$before", "!ping"),
                    message("$nul", "!ping \u{0}hello"),
                    message("$after", "!help"),
                ],
                Some(("matrix.sync_token", "t1")),
                10,
            )
            .await
            .expect("a NUL does not fail the batch");
        assert_eq!(recorded.len(), 3);
        assert_eq!(recorded[1].body, "!ping \u{FFFD}hello");
        assert_eq!(stored_body(&store, "$nul").await, "!ping \u{FFFD}hello");
        assert_eq!(
            store
                .adapter_state("matrix.sync_token")
                .await
                .unwrap()
                .as_deref(),
            Some("t1")
        );
    }
);

on_both_backends!(
    a_very_long_external_id_is_stored_as_a_stable_hash_and_deduplicated,
    |store: Store| async move {
        let long_id = long_message_id("x");
        let first = store
            .record_inbound(&[message(&long_id, "!ping")], None, 10)
            .await
            .expect("a 5,000-character ID is stored");
        assert_eq!(first.len(), 1);
        assert!(
            first[0].external_id.starts_with("long-id:sha256:"),
            "{}",
            first[0].external_id
        );
        let again = store
            .record_inbound(&[message(&long_id, "!ping")], None, 20)
            .await
            .unwrap();
        assert!(again.is_empty(), "the redelivery is recognised");
        assert!(store.inbox_contains("matrix", &long_id).await.unwrap());
    }
);

on_both_backends!(
    a_mail_with_a_nul_command_line_and_a_long_message_id_is_recorded_once,
    |store: Store| async move {
        let mut ingest = ingest();
        ingest.rules.size_limit_bytes = 1_000_000;
        // Quoted-printable `=00` in the command line: a NUL once decoded.
        let nul_mail = member_mail(
            "<nul@example.org>",
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
            "!status R-1=00",
        );
        let outcome = ingest_mail(&store, &ingest, &nul_mail, "pipe", None, 10)
            .await
            .expect("the mail is stored, not refused");
        let IngestOutcome::Recorded(Some(item)) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(item.body, "!status R-1\u{FFFD}");

        let long_id = long_message_id("y");
        let long_mail = member_mail(&long_id, "", "!ping");
        let first = ingest_mail(&store, &ingest, &long_mail, "pipe", None, 20)
            .await
            .expect("the mail is stored, not refused");
        let IngestOutcome::Recorded(Some(item)) = first else {
            panic!("{first:?}")
        };
        assert!(item.external_id.starts_with("long-id:sha256:"));
        // The thread keeps no ID too long for a header line.
        assert!(!item.conversation.contains(&long_id));
        let again = ingest_mail(&store, &ingest, &long_mail, "imap", None, 30)
            .await
            .unwrap();
        assert_eq!(again, IngestOutcome::Recorded(None), "a redelivery");
    }
);

on_both_backends!(
    references_and_command_lines_are_bounded_before_they_are_stored,
    |store: Store| async move {
        let references: Vec<String> = (0..500).map(|n| format!("<ref{n}@example.org>")).collect();
        let headers = format!("References: {}\r\n", references.join(" "));
        let long_line = format!("!respond R-1 support-with-comments {}", "z".repeat(10_000));
        let mut raw = member_mail("<bounded@example.org>", &headers, &long_line);
        let mut ingest = ingest();
        ingest.rules.size_limit_bytes = 1_000_000;
        raw.extend_from_slice(b"\r\n");
        let outcome = ingest_mail(&store, &ingest, &raw, "pipe", None, 10)
            .await
            .unwrap();
        let IngestOutcome::Recorded(Some(item)) = outcome else {
            panic!("{outcome:?}")
        };
        let conversation: serde_json::Value = serde_json::from_str(&item.conversation).unwrap();
        let kept = conversation["references"].as_array().unwrap();
        assert_eq!(kept.len(), rapporteur::mail::ingest::THREAD_REFERENCES);
        assert_eq!(
            kept.last().unwrap(),
            "<bounded@example.org>",
            "the nearest are kept"
        );
        assert_eq!(
            item.body.chars().count(),
            rapporteur::core::several::COMMAND_LINE_CHARACTERS + 1,
            "a line over the cap is cut just past it, so the core still says it is too long"
        );
    }
);

on_both_backends!(
    a_mail_over_the_limit_keeps_its_headers_and_size_only,
    |store: Store| async move {
        let ingest = ingest();
        let mut raw = member_mail("<large@example.org>", "", "!ping");
        let header_length = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        raw.extend(std::iter::repeat_n(b'x', 10_000));
        // As `ingest-mail` reads it: the first limit + 1 bytes, and the size of the whole.
        let whole = raw.len() as u64 + 1_000_000;
        let outcome = ingest_mail_part(&store, &ingest, &raw[..4097], whole, "pipe", None, 10)
            .await
            .unwrap();
        let IngestOutcome::Quarantined { id, reason } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(reason, "too-large");
        let (kept, size) = store.quarantined_raw_and_size(id).await.unwrap().unwrap();
        assert_eq!(kept, raw[..header_length].to_vec());
        assert_eq!(size, whole as i64);
        let listed = store.quarantined_mail(true, 10).await.unwrap();
        assert_eq!(listed[0].external_id, "<large@example.org>");
        assert_eq!(
            (listed[0].size_bytes, listed[0].kept_bytes),
            (whole as i64, header_length as i64)
        );
    }
);

on_both_backends!(
    the_quarantine_cleans_its_text_fields,
    |store: Store| async move {
        let long_id = long_message_id("q");
        let mail = NewQuarantinedMail {
            external_id: &long_id,
            source: "pipe",
            reason: "unparseable",
            sender: Some("a\u{0}b@example.org"),
            subject: Some("sub\u{0}ject"),
            raw: b"\x00\xff raw bytes are kept as they are",
        };
        let id = store.quarantine_mail(mail, None, 10).await.expect("stored");
        assert_eq!(store.quarantine_mail(mail, None, 20).await.unwrap(), id);
        let listed = store.quarantined_mail(true, 10).await.unwrap();
        assert_eq!(listed[0].subject.as_deref(), Some("sub\u{FFFD}ject"));
        assert_eq!(
            store.quarantined_raw(id).await.unwrap().unwrap(),
            b"\x00\xff raw bytes are kept as they are".to_vec()
        );
    }
);

on_both_backends!(
    purge_deletes_only_quarantined_mail_older_than_asked,
    |store: Store| async move {
        for (id, received_ms) in [("<old@x>", 1_000), ("<mid@x>", 5_000), ("<new@x>", 9_000)] {
            let mail = NewQuarantinedMail {
                external_id: id,
                source: "pipe",
                reason: "unparseable",
                sender: None,
                subject: None,
                raw: b"x",
            };
            store
                .quarantine_mail(mail, None, received_ms)
                .await
                .unwrap();
        }
        let listed = store.quarantined_mail(true, 10).await.unwrap();
        store
            .release_quarantined(listed[2].id, 2_000)
            .await
            .unwrap();
        assert_eq!(store.purge_quarantine(5_000).await.unwrap(), 1);
        let left: Vec<String> = store
            .quarantined_mail(false, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.external_id)
            .collect();
        assert_eq!(left, ["<new@x>", "<mid@x>"]);
        assert_eq!(store.purge_quarantine(100_000).await.unwrap(), 2);
        assert!(store.quarantined_mail(false, 10).await.unwrap().is_empty());
    }
);

fn outbox_item(key: &str) -> NewOutboxItem {
    NewOutboxItem {
        idempotency_key: key.into(),
        channel: "mail".into(),
        destination: "someone@example.org".into(),
        payload: "{}".into(),
        about: Some("R-1".into()),
    }
}

on_both_backends!(
    failed_outbox_items_are_listed_and_queued_again,
    |store: Store| async move {
        let stored = store
            .enqueue(
                &[outbox_item("k1"), outbox_item("k2"), outbox_item("k3")],
                10,
            )
            .await
            .unwrap();
        // Only the dispatcher that claimed a row writes its outcome (see `crate::ownership`).
        let claimant = rapporteur::storage::Claimant {
            node: "test".into(),
            instance: "1".into(),
        };
        for id in [stored[0].id, stored[1].id] {
            assert!(store.claim_outbox_item(id, &claimant, 0).await.unwrap());
        }
        assert!(
            store
                .mark_outbox_failed(stored[0].id, &claimant, "550 no such user")
                .await
                .unwrap()
        );
        assert!(
            store
                .mark_outbox_failed(stored[1].id, &claimant, "550 mailbox full")
                .await
                .unwrap()
        );
        let failed = store.failed_outbox(10).await.unwrap();
        let ids: Vec<i64> = failed.iter().map(|item| item.id).collect();
        assert_eq!(ids, [stored[1].id, stored[0].id], "newest first");
        assert_eq!(failed[1].last_error.as_deref(), Some("550 no such user"));
        assert_eq!(failed[1].about.as_deref(), Some("R-1"));

        // A pending item is not "retried" (it would be sent twice): nothing moves.
        assert!(
            store
                .retry_failed_outbox(Some(stored[2].id), 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .retry_failed_outbox(Some(stored[0].id), 50)
                .await
                .unwrap(),
            [stored[0].id]
        );
        let due: Vec<i64> = store
            .due_outbox("mail", 50, 10)
            .await
            .unwrap()
            .iter()
            .map(|item| item.id)
            .collect();
        assert_eq!(due, [stored[0].id, stored[2].id]);
        assert_eq!(
            store.retry_failed_outbox(None, 60).await.unwrap(),
            [stored[1].id]
        );
        assert!(store.failed_outbox(10).await.unwrap().is_empty());

        // A mail whose process died while sending it is held as uncertain: listed, and sent
        // again only when the operator asks.
        let held = store
            .enqueue(&[outbox_item("k4")], 10)
            .await
            .unwrap()
            .remove(0)
            .id;
        let dead = rapporteur::storage::Claimant {
            node: "dead".into(),
            instance: "1".into(),
        };
        assert!(store.claim_outbox_item(held, &dead, 70).await.unwrap());
        let settled = store
            .settle_abandoned_claims(rapporteur::storage::GroupScope::Every, &claimant, &[])
            .await
            .unwrap();
        assert_eq!(settled.len(), 1);
        let listed = store.failed_outbox(10).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|item| (item.id, item.state.as_str()))
                .collect::<Vec<_>>(),
            [(held, "uncertain")]
        );
        assert_eq!(store.retry_failed_outbox(None, 80).await.unwrap(), [held]);
        assert!(store.failed_outbox(10).await.unwrap().is_empty());
        assert!(
            store.claim_outbox_item(held, &claimant, 90).await.unwrap(),
            "requeued and unclaimed"
        );
    }
);

on_both_backends!(
    the_text_of_messages_that_were_not_commands_is_not_kept,
    |store: Store| async move {
        assert_eq!(Disposition::NotACommand.name(), NOT_A_COMMAND);
        let recorded = store
            .record_inbound(
                &[
                    message("$talk", "lunch at noon?"),
                    message("$command", "!ping"),
                ],
                None,
                10,
            )
            .await
            .unwrap();
        store
            .complete_inbox_item(&recorded[0], NOT_A_COMMAND, None, &[], 20)
            .await
            .unwrap();
        store
            .complete_inbox_item(&recorded[1], "executed", Some("ping"), &[], 20)
            .await
            .unwrap();
        assert_eq!(stored_body(&store, "$talk").await, "");
        assert_eq!(stored_body(&store, "$command").await, "!ping");
    }
);

/// On a PostgreSQL database in LATIN1, text outside Latin-1 cannot be stored at all: the one
/// kind of permanent refusal that cleaning cannot prevent, made on purpose. Such a mail is
/// quarantined as `cannot-store` (the next mail is recorded as usual) instead of failing every
/// time it is tried.
#[tokio::test]
async fn a_mail_that_cannot_be_stored_is_quarantined_and_the_next_goes_on() {
    let Some(url) = support::fresh_postgres_url_in_encoding("LATIN1").await else {
        return;
    };
    let store = Store::connect(&url, 2).await.expect("connect");
    store.migrate().await.expect("migrate");
    let ingest = ingest();
    let refused = member_mail(
        "<cyrillic@example.org>",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "!respond R-1 support-with-comments \u{0414}\u{0430}",
    );
    let outcome = ingest_mail(
        &store,
        &ingest,
        &refused,
        "imap",
        Some(("imap:x", "1:5")),
        10,
    )
    .await
    .expect("not an error: quarantined");
    let IngestOutcome::Quarantined { id, reason } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(reason, "cannot-store");
    assert_eq!(
        store.adapter_state("imap:x").await.unwrap().as_deref(),
        Some("1:5"),
        "the reader's position moves past it"
    );
    assert_eq!(
        store.quarantined_raw(id).await.unwrap().unwrap(),
        refused,
        "kept whole for the operator"
    );
    let next = member_mail("<next@example.org>", "", "!ping");
    let outcome = ingest_mail(&store, &ingest, &next, "imap", Some(("imap:x", "1:6")), 20)
        .await
        .unwrap();
    assert!(
        matches!(outcome, IngestOutcome::Recorded(Some(_))),
        "{outcome:?}"
    );
}
