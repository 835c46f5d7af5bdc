//! The mail channel's storage and handling rules, run on SQLite and on PostgreSQL alike: the
//! quarantine, redelivery, the one-answer-a-day limit for strangers, and the context a reply to
//! the bot's mail inherits, and the group of mail sent straight to the bot by a member of
//! several groups.

mod support;

use rapporteur::config::{Settings, load_group_file, load_settings};
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::Group;
use rapporteur::core::engine::Engine;
use rapporteur::handling::idempotency_key;
use rapporteur::handling::{Handler, Routes};
use rapporteur::mail::group_choice::{Unclear, choice_key};
use rapporteur::mail::ingest::{IngestOutcome, MailGroup, MailIngest, Route, ingest_mail};
use rapporteur::mail::thread::MailPayload;
use rapporteur::mail::{MailRules, Outcome, examine_mail};
use rapporteur::storage::{InboxItem, NewQuarantinedMail, Store};
use std::collections::HashMap;
use std::path::Path;

const DOMAIN: &str = "rapporteur.localhost";

/// The mail identity of the tests' bot (the same secret as its rules').
fn test_identity() -> rapporteur::mail::MailIdentity {
    rapporteur::mail::MailIdentity::from_hex(&[
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    ])
    .expect("a valid secret")
}

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
        // Over the limit: only the header section is kept, with the size of the whole.
        let headers = b"From: ana.lima@example.org\r\nMessage-ID: <big@example.org>\r\n\r\n";
        assert_eq!(
            store.quarantined_raw(id).await.unwrap(),
            Some(headers.to_vec())
        );
        let listed = store.quarantined_mail(true, 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].size_bytes, raw.len() as i64);
        assert_eq!(listed[0].kept_bytes, headers.len() as i64);
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
        let bot_mail = test_identity().message_id(&effects[0].idempotency_key, DOMAIN);

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

        // In the form of the bot's IDs from before they were tagged: only the store can tell
        // that the bot never sent it.
        let forged_id = format!("<rapporteur-0123456789abcdef0123456789abcdef@{DOMAIN}>");
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
        // Any other ID in the bot's domain (a member's client writes them) is no answer to the
        // bot even for the examination.
        let thunderbird_like = examine_mail(
            &mail(
                "ana.lima@example.org",
                "<f2@example.org>",
                "Re: x",
                "roster\r\n",
                Some(&format!("<6b1f0c2e-1d7a-4f6e-9c55-0a1b2c3d4e5f@{DOMAIN}>")),
            ),
            &ingest().rules,
        );
        assert_eq!(thunderbird_like.answer, None);
        assert!(thunderbird_like.answers_to.is_empty());
    }
);

/// The example configuration: CIP-CCG and CCEG-IG, both with a list, the bot at
/// `rapporteur@localhost`, and Ana Lima a member of both.
fn example_settings() -> Settings {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let environment = |name: &str| {
        ["RAPPORTEUR_MATRIX_PASSWORD", "RAPPORTEUR_IMAP_PASSWORD"]
            .contains(&name)
            .then(|| "not-a-real-password".to_string())
    };
    load_settings(&path, &environment).unwrap_or_else(|problems| {
        panic!("config/example.toml: {problems:?}");
    })
}

fn example_ingest() -> MailIngest {
    let settings = example_settings();
    MailIngest::from_settings(
        &settings,
        settings.mail.as_ref().expect("[mail]"),
        test_identity(),
    )
}

const ANA: &str = "Ana Lima <ana.lima@example.org>";
/// In CIP-CCG only.
const KWAME: &str = "kwame.mensah@example.org";
const STRANGER: &str = "x@example.net";

