//! The mail ingest path on arbitrary bytes: parse, find the authored lines and commands, judge
//! automatic mail and identify the author, exactly as IMAP and `ingest-mail` do. Any panic is a
//! bug. The outcome is also checked for the promises the rest of the bot relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rapporteur::mail::html_text::html_to_authored_text;
use rapporteur::mail::{MailRules, Outcome, examine_mail};

/// libFuzzer's panic hook aborts on every panic, even one that is caught. mail-parser panics on
/// some malformed MIME (a known upstream bug), which `examine_mail` catches and quarantines;
/// those are let through, so that every other panic, above all one in rapporteur's own code,
/// still stops the run.
fn tolerate_caught_mail_parser_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_mail_parser = info
                .location()
                .is_some_and(|location| location.file().contains("mail-parser"));
            if !in_mail_parser {
                abort_hook(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    tolerate_caught_mail_parser_panics();
    let rules = MailRules {
        command_prefix: "!".to_string(),
        message_id_domain: "rapporteur.localhost".to_string(),
        identity: rapporteur::mail::MailIdentity::from_hex(&["000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"])
            .expect("a valid secret"),
        size_limit_bytes: 64 * 1024,
        list_addresses: vec!["cip-ccg@lists.example.org".to_string()],
        // Set, so that the Authentication-Results and Received parsers (mail::trust) see every
        // input too.
        trusted_authserv_id: Some("mx.lists.example.org".to_string()),
        list_trust: rapporteur::mail::ListTrust {
            receiving_host: Some("mx.lists.example.org".to_string()),
            list_server_hosts: vec!["mail.lists.example.org".to_string()],
            author_header: Default::default(),
        },
    };
    let examined = examine_mail(data, &rules);
    // Nothing taken from a mail may carry a line break into a reply's headers.
    for text in [&examined.subject, examined.author.as_deref().unwrap_or_default()]
        .iter()
        .map(|text| text.to_string())
    {
        assert!(!text.contains(['\r', '\n']), "line break in {text:?}");
    }
    assert!(examined.commands.len() <= rapporteur::mail::examine::COMMANDS_PER_MAIL);
    if examined.outcome == Outcome::Accepted {
        assert!(examined.author.is_some());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = html_to_authored_text(text);
    }
});
