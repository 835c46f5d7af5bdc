//! The golden corpus: every `tests/mail/corpus/*.eml` is examined and compared with the
//! expectation written beside it in `*.toml` (outcome, reason, author, list, commands, answer and
//! which of the bot's messages it answers). All differences are reported together.

use rapporteur::mail::{ListAuthorHeader, ListTrust, MailRules, examine_mail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    outcome: String,
    reason: String,
    author: String,
    list_id: String,
    message_id: String,
    commands: Vec<String>,
    answer: String,
    answers_to: Vec<String>,
}

fn corpus_rules() -> MailRules {
    MailRules {
        command_prefix: "!".to_string(),
        message_id_domain: "rapporteur.localhost".to_string(),
        identity: rapporteur::mail::MailIdentity::from_hex(&[
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ])
        .expect("a valid secret"),
        size_limit_bytes: 1_048_576,
        list_addresses: vec!["cip-ccg@lists.example.org".to_string()],
        trusted_authserv_id: None,
        // The corpus's receiving server and list server (see tests/mail/corpus/README.md).
        list_trust: ListTrust {
            receiving_host: Some("mx.lists.example.org".to_string()),
            list_server_hosts: vec!["mail.lists.example.org".to_string()],
            author_header: ListAuthorHeader::ReplyTo,
        },
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("tests/mail/corpus exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_message_yields_what_its_expectation_says() {
    let files = corpus_files();
    assert!(
        files.len() >= 30,
        "the corpus has {} messages, fewer than 30",
        files.len()
    );
    let rules = corpus_rules();
    let mut differences = Vec::new();
    for eml in &files {
        let name = eml.file_name().unwrap().to_string_lossy().to_string();
        let expectation_text = std::fs::read_to_string(eml.with_extension("toml"))
            .unwrap_or_else(|error| panic!("{name}: no expectation file: {error}"));
        let expected: Expectation = toml::from_str(&expectation_text)
            .unwrap_or_else(|error| panic!("{name}: bad expectation: {error}"));
        let raw = std::fs::read(eml).expect("readable corpus file");
        let examined = examine_mail(&raw, &rules);
        let actual = Expectation {
            outcome: examined.outcome.name().to_string(),
            reason: examined.outcome.reason().to_string(),
            author: examined.author.clone().unwrap_or_default(),
            list_id: examined.list_id.clone().unwrap_or_default(),
            message_id: examined.message_id.clone().unwrap_or_default(),
            commands: examined.commands.clone(),
            answer: examined.answer.clone().unwrap_or_default(),
            answers_to: examined.answers_to.clone(),
        };
        let mut mismatch = |field: &str, expected: String, actual: String| {
            if expected != actual {
                differences.push(format!(
                    "{name}: {field}: expected {expected}, got {actual}"
                ));
            }
        };
        // Quarantined mail is not read beyond its headers, so only outcome and reason count.
        mismatch("outcome", expected.outcome.clone(), actual.outcome);
        mismatch("reason", expected.reason, actual.reason);
        if expected.outcome == "quarantined" {
            continue;
        }
        mismatch("author", expected.author, actual.author);
        mismatch("list_id", expected.list_id, actual.list_id);
        mismatch("message_id", expected.message_id, actual.message_id);
        mismatch(
            "commands",
            format!("{:?}", expected.commands),
            format!("{:?}", actual.commands),
        );
        mismatch("answer", expected.answer, actual.answer);
        mismatch(
            "answers_to",
            format!("{:?}", expected.answers_to),
            format!("{:?}", actual.answers_to),
        );
        // Nothing taken from a mail may carry a line break into a header of the reply.
        for text in [
            &examined.subject,
            examined.author.as_ref().unwrap_or(&String::new()),
        ] {
            assert!(
                !text.contains(['\r', '\n']),
                "{name}: line break kept in {text:?}"
            );
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[test]
fn a_message_without_message_id_gets_the_same_id_after_relays_add_headers() {
    let original = b"From: Ana Lima <ana.lima@example.org>\r\nTo: cip-ccg@lists.example.org\r\nSubject: !ping\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n";
    let mut relayed = b"Return-Path: <ana.lima@example.org>\r\nDelivered-To: rapporteur@localhost\r\nReceived: from x by y; Wed, 25 Nov 2026 10:00:01 +0000\r\n".to_vec();
    relayed.extend_from_slice(original);
    let rules = corpus_rules();
    let first = examine_mail(original, &rules);
    let second = examine_mail(&relayed, &rules);
    assert!(first.external_id.starts_with("sha256:"));
    assert_eq!(first.external_id, second.external_id);
    let mut edited = original.to_vec();
    edited.extend_from_slice(b"more\r\n");
    assert_ne!(examine_mail(&edited, &rules).external_id, first.external_id);
}

#[test]
fn only_the_trusted_server_can_vouch_for_a_sender() {
    let mut rules = corpus_rules();
    rules.trusted_authserv_id = Some("mx.example.org".to_string());
    let message = |results: &str| {
        format!(
            "{results}From: ana.lima@example.org\r\nMessage-ID: <a@example.org>\r\nSubject: !ping\r\n\r\n"
        )
    };
    let cases = [
        (
            "Authentication-Results: mx.example.org; dkim=pass header.d=example.org\r\n",
            "accepted",
        ),
        (
            "Authentication-Results: mx.example.org; dkim=fail; spf=pass smtp.mailfrom=ana.lima@example.org\r\n",
            "accepted",
        ),
        (
            "Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\r\n",
            "accepted",
        ),
        // A pass for another domain says nothing about the From address (issue 10, item 2).
        (
            "Authentication-Results: mx.example.org; dkim=fail; spf=pass smtp.mailfrom=x\r\n",
            "quarantined",
        ),
        (
            "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=eve@evil.example\r\n",
            "quarantined",
        ),
        (
            "Authentication-Results: mx.example.org; dkim=pass header.d=evil.example\r\n",
            "quarantined",
        ),
        (
            "Authentication-Results: mx.example.org; dmarc=pass header.from=evil.example\r\n",
            "quarantined",
        ),
        // Only the topmost header of the trusted server counts: a forged pass below a real
        // fail is ignored, whatever it says.
        (
            "Authentication-Results: mx.example.org; dkim=fail header.d=example.org; spf=fail smtp.mailfrom=example.org\r\n\
             Authentication-Results: mx.example.org; dkim=pass header.d=example.org\r\n",
            "quarantined",
        ),
        (
            "Authentication-Results: mx.example.org; dkim=fail; spf=softfail\r\n",
            "quarantined",
        ),
        (
            "Authentication-Results: evil.example; dkim=pass\r\n",
            "quarantined",
        ),
        ("", "quarantined"),
    ];
    for (header, expected) in cases {
        let examined = examine_mail(message(header).as_bytes(), &rules);
        assert_eq!(examined.outcome.name(), expected, "for {header:?}");
    }
}

/// A list's rewritten author is believed when the trusted server's topmost
/// Authentication-Results shows a DKIM pass for the list's domain (issue 10, item 1), and only
/// then; the Received route is covered by the corpus.
#[test]
fn a_dkim_pass_of_the_lists_domain_vouches_for_the_list() {
    let mut rules = corpus_rules();
    rules.trusted_authserv_id = Some("mx.example.org".to_string());
    rules.list_trust = ListTrust::default();
    let message = |results: &str| {
        format!(
            "{results}From: \"Ana Lima via CIP-CCG\" <cip-ccg@lists.example.org>\r\n\
             Reply-To: Ana Lima <ana.lima@example.org>\r\nList-Id: <cip-ccg.lists.example.org>\r\n\
             Message-ID: <b@example.org>\r\nSubject: !ping\r\n\r\n"
        )
    };
    let cases = [
        (
            "Authentication-Results: mx.example.org; dkim=pass header.d=lists.example.org\r\n",
            "accepted",
            "ana.lima@example.org",
        ),
        // An SPF pass proves where the envelope came from, not who wrote Reply-To.
        (
            "Authentication-Results: mx.example.org; dkim=none; spf=pass smtp.mailfrom=lists.example.org; dmarc=pass header.from=lists.example.org\r\n",
            "list-not-vouched",
            "cip-ccg@lists.example.org",
        ),
        // A DKIM pass of another domain (SPF lets the mail through the From check).
        (
            "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=lists.example.org; dkim=pass header.d=evil.example\r\n",
            "list-not-vouched",
            "cip-ccg@lists.example.org",
        ),
        // A forged DKIM pass below the receiving server's real result.
        (
            "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=lists.example.org; dkim=fail header.d=lists.example.org\r\n\
             Authentication-Results: mx.example.org; dkim=pass header.d=lists.example.org\r\n",
            "list-not-vouched",
            "cip-ccg@lists.example.org",
        ),
    ];
    for (header, expected_reason, expected_author) in cases {
        let examined = examine_mail(message(header).as_bytes(), &rules);
        let reason = match examined.outcome.reason() {
            "" => examined.outcome.name(),
            reason => reason,
        };
        assert_eq!(reason, expected_reason, "for {header:?}");
        assert_eq!(
            examined.author.as_deref(),
            Some(expected_author),
            "for {header:?}"
        );
    }
}

/// The old rule took X-Original-From whenever From's display name said " via ": with a
/// Google Groups-style list configured, only mail from the list's address is read that way.
#[test]
fn x_original_from_is_read_only_from_the_lists_own_mail() {
    let mut rules = corpus_rules();
    rules.list_trust.author_header = ListAuthorHeader::XOriginalFrom;
    let received = "Received: from mail.lists.example.org (mail.lists.example.org [192.0.2.25])\r\n\
                    \tby mx.lists.example.org (Postfix) with ESMTPS id A; Thu, 26 Nov 2026 09:00:02 +0000\r\n";
    let message = |received: &str, from: &str| {
        format!(
            "{received}From: {from}\r\nX-Original-From: Ana Lima <ana.lima@example.org>\r\n\
             Reply-To: Eve <eve@evil.example>\r\nMessage-ID: <c@example.org>\r\nSubject: !ping\r\n\r\n"
        )
    };
    let cases = [
        (
            received,
            "\"'Ana Lima' via CIP-CCG\" <cip-ccg@lists.example.org>",
            "accepted",
            "ana.lima@example.org",
        ),
        (
            "",
            "\"'Ana Lima' via CIP-CCG\" <cip-ccg@lists.example.org>",
            "list-not-vouched",
            "cip-ccg@lists.example.org",
        ),
        (
            received,
            "\"Ana Lima via CIP-CCG\" <eve@evil.example>",
            "accepted",
            "eve@evil.example",
        ),
    ];
    for (received, from, expected_reason, expected_author) in cases {
        let examined = examine_mail(message(received, from).as_bytes(), &rules);
        let reason = match examined.outcome.reason() {
            "" => examined.outcome.name(),
            reason => reason,
        };
        assert_eq!(reason, expected_reason, "for {from} {received:?}");
        assert_eq!(examined.author.as_deref(), Some(expected_author));
    }
}

#[test]
fn non_utf8_charsets_are_decoded_not_mangled() {
    let rules = corpus_rules();
    let read = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/mail/corpus")
            .join(name);
        examine_mail(&std::fs::read(path).expect("corpus file"), &rules)
    };
    // ISO-2022-JP in an encoded-word subject.
    let japanese = read("15-becky-iso-2022-jp.eml");
    assert_eq!(japanese.subject, "Re: [CIP-CCG] 次回会合の議題について");
    // An ISO-8859-1 quoted-printable argument reaches the command as the author wrote it.
    let latin1 = read("12-claws-quoted-printable-latin1.eml");
    assert!(
        latin1
            .commands
            .iter()
            .any(|command| command == "!whoami \"José Hernández\""),
        "{:?}",
        latin1.commands
    );
}

/// Inputs the fuzzer once crashed on (`scripts/fuzz.sh`): each must now be examined without a
/// panic, and keep the promises the fuzz target checks.
#[test]
fn former_fuzz_crashes_are_examined_calmly() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/fuzz-regressions");
    let rules = corpus_rules();
    let mut count = 0;
    for entry in std::fs::read_dir(folder).expect("fuzz-regressions exists") {
        let raw = std::fs::read(entry.expect("entry").path()).expect("readable");
        let examined = examine_mail(&raw, &rules);
        assert!(!examined.subject.contains(['\r', '\n']));
        // The second crash: a Reply-To address with a CR in it became the author.
        let author = examined.author.unwrap_or_default();
        assert!(!author.chars().any(char::is_control), "{author:?}");
        assert!(examined.commands.len() <= 10);
        count += 1;
    }
    assert!(count >= 1);
    // The first one made mail-parser itself panic; it is kept aside, not lost.
    let first = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/mail/fuzz-regressions/crash-fc43d76763e01626b68b273920e0bb5ea8e675f6"),
    )
    .expect("readable");
    assert_eq!(
        examine_mail(&first, &rules).outcome.reason(),
        "parser-failure"
    );
}
