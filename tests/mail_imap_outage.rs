//! The IMAP server goes away (really stopped with `scripts/stack.sh stop-service dovecot`): the
//! bot reconnects with backoff, and mail that arrived while it was disconnected is read, each
//! message answered once. A test binary of its own, because stopping a shared server would
//! disturb tests running beside it.

mod support;

use std::time::{Duration, Instant};
use support::mail::{MailScene, OutgoingTestMail, unique_message_id};
use support::stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_that_arrives_while_imap_was_down_is_answered_once() {
    let Some(MailScene {
        servers,
        scene,
        mail,
        chair_address: chair,
    }) = MailScene::started().await
    else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !scene.bot.log().contains("IMAP connected") {
        assert!(Instant::now() < deadline, "the bot never connected to IMAP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    stack(&["stop-service", "dovecot"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while scene
        .bot
        .log()
        .matches("IMAP reader stopped; reconnecting")
        .count()
        < 2
    {
        if Instant::now() > deadline {
            stack(&["start-service", "dovecot"]);
            panic!("the bot did not notice the IMAP outage");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stack(&["start-service", "dovecot"]);
    // Sent at once: the bot is still waiting before its next reconnection attempt.
    let mut message_ids = Vec::new();
    for subject in ["!ping", "!whoami", "!roster"] {
        let message_id = unique_message_id();
        let raw = OutgoingTestMail {
            from: &chair,
            from_name: "Chair Person",
            to: &mail.bot_address,
            subject,
            body: "",
            message_id: &message_id,
            in_reply_to: None,
            extra_headers: "",
        }
        .render();
        servers
            .send_raw_patiently(&chair, &mail.bot_address, &raw)
            .await
            .expect("the relay delivers once dovecot is back");
        message_ids.push(message_id);
    }
    for message_id in &message_ids {
        let replies = servers
            .wait_for_replies(&chair, message_id, 1, Duration::from_secs(120))
            .await;
        assert_eq!(replies.len(), 1, "one reply to {message_id}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all: usize = {
        let mut total = 0;
        for message_id in &message_ids {
            total += servers
                .wait_for_replies(&chair, message_id, 2, Duration::from_millis(10))
                .await
                .len();
        }
        total
    };
    assert_eq!(all, 3, "each mail answered once");
    assert!(
        scene.bot.log().matches("IMAP connected").count() >= 2,
        "the bot reconnected"
    );
}