/// A mail of the example configuration, with the given recipients and extra headers, that asks
/// `!whoami` once: in its subject, or else in its text.
fn example_mail(from: &str, to: &str, subject: &str, extra: &str, id: &str) -> Vec<u8> {
    let body = if subject.contains("!whoami") {
        "Thanks."
    } else {
        "!whoami"
    };
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n{extra}\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A route in a line: the group, `none`, or `ask` with why, the groups offered and the groups
/// that know the author.
fn route_summary(route: &Route) -> String {
    let ids = |groups: &[&MailGroup]| {
        groups
            .iter()
            .map(|group| group.group_id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    match route {
        Route::Group(group) => group.group_id.clone(),
        Route::NoGroup => "none".into(),
        Route::Unclear(question) => {
            let why = match &question.why {
                Unclear::UnknownChoice(tag) => format!("unknown({tag})"),
                other => other.name().to_string(),
            };
            format!(
                "ask {why} [{}] member of [{}]",
                ids(&question.options),
                ids(&question.member_of)
            )
        }
    }
}

#[test]
fn the_group_of_a_mail_is_found_or_asked_for() {
    let ingest = example_ingest();
    let bot = "rapporteur@localhost";
    let list = "List-Id: CIP-CCG <cip-ccg.lists.localhost>\r\nPrecedence: list\r\n";
    let both = "[cip-ccg,cceg-ig]";
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // (from, to, subject, extra headers, expected route)
        (ANA, bot, "!whoami", "", "ask several-groups [cip-ccg,cceg-ig] member of [cip-ccg,cceg-ig]"),
        (ANA, "rapporteur+cceg-ig@localhost", "!whoami", "", "cceg-ig"),
        (ANA, "rapporteur+CCEG-IG@localhost", "!whoami", "", "cceg-ig"),
        (ANA, "Rapporteur+Cip-Ccg@LOCALHOST", "!whoami", "", "cip-ccg"),
        (ANA, "x@example.net, rapporteur+cceg-ig@localhost", "!whoami", "", "cceg-ig"),
        (ANA, bot, "[CCEG-IG] !whoami", "", "cceg-ig"),
        (ANA, bot, "Re: [cip-ccg] minutes", "", "cip-ccg"),
        (ANA, bot, "[EXTERNAL] Fwd: [ Cceg-Ig ] agenda", "", "cceg-ig"),
        // A +group is chosen on purpose; the subject may come from an older thread.
        (ANA, "rapporteur+cip-ccg@localhost", "Re: [CCEG-IG] agenda", "", "cip-ccg"),
        // Names that are no group are never passed over for another group.
        (ANA, "rapporteur+nope@localhost", "!whoami", "", &format!("ask unknown(nope) {both} member of {both}")),
        (ANA, "rapporteur+cceg-ig@localhost, rapporteur+nope@localhost", "!whoami", "", &format!("ask unknown(nope) {both} member of {both}")),
        // Bracketed words that name no group are not choices: gateways add their own.
        (ANA, bot, "[EXTERNAL] !whoami", "", &format!("ask several-groups {both} member of {both}")),
        (ANA, "rapporteur+cip-ccg@localhost, rapporteur+cceg-ig@localhost", "!whoami", "", &format!("ask several-choices {both} member of {both}")),
        (ANA, bot, "[CIP-CCG] [CCEG-IG] !whoami", "", &format!("ask several-choices {both} member of {both}")),
        (ANA, "rapporteur+cceg-ig@localhost", "[CCEG-IG] [cceg-ig] !whoami", "", "cceg-ig"),
        // Another domain's sub-address is not the bot's.
        (ANA, "rapporteur+cceg-ig@example.org, rapporteur@localhost", "!whoami", "", &format!("ask several-groups {both} member of {both}")),
        // List mail and mail copied to a list go to that list's group, whatever else it says.
        (ANA, "cceg-ig@lists.localhost", "!whoami", "", "cceg-ig"),
        (ANA, "cceg-ig@lists.localhost, rapporteur+cip-ccg@localhost", "!whoami", "", "cceg-ig"),
        (ANA, "cip-ccg@lists.localhost", "[CIP-CCG] !whoami", list, "cip-ccg"),
        (ANA, "cip-ccg@lists.localhost", "[CCEG-IG] !whoami", list, "cip-ccg"),
        (ANA, "rapporteur+cceg-ig@localhost", "!whoami", list, "cip-ccg"),
        // A member of one group.
        (KWAME, bot, "!whoami", "", "cip-ccg"),
        (KWAME, bot, "[EXTERNAL] !whoami", "", "cip-ccg"),
        (KWAME, "rapporteur+cceg-ig@localhost", "!whoami", "", "cceg-ig"),
        (KWAME, bot, "[CCEG-IG] !whoami", "", "cceg-ig"),
        (KWAME, "rapporteur+typo@localhost", "!whoami", "", &format!("ask unknown(typo) {both} member of [cip-ccg]")),
        // A stranger.
        (STRANGER, bot, "!whoami", "", "none"),
        (STRANGER, bot, "[FOO] !whoami", "", "none"),
        (STRANGER, "rapporteur+cceg-ig@localhost", "!whoami", "", "cceg-ig"),
        (STRANGER, bot, "[cip-ccg] !whoami", "", "cip-ccg"),
        (STRANGER, "rapporteur+typo@localhost", "!whoami", "", &format!("ask unknown(typo) {both} member of []")),
    ];
    for (index, (from, to, subject, extra, expected)) in cases.iter().enumerate() {
        let raw = example_mail(
            from,
            to,
            subject,
            extra,
            &format!("<case{index}@example.org>"),
        );
        let examined = examine_mail(&raw, &ingest.rules);
        assert_eq!(examined.outcome, Outcome::Accepted, "case {index}");
        assert_eq!(
            route_summary(&ingest.group_for(&examined)),
            *expected,
            "case {index}: from {from}, to {to}, subject {subject:?}"
        );
    }
}

#[test]
fn with_one_group_taking_mail_only_a_wrong_sub_address_is_asked_about() {
    let ingest = ingest();
    let bot = "rapporteur@lists.example.org";
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &str)] = &[
        (STRANGER, bot, "!whoami", "cip-ccg"),
        (STRANGER, bot, "[EXTERNAL] !whoami", "cip-ccg"),
        ("ana.lima@example.org", bot, "[CCEG-IG] !whoami", "cip-ccg"),
        ("ana.lima@example.org", "rapporteur+CIP-CCG@lists.example.org", "!whoami", "cip-ccg"),
        ("ana.lima@example.org", "rapporteur+cceg-ig@lists.example.org", "!whoami", "ask unknown(cceg-ig) [cip-ccg] member of [cip-ccg]"),
        (STRANGER, "rapporteur+cceg-ig@lists.example.org", "!whoami", "ask unknown(cceg-ig) [cip-ccg] member of []"),
    ];
    for (index, (from, to, subject, expected)) in cases.iter().enumerate() {
        let raw = example_mail(from, to, subject, "", &format!("<one{index}@example.org>"));
        let examined = examine_mail(&raw, &ingest.rules);
        assert_eq!(
            route_summary(&ingest.group_for(&examined)),
            *expected,
            "case {index}: from {from}, to {to}, subject {subject:?}"
        );
    }
}

