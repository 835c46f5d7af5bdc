//! The rate limits (issue 10, item 14) as the handler applies them over stored counts, on SQLite
//! and on PostgreSQL alike: a mail sender is answered up to the limit, told once, then left
//! alone until the window has passed, within one batch and across batches; an address gets no
//! more mail than its limit, whoever asks for it.

mod support;

use jiff::{SignedDuration, Timestamp};
use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::engine::Engine;
use rapporteur::core::rate_limits::{RateLimits, SenderHistory};
use rapporteur::handling::{Handler, HandlerLimits, Routes};
use rapporteur::mail::MAIL_CHANNEL;
use rapporteur::mail::MailRules;
use rapporteur::mail::ingest::{IngestOutcome, MailGroup, MailIngest, ingest_mail};
use rapporteur::mail::thread::MailPayload;
use rapporteur::storage::{InboxItem, OutboxItem, Store};
use std::collections::HashMap;
use std::path::Path;

const MEMBER: &str = "ana.lima@example.org";

fn ingest() -> MailIngest {
    MailIngest {
        rules: MailRules {
            command_prefix: "!".into(),
            message_id_domain: "rapporteur.localhost".into(),
            identity: rapporteur::mail::MailIdentity::from_hex(&[
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            ])
            .expect("a valid secret"),
            size_limit_bytes: 65_536,
            list_addresses: vec!["cip-ccg@lists.example.org".into()],
            trusted_authserv_id: None,
            list_trust: Default::default(),
        },
        groups: vec![MailGroup {
            group_id: "cip-ccg".into(),
            short_name: "CIP-CCG".into(),
            list_address: Some("cip-ccg@lists.example.org".into()),
            list_id: Some("cip-ccg.lists.example.org".into()),
            member_addresses: vec![MEMBER.into()],
        }],
        bot_address: "rapporteur@lists.example.org".into(),
    }
}

async fn handler(store: &Store, answers_per_sender: u32, mails_per_address: u32) -> Handler {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
    let group = load_group_file(&path, "cip-ccg", "UTC").expect("example group");
    let engine = Engine::new(Catalog::builtin().expect("valid"), "!");
    let groups = HashMap::from([("cip-ccg".to_string(), group)]);
    let mut handler = Handler::load(store, engine, groups, Routes::default())
        .await
        .expect("handler");
    handler.rate_limits = HandlerLimits::configured(RateLimits {
        window: SignedDuration::from_mins(60),
        answers_per_sender,
        mails_per_address,
    });
    handler
}

/// Mails from the member with these bodies, recorded at `at`.
async fn mails(store: &Store, run: &str, bodies: &[&str], at: Timestamp) -> Vec<InboxItem> {
    let mut items = Vec::new();
    for (index, body) in bodies.iter().enumerate() {
        let raw = format!(
            "From: Ana Lima <{MEMBER}>\r\nTo: rapporteur@lists.example.org\r\nSubject: hello\r\n\
             Message-ID: <{run}-{index}@example.org>\r\n\r\n{body}\r\n"
        );
        match ingest_mail(
            store,
            &ingest(),
            raw.as_bytes(),
            "test",
            None,
            at.as_millisecond(),
        )
        .await
        .expect("ingest")
        {
            IngestOutcome::Recorded(Some(item)) => items.push(item),
            other => panic!("not recorded: {other:?}"),
        }
    }
    items
}

/// The plain text of each mail among the effects, to `to`.
fn texts_to(effects: &[OutboxItem], to: &str) -> Vec<String> {
    effects
        .iter()
        .filter(|item| item.channel == MAIL_CHANNEL && item.destination == to)
        .map(|item| {
            let payload: MailPayload = serde_json::from_str(&item.payload).expect("payload");
            payload.plain
        })
        .collect()
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("RFC 3339")
}

