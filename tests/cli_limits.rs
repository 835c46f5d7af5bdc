//! The operator's commands at their limits, through the real binary, on SQLite and PostgreSQL:
//! `ingest-mail` never answers 75 (try again) for a mail that will always fail, reads at most the
//! size limit of a mail, and keeps only the headers of a mail over it; `quarantine purge`,
//! `outbox list --failed` and `outbox retry`; owner-only files; no database password in any
//! message.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A Message-ID of 5,000 characters that does not compress (PostgreSQL compresses index keys,
/// so a repeated letter would fit in its index and hide the failure), made from `seed`.
fn long_message_id(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let random: String = (0..80)
        .map(|n| hex::encode(Sha256::digest(format!("{seed}{n}").as_bytes())))
        .collect();
    format!("<{}@example.org>", &random[..5000])
}

fn rapporteur(arguments: &[&str], config: &Path, input: &[u8]) -> Output {
    rapporteur_with(arguments, config, input, &[])
}

fn rapporteur_with(
    arguments: &[&str],
    config: &Path,
    input: &[u8],
    environment: &[(&str, &str)],
) -> Output {
    // `umask 000` first: files must be owner-only whatever the umask says.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config)
        .args(arguments)
        .env("RAPPORTEUR_MATRIX_PASSWORD", "not-a-real-password")
        .env("RAPPORTEUR_LOG", "warn")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .env_remove("RAPPORTEUR_SMTP_HOST")
        .env_remove("RAPPORTEUR_SMTP_PORT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in environment {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("run the binary");
    let mut stdin = child.stdin.take().expect("stdin");
    // The binary may stop reading early; a broken pipe then is not the test's failure.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("wait")
}

fn write_config(folder: &Path, size_limit: u32, database_url: Option<&str>) -> PathBuf {
    std::fs::write(
        folder.join("group.toml"),
        "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"UTC\"\n\
         consensus_designations = [\"Consensus\"]\n\n\
         [[organizations]]\nshort_name = \"GNSO\"\nname = \"Generic Names Supporting Organization\"\nseats = 1\n\n\
         [[people]]\nid = \"ana.lima\"\nname = \"Ana Lima\"\nemails = [\"ana.lima@example.org\"]\norganization = \"GNSO\"\nroles = [\"member\"]\n",
    )
    .expect("write group");
    let database = database_url
        .map(|url| {
            format!(
                "[database]\nurl = {}\n\n",
                serde_json::to_string(url).unwrap()
            )
        })
        .unwrap_or_default();
    let config = folder.join("rapporteur.toml");
    std::fs::write(
        &config,
        format!(
            "[bot]\ndata_dir = \"data\"\n\n{database}[matrix]\nhomeserver_url = \"http://127.0.0.1:9\"\n\
             user_id = \"@bot:localhost\"\n\n[mail]\naddress = \"bot@lists.example.org\"\n\
             size_limit_bytes = {size_limit}\n\n[mail.smtp]\nfile_directory = \"outgoing\"\n\n\
             [[groups]]\nid = \"g\"\nroom = \"#g:localhost\"\nmailing_list = \"g@lists.example.org\"\n\
             group_file = \"group.toml\"\n"
        ),
    )
    .expect("write config");
    config
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn show(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

fn mail(message_id: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Ana Lima <ana.lima@example.org>\r\nTo: g@lists.example.org\r\nSubject: commands\r\n\
         Message-ID: {message_id}\r\n{extra_headers}\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A bot's folder and config on the given backend, or `None` when PostgreSQL is unavailable.
async fn bot_on(backend: &str, size_limit: u32) -> Option<(tempfile::TempDir, PathBuf)> {
    let folder = tempfile::tempdir().expect("temp dir");
    let url = match backend {
        "postgres" => Some(support::fresh_postgres_url().await?),
        _ => None,
    };
    let config = write_config(folder.path(), size_limit, url.as_deref());
    Some((folder, config))
}

/// Measured on PostgreSQL before: each of these made `ingest-mail` exit 75 every time, with
/// nothing stored and nothing quarantined, so the MTA retried until it gave up on the mail.
async fn mail_postgres_refused_is_recorded(backend: &str) {
    let Some((_folder, config)) = bot_on(backend, 1_048_576).await else {
        return;
    };
    let long_id = long_message_id("m");
    let cases: [(&str, Vec<u8>); 2] = [
        (
            "a quoted-printable =00 in the command line",
            mail(
                "<qp-nul@example.org>",
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                "!ping=00",
            ),
        ),
        (
            "a Message-ID of 5,000 characters",
            mail(&long_id, "", "!ping"),
        ),
    ];
    for (what, raw) in cases {
        let first = rapporteur(&["ingest-mail"], &config, &raw);
        assert_eq!(first.status.code(), Some(0), "{what}: {}", show(&first));
        assert!(
            text(&first.stdout).contains("recorded as inbox item"),
            "{what}: {}",
            show(&first)
        );
        let again = rapporteur(&["ingest-mail"], &config, &raw);
        assert_eq!(again.status.code(), Some(0), "{what}: {}", show(&again));
        assert!(
            text(&again.stdout).contains("already recorded"),
            "{what}: the redelivery is recognised: {}",
            show(&again)
        );
    }
}

#[tokio::test]
async fn mail_postgres_refused_is_recorded_on_sqlite() {
    mail_postgres_refused_is_recorded("sqlite").await;
}

#[tokio::test]
async fn mail_postgres_refused_is_recorded_on_postgres() {
    mail_postgres_refused_is_recorded("postgres").await;
}

/// 75 is for what may pass: a database that does not answer now may later.
#[test]
fn ingest_mail_answers_75_when_the_database_is_unreachable() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        folder.path(),
        1_048_576,
        Some("postgres://bot:hunter2pw@127.0.0.1:1/rapporteur"),
    );
    let output = rapporteur(
        &["ingest-mail"],
        &config,
        &mail("<a@example.org>", "", "!ping"),
    );
    assert_eq!(output.status.code(), Some(75), "{}", show(&output));
    assert!(
        !text(&output.stderr).contains("hunter2pw"),
        "{}",
        show(&output)
    );
}

/// A mail that can never be stored is quarantined with its reason, and `ingest-mail` answers 0:
/// the MTA would otherwise retry it until it gave up on it.
#[tokio::test]
async fn a_mail_that_cannot_be_stored_is_quarantined_not_retried() {
    let Some(url) = support::fresh_postgres_url_in_encoding("LATIN1").await else {
        return;
    };
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), 1_048_576, Some(&url));
    let raw = mail(
        "<cyrillic@example.org>",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "!respond R-1 support-with-comments \u{0414}\u{0430}",
    );
    let output = rapporteur(&["ingest-mail"], &config, &raw);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(
        text(&output.stdout).contains("(cannot-store)"),
        "{}",
        show(&output)
    );
    let listed = rapporteur(&["quarantine", "list"], &config, b"");
    assert!(
        text(&listed.stdout).contains("cannot-store"),
        "{}",
        show(&listed)
    );
}