/// The mail outbox, as the dispatcher would read it.
async fn mail_outbox(store: &Store) -> Vec<rapporteur::storage::OutboxItem> {
    store.due_outbox("mail", i64::MAX, 100).await.unwrap()
}

on_both_backends!(
    a_member_of_two_groups_is_asked_once_which_group_she_means,
    |store: Store| async move {
        let ingest = example_ingest();
        let raw = example_mail(
            ANA,
            "rapporteur@localhost",
            "!whoami",
            "",
            "<both@example.org>",
        );
        // The same mail read over IMAP, then piped in by the MTA.
        let by_imap = ingest_mail(&store, &ingest, &raw, "imap", Some(("imap:x", "1:7")), 10)
            .await
            .unwrap();
        let by_pipe = ingest_mail(&store, &ingest, &raw, "pipe", None, 20)
            .await
            .unwrap();
        assert_eq!(by_imap, by_pipe, "the same mail keeps its quarantine row");
        let IngestOutcome::Quarantined { id, reason } = by_imap else {
            panic!("{by_imap:?}")
        };
        assert_eq!(reason, "no-group");
        assert_eq!(
            store.adapter_state("imap:x").await.unwrap().as_deref(),
            Some("1:7"),
            "the reader's position is committed"
        );
        assert_eq!(store.quarantined_raw(id).await.unwrap(), Some(raw.clone()));

        let outbox = mail_outbox(&store).await;
        assert_eq!(outbox.len(), 1, "one answer for the mail: {outbox:?}");
        let answer = &outbox[0];
        assert_eq!(answer.idempotency_key, choice_key("<both@example.org>"));
        assert_ne!(
            answer.idempotency_key,
            idempotency_key("mail", "<both@example.org>", 0)
        );
        assert_eq!(answer.destination, "ana.lima@example.org");
        let payload: MailPayload = serde_json::from_str(&answer.payload).unwrap();
        assert_eq!(payload.to, "ana.lima@example.org");
        assert_eq!(payload.to_name.as_deref(), Some("Ana Lima"));
        assert_eq!(payload.subject, "Re: !whoami");
        assert_eq!(payload.in_reply_to.as_deref(), Some("<both@example.org>"));
        assert_eq!(payload.references, ["<both@example.org>"]);
        assert_eq!(payload.auto_submitted, "auto-replied");
        assert_eq!(
            payload.plain,
            "You are in CIP-CCG and CCEG-IG. Say which group you mean: write to \
             rapporteur+cip-ccg@localhost or rapporteur+cceg-ig@localhost, or put [CIP-CCG] or \
             [CCEG-IG] in the subject.\n\
             Nothing in your mail has been done yet: send it again that way."
        );

        // A reply to that answer is a reply to the bot's own mail.
        let bot_mail = test_identity().message_id(&answer.idempotency_key, DOMAIN);
        assert!(
            store
                .sent_mail_answered(std::slice::from_ref(&bot_mail), &test_identity())
                .await
                .unwrap()
                .is_some()
        );

        // Named in the subject, the group is clear: the mail is recorded for CCEG-IG and
        // answered there.
        let tagged = example_mail(
            ANA,
            "rapporteur@localhost",
            "[CCEG-IG] !whoami",
            "",
            "<tagged@example.org>",
        );
        let outcome = ingest_mail(&store, &ingest, &tagged, "pipe", None, 30)
            .await
            .unwrap();
        let IngestOutcome::Recorded(Some(item)) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(item.group_id, "cceg-ig");
        let settings = example_settings();
        let groups = settings
            .groups
            .iter()
            .map(|group| (group.id.clone(), group.group.clone()))
            .collect();
        let engine = Engine::new(Catalog::builtin().unwrap(), "!");
        let mut handler = Handler::load(&store, engine, groups, Routes::default())
            .await
            .unwrap();
        let effects = handler
            .handle_items(&store, &[item], "2026-11-25T16:00:00Z".parse().unwrap())
            .await
            .unwrap()
            .effects;
        assert_eq!(effects.len(), 1);
        let reply: MailPayload = serde_json::from_str(&effects[0].payload).unwrap();
        assert!(
            reply.plain.starts_with("You are Ana Lima in CCEG-IG."),
            "{}",
            reply.plain
        );
        assert_eq!(mail_outbox(&store).await.len(), 2);
    }
);

