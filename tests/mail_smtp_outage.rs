//! The SMTP server goes away (really stopped with `scripts/stack.sh stop-service smtp_relay`)
//! while the bot has a reply to send: the reply waits in the outbox, is retried with backoff,
//! and is delivered once when the server is back. A test binary of its own, because stopping a
//! shared server would disturb tests running beside it.

mod support;

use std::time::{Duration, Instant};
use support::mail::{MailScene, OutgoingTestMail, pipe_to_ingest_mail, unique_message_id};
use support::matrix::bot_store;
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
    let Some(MailScene {
        servers,
        scene,
        mail,
        chair_address: chair,
    }) = MailScene::started().await
    else {
        return;
    };

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
    let output = pipe_to_ingest_mail(&scene.bot.config_path, &raw);
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
