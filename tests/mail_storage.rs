//! The mail channel's storage and handling rules, run on SQLite and on PostgreSQL alike: the
//! quarantine, redelivery, the one-answer-a-day limit for strangers, and the context a reply to
//! the bot's mail inherits.

mod support;

use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::Group;
use rapporteur::core::engine::Engine;
use rapporteur::handling::{Handler, Routes};
use rapporteur::mail::ingest::{IngestOutcome, MailGroup, MailIngest, ingest_mail};
use rapporteur::mail::outgoing::message_id;
use rapporteur::mail::thread::MailPayload;
use rapporteur::mail::{MailRules, examine_mail};
use rapporteur::storage::{InboxItem, NewQuarantinedMail, Store};
use std::collections::HashMap;
use std::path::Path;

const DOMAIN: &str = "rapporteur.localhost";

fn cip_ccg() -> Group {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
    load_group_file(&path, "cip-ccg", "UTC").expect("example group")
}

fn ingest() -> MailIngest {
    let group = cip_ccg();
    MailIngest {
        rules: MailRules {
            command_prefix: "!".into(),
            message_id_domain: DOMAIN.into(),
            size_limit_bytes: 4096,
            list_addresses: vec!["cip-ccg@lists.example.org".into()],
            trusted_authserv_id: None,
        },
        groups: vec![MailGroup {
            group_id: "cip-ccg".into(),
            list_address: Some("cip-ccg@lists.example.org".into()),
            list_id: Some("cip-ccg.lists.example.org".into()),
            member_addresses: group.people.iter().flat_map(|p| p.emails.clone()).collect(),
        }],
    }
}

fn mail(from: &str, id: &str, subject: &str, body: &str, in_reply_to: Option<&str>) -> Vec<u8> {
    let reply = in_reply_to
        .map(|id| format!("In-Reply-To: {id}\r\nReferences: {id}\r\n"))
        .unwrap_or_default();
    format!(
        "From: {from}\r\nTo: rapporteur@lists.example.org\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n{reply}\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn recorded(store: &Store, raw: &[u8]) -> Option<InboxItem> {
    match ingest_mail(store, &ingest(), raw, "test", None, 1_000)
        .await
        .unwrap()
    {
        IngestOutcome::Recorded(item) => item,
        other => panic!("expected the mail to be recorded, got {other:?}"),
    }
}

async fn handle(store: &Store, items: &[InboxItem]) -> Vec<rapporteur::storage::OutboxItem> {
    let engine = Engine::new(Catalog::builtin().unwrap(), "!");
    let groups = HashMap::from([("cip-ccg".to_string(), cip_ccg())]);
    let mut handler = Handler::load(store, engine, groups, Routes::default())
        .await
        .unwrap();
    handler
        .handle_items(store, items, "2026-11-25T16:00:00Z".parse().unwrap())
        .await
        .unwrap()
        .effects
}

on_both_backends!(
    broken_mail_is_quarantined_once_with_its_bytes,
    |store: Store| async move {
        // Not UTF-8, and larger than the limit of 4096 bytes.
        let mut raw =
            b"From: ana.lima@example.org\r\nMessage-ID: <big@example.org>\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(0xE9u8, 5000));
        let first = ingest_mail(&store, &ingest(), &raw, "pipe", Some(("imap:x", "1:7")), 10)
            .await
            .unwrap();
        let again = ingest_mail(&store, &ingest(), &raw, "imap", None, 20)
            .await
            .unwrap();
        assert_eq!(first, again, "the same mail keeps its quarantine row");
        let IngestOutcome::Quarantined { id, reason } = first else {
            panic!("{first:?}")
        };
        assert_eq!(reason, "too-large");
        assert_eq!(
            store.adapter_state("imap:x").await.unwrap().as_deref(),
            Some("1:7")
        );
        assert_eq!(store.quarantined_raw(id).await.unwrap(), Some(raw.clone()));
        let listed = store.quarantined_mail(true, 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].size_bytes, raw.len() as i64);
        assert_eq!(listed[0].sender.as_deref(), Some("ana.lima@example.org"));
        store.release_quarantined(id, 30).await.unwrap();
        assert!(store.quarantined_mail(true, 10).await.unwrap().is_empty());
        assert_eq!(
            store.quarantined_mail(false, 10).await.unwrap()[0].state,
            "released"
        );
        let other = NewQuarantinedMail {
            external_id: "sha256:00",
            source: "pipe",
            reason: "unparseable",
            sender: None,
            subject: None,
            raw: b"\x00\x01",
        };
        assert_ne!(store.quarantine_mail(other, None, 40).await.unwrap(), id);
    }
);