on_both_backends!(
    strangers_and_wrong_sub_addresses,
    |store: Store| async move {
        let ingest = example_ingest();
        // A stranger is not answered: the mail is held as before.
        let stranger = example_mail(
            STRANGER,
            "rapporteur@localhost",
            "!whoami",
            "",
            "<s@example.net>",
        );
        let outcome = ingest_mail(&store, &ingest, &stranger, "pipe", None, 10)
            .await
            .unwrap();
        assert!(
            matches!(
                outcome,
                IngestOutcome::Quarantined {
                    reason: "no-group",
                    ..
                }
            ),
            "{outcome:?}"
        );
        let typo = example_mail(
            STRANGER,
            "rapporteur+typo@localhost",
            "!whoami",
            "",
            "<t@example.net>",
        );
        let outcome = ingest_mail(&store, &ingest, &typo, "pipe", None, 20)
            .await
            .unwrap();
        assert!(
            matches!(
                outcome,
                IngestOutcome::Quarantined {
                    reason: "no-group",
                    ..
                }
            ),
            "{outcome:?}"
        );
        assert!(
            mail_outbox(&store).await.is_empty(),
            "strangers get no answer"
        );

        // A member of one group who names no group is told which groups there are.
        let member = example_mail(
            KWAME,
            "rapporteur+typo@localhost",
            "!whoami",
            "",
            "<k@example.org>",
        );
        let outcome = ingest_mail(&store, &ingest, &member, "pipe", None, 30)
            .await
            .unwrap();
        assert!(
            matches!(
                outcome,
                IngestOutcome::Quarantined {
                    reason: "no-group",
                    ..
                }
            ),
            "{outcome:?}"
        );
        let outbox = mail_outbox(&store).await;
        assert_eq!(outbox.len(), 1);
        let payload: MailPayload = serde_json::from_str(&outbox[0].payload).unwrap();
        assert_eq!(payload.to, KWAME);
        assert!(
            payload.plain.starts_with(
                "No group that takes mail here is called \u{201c}typo\u{201d}. You are in CIP-CCG."
            ),
            "{}",
            payload.plain
        );
        assert_eq!(store.quarantined_mail(true, 10).await.unwrap().len(), 3);
    }
);

