//! Every task of `rapporteur run` is watched: a task that cannot go on stops the process with a
//! log line naming it and a non-zero exit, so that the supervisor starts it again, instead of
//! leaving a bot that runs but no longer hears or speaks.

mod support;

use std::time::Duration;
use support::mail::mail_servers;
use support::mail_only::{MailOnlyBot, path_text, quoted};

/// A table is dropped under the running bot (as a botched manual migration would): the task
/// that uses it fails with an error no retry can mend, and the bot exits non-zero naming that
/// task. Needs no server: mail is written to a folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_database_became_unusable_stops_the_bot_with_a_clear_log() {
    let Some(postgres) = support::fresh_postgres_url().await else {
        return;
    };
    // (backend, the table dropped, the task that reads it first)
    let cases = [
        ("SQLite", "timers", "clock"),
        ("SQLite", "outbox", "mail dispatcher"),
        ("PostgreSQL", "outbox", "mail dispatcher"),
    ];
    for (backend, table, task) in cases {
        let outbox_folder = tempfile::tempdir().expect("temp dir");
        let mut bot = MailOnlyBot::configure(&format!(
            "[mail.smtp]\nfile_directory = {}\n",
            path_text(outbox_folder.path())
        ));
        let url = match backend {
            "PostgreSQL" => {
                bot.use_database(&postgres);
                postgres.clone()
            }
            _ => format!(
                "sqlite://{}",
                bot.data_dir().join("rapporteur.db").display()
            ),
        };
        bot.start();
        bot.wait_for_log("mail channel ready", Duration::from_secs(60))
            .await;

        sqlx::any::install_default_drivers();
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("open the bot's database");
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
            .execute(&mut connection)
            .await
            .expect("drop the table");
        drop(connection);

        let status = bot
            .wait_for_exit(Duration::from_secs(90))
            .await
            .expect("the bot stopped by itself");
        assert!(
            !status.success(),
            "{backend}, {table}: the exit status says failure: {status}"
        );
        let log = bot.log();
        assert!(
            log.contains(&format!("the {task} failed and cannot go on: "))
                && (log.contains("no such table") || log.contains("does not exist"))
                && log.contains("times in a row"),
            "{backend}, {table}: the log names the task and the reason:\n{log}"
        );
    }
}

/// The IMAP server refuses the bot's login every time (a wrong password): the reader gives up
/// after a few refusals and the bot exits non-zero, naming the IMAP reader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imap_login_refused_for_good_stops_the_bot_with_a_clear_log() {
    let Some(servers) = mail_servers().await else {
        return;
    };
    let secrets = tempfile::tempdir().expect("temp dir");
    let wrong_password = secrets.path().join("wrong_password");
    std::fs::write(&wrong_password, "not-the-password\n").expect("write password");
    let outbox_folder = tempfile::tempdir().expect("temp dir");
    let mut bot = MailOnlyBot::configure(&format!(
        "[mail.smtp]\nfile_directory = {}\n\n[mail.imap]\nhost = {}\nport = {}\nsecurity = \"plain\"\n\
         username = \"refused@localhost\"\npassword_file = {}\n",
        path_text(outbox_folder.path()),
        quoted(&servers.host),
        servers.imap_port,
        path_text(&wrong_password),
    ));
    bot.start();
    let status = bot
        .wait_for_exit(Duration::from_secs(90))
        .await
        .expect("the bot stopped by itself");
    assert!(!status.success(), "the exit status says failure: {status}");
    let log = bot.log();
    assert!(
        log.contains("the IMAP reader failed and cannot go on")
            && log.contains("refused the login"),
        "the log names the task and the reason:\n{log}"
    );
}