on_both_backends!(
    a_redelivered_mail_is_recorded_once,
    |store: Store| async move {
        let raw = mail(
            "Ana Lima <ana.lima@example.org>",
            "<a@example.org>",
            "!ping",
            "",
            None,
        );
        assert!(recorded(&store, &raw).await.is_some());
        assert!(
            recorded(&store, &raw).await.is_none(),
            "the second copy is a redelivery"
        );
    }
);

on_both_backends!(
    a_stranger_gets_one_answer_a_day,
    |store: Store| async move {
        let first = recorded(
            &store,
            &mail("x@example.net", "<s1@example.net>", "!ping", "", None),
        )
        .await
        .unwrap();
        let second = recorded(
            &store,
            &mail("x@example.net", "<s2@example.net>", "!help", "", None),
        )
        .await
        .unwrap();
        let member = recorded(
            &store,
            &mail(
                "ana.lima@example.org",
                "<m1@example.org>",
                "!ping",
                "",
                None,
            ),
        )
        .await
        .unwrap();
        let member_again = recorded(
            &store,
            &mail(
                "ana.lima@example.org",
                "<m2@example.org>",
                "!ping",
                "",
                None,
            ),
        )
        .await
        .unwrap();
        let effects = handle(&store, &[first, second, member, member_again]).await;
        let destinations: Vec<&str> = effects.iter().map(|e| e.destination.as_str()).collect();
        assert_eq!(
            destinations,
            [
                "x@example.net",
                "ana.lima@example.org",
                "ana.lima@example.org"
            ],
            "one answer for the stranger, every answer for the member"
        );
    }
);

on_both_backends!(
    a_bare_word_answers_only_mail_the_bot_really_sent,
    |store: Store| async move {
        let question = recorded(
            &store,
            &mail(
                "ana.lima@example.org",
                "<q@example.org>",
                "!whoami",
                "",
                None,
            ),
        )
        .await
        .unwrap();
        let effects = handle(&store, &[question]).await;
        assert_eq!(effects.len(), 1);
        let payload: MailPayload = serde_json::from_str(&effects[0].payload).unwrap();
        assert_eq!(payload.subject, "Re: !whoami");
        assert_eq!(payload.in_reply_to.as_deref(), Some("<q@example.org>"));
        let bot_mail = message_id(&effects[0].idempotency_key, DOMAIN);

        let answer = recorded(
            &store,
            &mail(
                "ana.lima@example.org",
                "<r@example.org>",
                "Re: !whoami",
                "roster\r\n",
                Some(&bot_mail),
            ),
        )
        .await
        .unwrap();
        // The bare word is kept as it was written; the core reads it as `!roster` in the
        // context of the bot's mail.
        assert_eq!(answer.body, "roster");
        let conversation: rapporteur::mail::thread::MailConversation =
            serde_json::from_str(&answer.conversation).unwrap();
        assert!(conversation.bare_word);
        assert_eq!(conversation.answers.as_deref(), Some(bot_mail.as_str()));
        let reply = handle(&store, &[answer]).await;
        assert_eq!(reply.len(), 1);
        let payload: MailPayload = serde_json::from_str(&reply[0].payload).unwrap();
        assert!(payload.plain.starts_with("CIP-CCG ("), "{}", payload.plain);

        let forged_id = format!("<rapporteur-forged@{DOMAIN}>");
        let forged = recorded(
            &store,
            &mail(
                "ana.lima@example.org",
                "<f@example.org>",
                "Re: x",
                "roster\r\n",
                Some(&forged_id),
            ),
        )
        .await
        .unwrap();
        assert_eq!(
            forged.body, "",
            "a Message-ID the bot never sent gives no context"
        );
        // The examination alone sees the answer word; only the store knows it is not the bot's.
        let examined = examine_mail(
            &mail(
                "ana.lima@example.org",
                "<f@example.org>",
                "Re: x",
                "roster\r\n",
                Some(&forged_id),
            ),
            &ingest().rules,
        );
        assert_eq!(examined.answer.as_deref(), Some("roster"));
    }
);
