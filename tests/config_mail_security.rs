//! Which mail connections `check-config` accepts: plain (unencrypted) connections only to this
//! machine unless `allow_plain_on_network = true`, for SMTP and IMAP alike.

use rapporteur::config::{is_loopback_host, load_settings};
use std::collections::HashMap;

const GROUP_FILE: &str = "[group]\nshort_name = \"TG\"\nname = \"Test Group\"\nconsensus_designations = [\"Consensus\"]\n\n\
    [[organizations]]\nshort_name = \"GNSO\"\nname = \"Generic Names Supporting Organization\"\nseats = 2\n";

/// The problems of a mail-only config whose SMTP and IMAP sections use `host`, `security` and,
/// when given, `allow_plain_on_network`.
fn problems_for(host: &str, security: &str, allow: Option<bool>) -> Vec<String> {
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(folder.path().join("group.toml"), GROUP_FILE).expect("group file");
    let allow = allow
        .map(|allow| format!("allow_plain_on_network = {allow}\n"))
        .unwrap_or_default();
    let imap_security = if security == "starttls" {
        "tls"
    } else {
        security
    };
    let config = format!(
        "[mail]\naddress = \"bot@example.org\"\n\n\
         [mail.smtp]\nhost = \"{host}\"\nport = 2525\nsecurity = \"{security}\"\n{allow}\n\
         [mail.imap]\nhost = \"{host}\"\nport = 1143\nsecurity = \"{imap_security}\"\n\
         username = \"bot@example.org\"\n{allow}\n\
         [[groups]]\nid = \"test\"\nmailing_list = \"test@lists.example.org\"\ngroup_file = \"group.toml\"\n"
    );
    let path = folder.path().join("rapporteur.toml");
    std::fs::write(&path, config).expect("config");
    let environment = HashMap::from([("RAPPORTEUR_IMAP_PASSWORD", "secret")]);
    let lookup = |name: &str| environment.get(name).map(|value| value.to_string());
    match load_settings(&path, &lookup) {
        Ok(_) => Vec::new(),
        Err(problems) => problems
            .iter()
            .map(|problem| problem.message.clone())
            .collect(),
    }
}

#[test]
fn plain_mail_connections_leave_this_machine_only_when_allowed() {
    // (host, security, allow_plain_on_network, problems expected: one per section)
    let cases: [(&str, &str, Option<bool>, usize); 10] = [
        ("127.0.0.1", "plain", None, 0),
        ("localhost", "plain", None, 0),
        ("mail.localhost", "plain", None, 0),
        ("::1", "plain", None, 0),
        ("mail.example.org", "plain", None, 2),
        ("192.0.2.10", "plain", None, 2),
        ("mail.example.org", "plain", Some(false), 2),
        ("mail.example.org", "plain", Some(true), 0),
        ("mail.example.org", "tls", None, 0),
        ("mail.example.org", "starttls", None, 0),
    ];
    for (host, security, allow, expected) in cases {
        let problems = problems_for(host, security, allow);
        assert_eq!(
            problems.len(),
            expected,
            "{host} {security} {allow:?}: {problems:#?}"
        );
        for problem in &problems {
            assert!(
                problem.contains("unencrypted") && problem.contains("allow_plain_on_network"),
                "the problem says why and what to do: {problem}"
            );
        }
    }
}

#[test]
fn loopback_hosts_are_recognised() {
    for (host, loopback) in [
        ("localhost", true),
        ("LOCALHOST.", true),
        ("lists.localhost", true),
        ("127.0.0.1", true),
        ("127.8.9.10", true),
        ("::1", true),
        ("[::1]", true),
        ("localhost.example.org", false),
        ("10.0.0.1", false),
        ("mail.example.org", false),
        ("notlocalhost", false),
    ] {
        assert_eq!(is_loopback_host(host), loopback, "{host}");
    }
}