on_both_backends!(
    a_bare_ack_from_a_member_of_two_groups_answers_the_request_of_its_thread,
    |store: Store| async move {
        // CCEG-IG opens a request; Ana, a member of both example groups, gets its mail.
        let settings = example_settings();
        let groups = settings
            .groups
            .iter()
            .map(|group| (group.id.clone(), group.group.clone()))
            .collect();
        let engine = Engine::new(Catalog::builtin().unwrap(), "!");
        let mut handler = Handler::load(
            &store,
            engine,
            groups,
            Routes {
                rooms: Default::default(),
                mail_enabled: true,
            },
        )
        .await
        .unwrap();
        let opened = store
            .record_inbound(
                &[rapporteur::storage::NewInboxItem {
                    channel: "matrix".into(),
                    external_id: "$open".into(),
                    group_id: "cceg-ig".into(),
                    conversation: "!cceg:localhost".into(),
                    sender: "@carlos.mendoza:localhost".into(),
                    body: "!request open \"WSIS+20\" to GNSO".into(),
                    origin_ms: 0,
                }],
                None,
                0,
            )
            .await
            .unwrap();
        let effects = handler
            .handle_items(&store, &opened, "2026-11-25T16:00:00Z".parse().unwrap())
            .await
            .unwrap()
            .effects;
        let to_ana = effects
            .iter()
            .find(|item| item.destination == "ana.lima@example.org")
            .expect("the request mail to Ana");
        let request_mail = test_identity().message_id(&to_ana.idempotency_key, DOMAIN);

        // Her reply: the one word, quoting the request below, sent straight to the bot, under a
        // subject that no longer names the group (so only the thread can tell).
        let ingest = example_ingest();
        let raw = format!(
            "From: {ANA}\r\nTo: rapporteur@localhost\r\nSubject: Re: R-1\r\n\
             Message-ID: <ana-ack@example.org>\r\nIn-Reply-To: {request_mail}\r\n\
             References: {request_mail}\r\n\r\nack\r\n\r\nOn Wed, the bot wrote:\r\n> Feedback request R-1\r\n"
        );
        let outcome = ingest_mail(&store, &ingest, raw.as_bytes(), "pipe", None, 50)
            .await
            .unwrap();
        let IngestOutcome::Recorded(Some(item)) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(item.group_id, "cceg-ig", "the group of the thread");
        let effects = handler
            .handle_items(&store, &[item], "2026-11-26T09:00:00Z".parse().unwrap())
            .await
            .unwrap()
            .effects;
        let reply: MailPayload = serde_json::from_str(&effects[0].payload).unwrap();
        assert!(
            reply
                .plain
                .starts_with("Recorded: GNSO acknowledges R-1 \"WSIS+20\""),
            "{}",
            reply.plain
        );
    }
);

