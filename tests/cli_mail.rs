//! The operator's mail commands, without any server: `ingest-mail` from standard input and
//! `quarantine list` / `quarantine retry`, on a bot whose outgoing mail goes to a folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn rapporteur(arguments: &[&str], config: &Path, input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
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
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the binary");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn write_config(folder: &Path, size_limit: u32) -> PathBuf {
    std::fs::write(
        folder.join("group.toml"),
        "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"UTC\"\n\
         consensus_designations = [\"Consensus\"]\n\n\
         [[organizations]]\nshort_name = \"GNSO\"\nname = \"Generic Names Supporting Organization\"\nseats = 1\n\n\
         [[people]]\nid = \"ana.lima\"\nname = \"Ana Lima\"\nemails = [\"ana.lima@example.org\"]\norganization = \"GNSO\"\nroles = [\"member\"]\n",
    )
    .expect("write group");
    let config = folder.join("rapporteur.toml");
    std::fs::write(
        &config,
        format!(
            "[bot]\ndata_dir = \"data\"\n\n[matrix]\nhomeserver_url = \"http://127.0.0.1:9\"\n\
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

#[test]
fn broken_mail_is_quarantined_listed_and_retried() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), 1024);

    let garbage = rapporteur(
        &["ingest-mail"],
        &config,
        b"\x89PNG\r\n\x1a\n\x00\x00 not mail",
    );
    assert!(garbage.status.success(), "{}", text(&garbage.stderr));
    assert!(
        text(&garbage.stdout).contains("quarantined as 1 (unparseable)"),
        "{}",
        text(&garbage.stdout)
    );

    let mut large = b"From: Ana Lima <ana.lima@example.org>\r\nMessage-ID: <large@example.org>\r\nSubject: !ping\r\n\r\n".to_vec();
    large.extend(std::iter::repeat_n(b'x', 2000));
    let too_large = rapporteur(&["ingest-mail"], &config, &large);
    assert!(
        text(&too_large.stdout).contains("quarantined as 2 (too-large)"),
        "{}",
        text(&too_large.stdout)
    );

    let listed = rapporteur(&["quarantine", "list"], &config, b"");
    let table = text(&listed.stdout);
    assert!(listed.status.success());
    assert!(
        table.contains("unparseable") && table.contains("too-large"),
        "{table}"
    );
    assert!(
        table.contains("ana.lima@example.org") && table.contains("!ping"),
        "{table}"
    );

    let still = rapporteur(&["quarantine", "retry", "1"], &config, b"");
    assert!(!still.status.success());
    assert!(
        text(&still.stderr).contains("still held: unparseable"),
        "{}",
        text(&still.stderr)
    );
    let missing = rapporteur(&["quarantine", "retry", "99"], &config, b"");
    assert!(text(&missing.stderr).contains("no quarantined mail with id 99"));

    // Only the headers of the large mail were kept: even with a raised limit there is nothing
    // to handle, and the retry says so. Its sender sends it again, and now it is read.
    write_config(folder.path(), 1_048_576);
    let retried = rapporteur(&["quarantine", "retry", "2"], &config, b"");
    assert!(!retried.status.success());
    assert!(
        text(&retried.stderr).contains("only its headers were kept"),
        "{}",
        text(&retried.stderr)
    );
    let sent_again = rapporteur(&["ingest-mail"], &config, &large);
    assert!(
        text(&sent_again.stdout).contains("recorded as inbox item"),
        "{}",
        text(&sent_again.stdout)
    );
    // The same mail piped in again is a redelivery.
    let again = rapporteur(&["ingest-mail"], &config, &large);
    assert!(
        text(&again.stdout).contains("already recorded"),
        "{}",
        text(&again.stdout)
    );

    // A mail the trusted server did not vouch for is held; once the operator drops the check,
    // a retry handles it and releases it.
    let with_check = std::fs::read_to_string(&config).unwrap().replace(
        "size_limit_bytes = 1048576\n",
        "size_limit_bytes = 1048576\ntrusted_authserv_id = \"mx.example.org\"\n",
    );
    std::fs::write(&config, with_check).unwrap();
    let unvouched = b"From: Ana Lima <ana.lima@example.org>\r\nMessage-ID: <unvouched@example.org>\r\nSubject: !ping\r\n\r\nhello\r\n";
    let held = rapporteur(&["ingest-mail"], &config, unvouched);
    assert!(
        text(&held.stdout).contains("quarantined as 3 (unauthenticated)"),
        "{}",
        text(&held.stdout)
    );
    write_config(folder.path(), 1_048_576);
    let retried = rapporteur(&["quarantine", "retry", "3"], &config, b"");
    assert!(retried.status.success(), "{}", text(&retried.stderr));
    assert!(
        text(&retried.stdout).contains("recorded as inbox item"),
        "{}",
        text(&retried.stdout)
    );
    let held = text(&rapporteur(&["quarantine", "list"], &config, b"").stdout);
    assert!(
        !held.contains("unauthenticated"),
        "released mail is no longer held: {held}"
    );
    let everything = text(&rapporteur(&["quarantine", "list", "--all"], &config, b"").stdout);
    assert!(everything.contains("released"), "{everything}");
}

#[test]
fn ingest_mail_asks_the_mta_to_retry_when_the_configuration_is_broken() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = folder.path().join("missing.toml");
    let output = rapporteur(&["ingest-mail"], &config, b"From: a@example.org\r\n\r\n");
    assert_eq!(
        output.status.code(),
        Some(75),
        "EX_TEMPFAIL keeps the mail at the MTA"
    );
    let no_mail_section = tempfile::tempdir().expect("temp dir");
    let config = write_config(no_mail_section.path(), 1024);
    let with_mail = std::fs::read_to_string(&config).unwrap();
    let start = with_mail.find("[mail]").unwrap();
    let end = with_mail.find("[[groups]]").unwrap();
    let without_mail = format!("{}{}", &with_mail[..start], &with_mail[end..]);
    std::fs::write(&config, without_mail).unwrap();
    let output = rapporteur(&["ingest-mail"], &config, b"From: a@example.org\r\n\r\n");
    assert_eq!(output.status.code(), Some(75));
    assert!(
        text(&output.stderr).contains("no [mail] section"),
        "{}",
        text(&output.stderr)
    );
}