on_both_backends!(
    a_mail_sender_is_answered_up_to_the_limit_told_once_then_left_alone,
    |store: Store| async move {
        let mut handler = handler(&store, 3, 1_000).await;
        let start = at("2026-12-07T10:00:00Z");
        // Five commands in one batch: three answered, the fourth gets the notice, the fifth
        // nothing.
        let batch = mails(&store, "first", &["!ping"; 5], start).await;
        let handled = handler.handle_items(&store, &batch, start).await.unwrap();
        let texts = texts_to(&handled.effects, MEMBER);
        assert_eq!(texts.len(), 4, "{texts:#?}");
        assert!(
            texts[..3].iter().all(|text| text.contains("pong")),
            "{texts:#?}"
        );
        assert!(
            texts[3].contains("I have answered 3 of your messages in the last 60 minutes"),
            "{}",
            texts[3]
        );
        assert_eq!(
            store
                .sender_history(MAIL_CHANNEL, MEMBER, start.as_millisecond())
                .await
                .unwrap(),
            SenderHistory {
                answered: 3,
                told_of_limit: true
            }
        );
        // Ten minutes later, in another batch, the stored counts keep the sender quiet; a
        // command is not carried out either.
        let later = start + SignedDuration::from_mins(10);
        let batch = mails(
            &store,
            "second",
            &["!ping", "!request open \"Budget\" to all"],
            later,
        )
        .await;
        let handled = handler.handle_items(&store, &batch, later).await.unwrap();
        assert!(handled.effects.is_empty(), "{:?}", handled.effects);
        assert!(
            handler
                .state("cip-ccg")
                .is_none_or(|state| state.requests.is_empty()),
            "a command over the limit is not carried out"
        );
        // Once the window has passed, the sender is answered again.
        let next_hour = start + SignedDuration::from_mins(61);
        let batch = mails(&store, "third", &["!ping"], next_hour).await;
        let handled = handler
            .handle_items(&store, &batch, next_hour)
            .await
            .unwrap();
        let texts = texts_to(&handled.effects, MEMBER);
        assert_eq!(texts.len(), 1);
        assert!(texts[0].contains("pong"), "{}", texts[0]);
        assert_eq!(
            store
                .sender_history(MAIL_CHANNEL, MEMBER, next_hour.as_millisecond() - 60_000)
                .await
                .unwrap(),
            SenderHistory {
                answered: 1,
                told_of_limit: false
            }
        );
    }
);

on_both_backends!(
    an_address_gets_no_more_mail_than_its_limit,
    |store: Store| async move {
        let mut handler = handler(&store, 1_000, 2).await;
        let start = at("2026-12-07T10:00:00Z");
        let batch = mails(&store, "first", &["!ping"; 3], start).await;
        let handled = handler.handle_items(&store, &batch, start).await.unwrap();
        assert_eq!(texts_to(&handled.effects, MEMBER).len(), 2);
        assert_eq!(
            store
                .mails_queued_for(MEMBER, start.as_millisecond())
                .await
                .unwrap(),
            2
        );
        // The stored count holds across batches, and lapses with the window.
        let later = start + SignedDuration::from_mins(30);
        let batch = mails(&store, "second", &["!ping"], later).await;
        let handled = handler.handle_items(&store, &batch, later).await.unwrap();
        assert!(handled.effects.is_empty());
        let next_hour = start + SignedDuration::from_mins(61);
        let batch = mails(&store, "third", &["!ping"], next_hour).await;
        let handled = handler
            .handle_items(&store, &batch, next_hour)
            .await
            .unwrap();
        assert_eq!(texts_to(&handled.effects, MEMBER).len(), 1);
    }
);

on_both_backends!(
    without_configured_limits_nothing_is_limited,
    |store: Store| async move {
        let mut handler = handler(&store, 1, 1).await;
        handler.rate_limits = HandlerLimits::none();
        let start = at("2026-12-07T10:00:00Z");
        let batch = mails(&store, "first", &["!ping"; 4], start).await;
        let handled = handler.handle_items(&store, &batch, start).await.unwrap();
        assert_eq!(texts_to(&handled.effects, MEMBER).len(), 4);
    }
);
