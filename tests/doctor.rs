//! `rapporteur doctor` against the test stack (Synapse, the SMTP relay, dovecot): with each part
//! broken in turn (the Matrix password wrong, the room not joined, SMTP down, the IMAP mailbox
//! missing, the database a migration behind) it exits 1 and the failing line names the cause
//! and what to do; with everything in order it exits 0.

mod support;

use std::path::Path;
use std::process::Command;
use support::matrix::ChairRoom;

struct Report {
    code: Option<i32>,
    lines: Vec<String>,
}

impl Report {
    fn line(&self, start: &str) -> &str {
        self.lines
            .iter()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{}", self.lines.join("\n")))
    }
}

fn doctor(config: &Path, password: &str) -> Report {
    let output = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config)
        .arg("doctor")
        .env("RAPPORTEUR_MATRIX_PASSWORD", password)
        .env("RAPPORTEUR_LOG", "error")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .env_remove("RAPPORTEUR_HOMESERVER_URL")
        .env_remove("RAPPORTEUR_MATRIX_USER_ID")
        .env_remove("RAPPORTEUR_MATRIX_PASSWORD_FILE")
        .env_remove("RAPPORTEUR_SMTP_HOST")
        .env_remove("RAPPORTEUR_SMTP_PORT")
        .env_remove("RAPPORTEUR_IMAP_HOST")
        .env_remove("RAPPORTEUR_IMAP_PORT")
        .output()
        .expect("run doctor");
    Report {
        code: output.status.code(),
        lines: String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(String::from)
            .collect(),
    }
}

/// Sets `key = value` in the first `key` line after `[section]` of the configuration.
fn set_in_section(config: &Path, section: &str, key: &str, value: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    let start = text.find(&format!("[{section}]")).expect("the section");
    let mut lines: Vec<String> = text[start..].lines().map(String::from).collect();
    let mut replaced = false;
    for line in lines.iter_mut().skip(1) {
        if line.starts_with('[') {
            break;
        }
        if line.starts_with(&format!("{key} =")) {
            *line = format!("{key} = {value}");
            replaced = true;
            break;
        }
    }
    if !replaced {
        lines.insert(1, format!("{key} = {value}"));
    }
    std::fs::write(config, format!("{}{}\n", &text[..start], lines.join("\n"))).unwrap();
}

#[tokio::test]
async fn doctor_names_each_broken_part_and_passes_when_all_is_well() {
    let Some(homeserver) = support::matrix::homeserver().await else {
        return;
    };
    let Some(servers) = support::mail::mail_servers().await else {
        return;
    };
    let mut scene = ChairRoom::prepare(&homeserver).await;
    scene.bot.enable_mail(&servers);
    let config = scene.bot.config_path.clone();
    let password = scene.bot_user.password.clone();

    // Before the bot ever ran: the database is empty, the password is wrong.
    let report = doctor(&config, "not-the-password");
    assert_eq!(report.code, Some(1));
    assert!(
        report
            .line("FAIL  database: migrations")
            .contains("the database is empty")
            && report
                .line("FAIL  database: migrations")
                .contains("rapporteur migrate"),
        "{}",
        report.lines.join("\n")
    );
    let login = report.line("FAIL  matrix: login");
    assert!(
        login.contains("refused the password login") && login.contains("M_FORBIDDEN"),
        "{login}"
    );
    assert!(report.line("ok    matrix: homeserver").contains("answers"));
    assert!(
        report
            .line("ok    smtp: RCPT TO")
            .contains("nothing was sent")
    );
    assert!(report.line("ok    imap").contains("logged in"));

    // The right password, but the bot has not joined the room yet.
    let report = doctor(&config, &password);
    let room = report.line("FAIL  matrix: room");
    assert!(
        room.contains("has not joined")
            && room.contains(&format!("invite {}", scene.bot_user.user_id)),
        "{room}"
    );

    // The bot ran once: it joined and migrated. Everything passes (the bot still runs:
    // the doctor is safe beside it).
    scene.bot.start();
    scene.wait_for_bot().await;
    let report = doctor(&config, &password);
    assert_eq!(report.code, Some(0), "{}", report.lines.join("\n"));
    assert!(
        report
            .line("ok    matrix: room")
            .contains("joined, not encrypted, may send")
    );
    assert!(
        report
            .line("ok    database: migrations")
            .contains("current")
    );
    assert!(
        report
            .line("ok    database: writable")
            .contains("taken back")
    );
    assert_eq!(
        report.lines.last().map(String::as_str),
        Some("every check passed")
    );
    scene.bot.kill();

    // A database a migration behind.
    let store = support::matrix::bot_store(&scene.bot).await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let report = doctor(&config, &password);
    assert_eq!(report.code, Some(1));
    assert!(
        report
            .line("FAIL  database: migrations")
            .contains("1 migration(s) behind"),
        "{}",
        report.lines.join("\n")
    );

    // SMTP down (nothing listens on the port), and a mailbox that does not exist.
    set_in_section(&config, "mail.smtp", "port", "9");
    set_in_section(&config, "mail.imap", "mailbox", "\"Nonexistent\"");
    let report = doctor(&config, &password);
    assert_eq!(report.code, Some(1));
    let smtp = report.line("FAIL  smtp: RCPT TO");
    assert!(
        smtp.contains(":9") && smtp.contains("that the server runs"),
        "{smtp}"
    );
    let imap = report.line("FAIL  imap");
    assert!(
        imap.contains("\"Nonexistent\" cannot be opened") && imap.contains("create it"),
        "{imap}"
    );
}