async fn a_mail_over_the_limit_keeps_only_its_headers(backend: &str) {
    let Some((_folder, config)) = bot_on(backend, 1024).await else {
        return;
    };
    let mut raw = mail("<huge@example.org>", "", "!ping");
    raw.extend(std::iter::repeat_n(b'x', 3_000_000));
    let output = rapporteur(&["ingest-mail"], &config, &raw);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(
        text(&output.stdout).contains("(too-large)"),
        "{}",
        show(&output)
    );
    let listed = text(&rapporteur(&["quarantine", "list"], &config, b"").stdout);
    assert!(
        listed.contains(&format!("{} (headers kept)", raw.len())),
        "the size of the whole mail, and that only its headers are kept: {listed}"
    );
    let retried = rapporteur(&["quarantine", "retry", "1"], &config, b"");
    assert_eq!(retried.status.code(), Some(1), "{}", show(&retried));
    assert!(
        text(&retried.stderr).contains("only its headers were kept"),
        "{}",
        show(&retried)
    );
}

#[tokio::test]
async fn a_mail_over_the_limit_keeps_only_its_headers_on_sqlite() {
    a_mail_over_the_limit_keeps_only_its_headers("sqlite").await;
}

#[tokio::test]
async fn a_mail_over_the_limit_keeps_only_its_headers_on_postgres() {
    a_mail_over_the_limit_keeps_only_its_headers("postgres").await;
}

