//! Optional: a post through a real Mailman 3 list that rewrites From for DMARC reaches the bot,
//! which answers the post's author. Mailman needs about 600 MB and half a minute to install, so
//! this runs only when the stack was started with it:
//!
//! ```sh
//! RAPPORTEUR_TEST_MAILMAN=1 scripts/test.sh --test mailman_end_to_end
//! ```
//!
//! Without Mailman the test says so and passes without checking anything.

mod support;

use std::time::Duration;
use support::mail::{MailScene, OutgoingTestMail, unique_message_id};
use support::stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_through_a_dmarc_munging_mailman_list_is_answered_to_its_author() {
    if std::env::var("RAPPORTEUR_MAILMAN").as_deref() != Ok("1") {
        eprintln!(
            "SKIPPED: Mailman is not part of this stack (opt in: RAPPORTEUR_TEST_MAILMAN=1 scripts/test.sh)"
        );
        return;
    }
    let Some(MailScene {
        servers,
        scene,
        mail,
        chair_address: chair,
    }) = MailScene::started_at("mail.localhost").await
    else {
        return;
    };
    stack(&[
        "mailman-list",
        &mail.list_address,
        &chair,
        &mail.bot_address,
    ]);

    let message_id = unique_message_id();
    let raw = OutgoingTestMail {
        from: &chair,
        from_name: "Chair Person",
        to: &mail.list_address,
        subject: "!whoami",
        body: "What does the bot know about me?\n",
        message_id: &message_id,
        in_reply_to: None,
        extra_headers: "",
    }
    .render();
    servers
        .send_raw(&chair, &mail.list_address, &raw)
        .await
        .expect("the relay hands the post to Mailman");

    let replies = servers
        .wait_for_replies(&chair, &message_id, 1, Duration::from_secs(90))
        .await;
    assert_eq!(replies.len(), 1, "the author gets one answer");
    let reply = &replies[0];
    assert!(
        reply.text.contains("You are Chair Person"),
        "the munged post was attributed to its author: {}",
        reply.text
    );
    assert_eq!(reply.to, chair);
    // The bot saw Mailman's copy, not the original: its From was the list.
    let log = scene.bot.log();
    assert!(log.contains("mail recorded"), "{log}");
}
