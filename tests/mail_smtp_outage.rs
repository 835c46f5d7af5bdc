//! The SMTP server goes away (really stopped with `scripts/stack.sh stop-service smtp_relay`)
//! while the bot has a reply to send: the reply waits in the outbox, is retried with backoff,
//! and is delivered once when the server is back. A test binary of its own, because stopping a
//! shared server would disturb tests running beside it.

mod support;

use std::time::{Duration, Instant};
use support::mail::{OutgoingTestMail, email_of, mail_servers, unique_message_id};
use support::matrix::{ChairRoom, bot_store, homeserver};
use support::stack;

/// Starts the server again even when the test fails half-way.
struct Restart(&'static str);

impl Drop for Restart {
    fn drop(&mut self) {
        stack(&["start-service", self.0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_waits_out_an_smtp_outage_and_is_delivered_once() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let Some(servers) = mail_servers().await else {
        return;
    };
    let mut scene = ChairRoom::prepare(&homeserver).await;
    let mail = scene.bot.enable_mail(&servers);
    scene.bot.start();
    scene.wait_for_bot().await;
    let chair = email_of(&scene.chair_user.user_id);

    stack(&["stop-service", "smtp_relay"]);
    let restart = Restart("smtp_relay");
    // With the relay down, the command comes in through the MTA pipe.
    let message_id = unique_message_id();
    let raw = OutgoingTestMail {
        from: &chair,
        from_name: "Chair Person",
        to: &mail.bot_address,
        subject: "!ping",
        body: "",
        message_id: &message_id,
        in_reply_to: None,
        extra_headers: "",
    }
    .render();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(&scene.bot.config_path)
        .arg("ingest-mail")
        .env_remove("RAPPORTEUR_SMTP_PORT")
        .env_remove("RAPPORTEUR_IMAP_PORT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(&raw)?;
            child.wait_with_output()
        })
        .expect("run ingest-mail");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Wait until the bot has tried and failed at least twice.
    let deadline = Instant::now() + Duration::from_secs(60);
    while scene
        .bot
        .log()
        .matches("delivery failed; will retry")
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "the bot never tried to send during the outage"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(restart);

    let replies = servers
        .wait_for_replies(&chair, &message_id, 1, Duration::from_secs(90))
        .await;
    assert_eq!(replies.len(), 1, "the reply arrives after the outage");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let replies = servers
        .wait_for_replies(&chair, &message_id, 2, Duration::from_secs(1))
        .await;
    assert_eq!(replies.len(), 1, "and only once");
    let store = bot_store(&scene.bot).await;
    let counts = store.outbox_counts().await.expect("outbox counts");
    assert!(
        counts.iter().all(|(state, _)| state == "sent"),
        "every outbox item ends sent: {counts:?}"
    );
}