on_both_backends!(
    forged_authors_are_answered_as_strangers_or_kept_aside_with_the_reason,
    |store: Store| async move {
        // Straight to the bot, a " via " display name and X-Original-From / Reply-To naming a
        // member (issue 10, item 1): recorded as Eve's and answered to Eve as a stranger.
        let via = b"From: \"Ana Lima via CIP-CCG\" <eve@evil.example>\r\n\
            X-Original-From: Ana Lima <ana.lima@example.org>\r\nReply-To: ana.lima@example.org\r\n\
            To: rapporteur@lists.example.org\r\nSubject: !whoami\r\nMessage-ID: <via@evil.example>\r\n\r\n";
        let item = recorded(&store, via).await.unwrap();
        assert_eq!(item.sender, "eve@evil.example");
        let effects = handle(&store, &[item]).await;
        assert_eq!(effects.len(), 1);
        assert_eq!(effects[0].destination, "eve@evil.example");
        let reply: MailPayload = serde_json::from_str(&effects[0].payload).unwrap();
        assert!(
            reply.plain.contains("does not list eve@evil.example"),
            "{}",
            reply.plain
        );

        // From set to the list's address, which nothing vouches the list sent: kept aside with
        // the reason, nothing recorded in the inbox.
        let list_from = b"From: \"Ana Lima via CIP-CCG\" <cip-ccg@lists.example.org>\r\n\
            Reply-To: Ana Lima <ana.lima@example.org>\r\nList-Id: <cip-ccg.lists.example.org>\r\n\
            To: cip-ccg@lists.example.org\r\nSubject: !whoami\r\nMessage-ID: <list@evil.example>\r\n\r\n";
        let outcome = ingest_mail(&store, &ingest(), list_from, "test", None, 2_000)
            .await
            .unwrap();
        let IngestOutcome::Quarantined { id, reason } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(reason, "list-not-vouched");
        let listed = store.quarantined_mail(true, 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, id);
        assert_eq!(listed[0].reason, "list-not-vouched");
        assert_eq!(
            listed[0].sender.as_deref(),
            Some("cip-ccg@lists.example.org")
        );

        // A lookalike of a member's address (a Cyrillic а) is a stranger too (item 4).
        let lookalike = "From: Ana Lima <\u{430}na.lima@example.org>\r\n\
            To: rapporteur@lists.example.org\r\nSubject: !whoami\r\nMessage-ID: <look@evil.example>\r\n\r\n";
        let item = recorded(&store, lookalike.as_bytes()).await.unwrap();
        let effects = handle(&store, &[item]).await;
        let reply: MailPayload = serde_json::from_str(&effects[0].payload).unwrap();
        assert!(reply.plain.contains("does not list"), "{}", reply.plain);
    }
);

on_both_backends!(
    list_mail_is_archived_once_whatever_becomes_of_it,
    |store: Store| async move {
        let chat = b"From: Kwame Mensah <kwame.mensah@example.org>\r\n\
To: cip-ccg@lists.example.org\r\nList-Id: CIP-CCG <cip-ccg.lists.example.org>\r\n\
Precedence: list\r\nSubject: [CIP-CCG] Thanks for the call\r\n\
Message-ID: <chat@example.org>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\n\
Thanks all, see you next month.\r\n";
        for _ in 0..2 {
            let outcome = ingest_mail(&store, &ingest(), chat, "test", None, 1_000)
                .await
                .unwrap();
            assert!(matches!(outcome, IngestOutcome::Ignored(_)), "{outcome:?}");
        }
        // A mail to the bot alone is no list message.
        recorded(
            &store,
            &mail(
                "ana.lima@example.org",
                "<direct@example.org>",
                "!whoami",
                "",
                None,
            ),
        )
        .await;
        let archived = store.list_archive("cip-ccg").await.unwrap();
        assert_eq!(archived.len(), 1, "once, and only the list's");
        assert_eq!(archived[0].author, "Kwame Mensah");
        assert_eq!(archived[0].subject, "[CIP-CCG] Thanks for the call");
        // The new message is published soon: the group's publication timer was committed
        // with it.
        let timers = store.timers("cip-ccg").await.unwrap();
        assert!(
            timers.iter().any(|timer| timer.key
                == rapporteur::core::record::publication::PUBLICATION_TIMER_KEY
                && timer.state == "pending"),
            "{timers:?}"
        );
    }
);