async fn quarantine_purge_and_failed_outbox(backend: &str) {
    let Some((folder, config)) = bot_on(backend, 1024).await else {
        return;
    };
    rapporteur(&["ingest-mail"], &config, b"\x89PNG not mail");
    rapporteur(&["ingest-mail"], &config, b"\x89PNG still not mail");
    let cases: [(&[&str], Option<i32>, &str); 5] = [
        (
            &["quarantine", "purge", "--older-than", "30d"],
            Some(0),
            "purged 0 quarantined mails received more than 30 days ago",
        ),
        (
            &["quarantine", "purge", "--older-than", "30"],
            Some(2),
            "not a duration",
        ),
        (&["quarantine", "purge"], Some(2), "--older-than"),
        (
            &["quarantine", "purge", "--older-than", "0s"],
            Some(0),
            "purged 2 quarantined mails",
        ),
        (
            &["quarantine", "list", "--all"],
            Some(0),
            "The quarantine is empty.",
        ),
    ];
    for (arguments, status, expected) in cases {
        let output = rapporteur(arguments, &config, b"");
        assert_eq!(
            output.status.code(),
            status,
            "{arguments:?}: {}",
            show(&output)
        );
        assert!(
            text(&output.stdout).contains(expected) || text(&output.stderr).contains(expected),
            "{arguments:?}: {}",
            show(&output)
        );
    }

    // Two outbox items, one given up on by the dispatcher.
    let url = match backend {
        "postgres" => {
            let config_text = std::fs::read_to_string(&config).unwrap();
            let start = config_text.find("url = \"").unwrap() + 7;
            let end = start + config_text[start..].find('"').unwrap();
            config_text[start..end].to_string()
        }
        _ => format!(
            "sqlite://{}",
            folder.path().join("data/rapporteur.db").display()
        ),
    };
    let store = rapporteur::storage::Store::connect(&url, 1).await.unwrap();
    let item = |key: &str| rapporteur::storage::NewOutboxItem {
        idempotency_key: key.into(),
        channel: "mail".into(),
        destination: "nobody@example.org".into(),
        payload: "{}".into(),
        about: Some("R-7".into()),
    };
    let stored = store.enqueue(&[item("k1"), item("k2")], 10).await.unwrap();
    // Only the dispatcher that claimed a row writes its outcome (see `crate::ownership`).
    let claimant = rapporteur::storage::Claimant {
        node: "test".into(),
        instance: "1".into(),
    };
    for id in [stored[0].id] {
        assert!(store.claim_outbox_item(id, &claimant, 0).await.unwrap());
    }
    store
        .mark_outbox_failed(stored[0].id, &claimant, "550 5.1.1 no such user")
        .await
        .unwrap();
    store.close().await;
    let failed_id = stored[0].id.to_string();
    let pending_id = stored[1].id.to_string();
    let cases: [(Vec<&str>, Option<i32>, String); 7] = [
        (vec!["outbox", "list"], Some(0), "failed\t1".into()),
        (
            vec!["outbox", "list", "--failed"],
            Some(0),
            "550 5.1.1 no such user".into(),
        ),
        (vec!["outbox", "retry"], Some(2), "--all-failed".into()),
        (
            vec!["outbox", "retry", &pending_id],
            Some(1),
            format!("no failed or uncertain outbox item with id {pending_id}"),
        ),
        (
            vec!["outbox", "retry", &failed_id],
            Some(0),
            format!("1 failed item queued again ({failed_id})"),
        ),
        (
            vec!["outbox", "list", "--failed"],
            Some(0),
            "No outbox item has failed or is held as uncertain.".into(),
        ),
        (
            vec!["outbox", "retry", "--all-failed"],
            Some(0),
            "0 failed items queued again".into(),
        ),
    ];
    for (arguments, status, expected) in cases {
        let output = rapporteur(&arguments, &config, b"");
        assert_eq!(
            output.status.code(),
            status,
            "{arguments:?}: {}",
            show(&output)
        );
        assert!(
            text(&output.stdout).contains(&expected) || text(&output.stderr).contains(&expected),
            "{arguments:?}: {}",
            show(&output)
        );
    }
}

#[tokio::test]
async fn quarantine_purge_and_failed_outbox_on_sqlite() {
    quarantine_purge_and_failed_outbox("sqlite").await;
}

#[tokio::test]
async fn quarantine_purge_and_failed_outbox_on_postgres() {
    quarantine_purge_and_failed_outbox("postgres").await;
}

#[cfg(unix)]
#[test]
fn the_data_folder_and_database_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), 1_048_576, None);
    // Created under `umask 000` (see `rapporteur_with`).
    let output = rapporteur(
        &["ingest-mail"],
        &config,
        &mail("<m@example.org>", "", "!ping"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let data = folder.path().join("data");
    let database = data.join("rapporteur.db");
    assert_eq!(mode(&data), 0o700, "a new data folder");
    assert_eq!(mode(&database), 0o600, "a new database");
    // Made wide open by hand (or by an older version): tightened at the next start.
    let wal = data.join("rapporteur.db-wal");
    std::fs::write(&wal, b"").ok();
    for (path, wide) in [(&data, 0o777), (&database, 0o666), (&wal, 0o666)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wide)).unwrap();
    }
    let output = rapporteur(&["quarantine", "list"], &config, b"");
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    for path in [&database, &wal] {
        if path.exists() {
            assert_eq!(mode(path), 0o600, "{}", path.display());
        }
    }
    assert_eq!(mode(&data), 0o700);
}

/// No form of database URL shows its password in what the binary prints.
#[test]
fn the_database_password_is_never_printed() {
    let cases = [
        (
            "postgres://bot:Sup3rSecretPw@127.0.0.1:1/r",
            "Sup3rSecretPw",
        ),
        (
            "postgresql://bot:Sup3rSecretPw@127.0.0.1:1/r?sslmode=disable",
            "Sup3rSecretPw",
        ),
        ("postgres://bot:Sup3r%40Secret@127.0.0.1:1/r", "Sup3r"),
        (
            "postgres://127.0.0.1:1/r?user=bot&password=Sup3rSecretPw",
            "Sup3rSecretPw",
        ),
        ("postgres://bot:Sup3r/Secret#Pw@127.0.0.1:1/r", "Sup3r"),
        (
            "host=127.0.0.1 port=1 user=bot password=Sup3rSecretPw",
            "Sup3rSecretPw",
        ),
    ];
    for (url, secret) in cases {
        let folder = tempfile::tempdir().expect("temp dir");
        let config = write_config(folder.path(), 1_048_576, None);
        for arguments in [&["migrate"][..], &["ingest-mail"], &["check-config"]] {
            let output = rapporteur_with(
                arguments,
                &config,
                b"From: a@example.org\r\n\r\n!ping\r\n",
                &[
                    ("RAPPORTEUR_DATABASE_URL", url),
                    ("RAPPORTEUR_LOG", "debug"),
                ],
            );
            let printed = format!("{}{}", text(&output.stdout), text(&output.stderr));
            assert!(
                !printed.contains(secret),
                "{url} with {arguments:?}: {}",
                show(&output)
            );
        }
    }
}
