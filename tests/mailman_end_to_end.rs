//! The author of a mail, end to end (issue 10, item 1): a post through a real Mailman 3 list that
//! rewrites From for DMARC reaches the bot, which answers the post's author; the same forgeries
//! sent straight to the bot are refused: a " via " display name with X-Original-From and
//! Reply-To naming a member is answered as the stranger who sent it, and a From set to the
//! list's address is kept aside as `list-not-vouched`; a post through the list whose poster
//! added a Reply-To naming a member is kept aside as `list-author-unclear`.
//!
//! The bot trusts the list because the stack's relay stamps a Received header on every mail it
//! hands on, and Mailman sends its copies to the relay's list-server listener, whose stamp names
//! the peer `lists.localhost` (see `scripts/stack.sh`): the loopback stand-in for the list
//! server's own address. `scripts/test.sh` starts Mailman (opt out with
//! `RAPPORTEUR_TEST_MAILMAN=0`); the post through the list needs it, the forgeries do not.

mod support;

use std::time::{Duration, Instant};
use support::mail::{MailScene, OutgoingTestMail, unique_message_id};
use support::stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_through_a_dmarc_munging_mailman_list_is_answered_to_its_author() {
    if !support::mailman_in_stack() {
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

    // Eve posts through the same list with her own Reply-To naming the chair. Mailman keeps it
    // and adds Eve after it, so Reply-To names two authors: the post is not credited to the
    // chair but kept aside as list-author-unclear.
    let eve = "eve@example.net";
    let eve_id = unique_message_id();
    let eve_post = OutgoingTestMail {
        from: eve,
        from_name: "Eve",
        to: &mail.list_address,
        subject: "!whoami",
        body: "Who am I?\n",
        message_id: &eve_id,
        in_reply_to: None,
        extra_headers: &format!("Reply-To: Chair Person <{chair}>\r\n"),
    }
    .render();
    servers
        .send_raw(eve, &mail.list_address, &eve_post)
        .await
        .expect("the relay hands the post to Mailman");
    let deadline = Instant::now() + Duration::from_secs(90);
    let log = loop {
        let log = scene.bot.log();
        if log.contains("list-author-unclear") || Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        log.lines()
            .any(|line| line.contains("mail quarantined") && line.contains("list-author-unclear")),
        "the post naming two authors is kept aside with its reason: {log}"
    );
    let to_chair = servers
        .wait_for_replies(&chair, &eve_id, 0, Duration::from_secs(1))
        .await;
    assert!(
        to_chair.is_empty(),
        "the chair was not answered: {to_chair:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_list_mail_sent_straight_to_the_bot_is_not_taken_for_a_member() {
    let Some(MailScene {
        servers,
        scene,
        mail,
        chair_address: chair,
    }) = MailScene::started_at("mail.localhost").await
    else {
        return;
    };
    let eve = "eve@example.net";

    // 1. A " via " display name, with X-Original-From and Reply-To naming the chair.
    let via_id = unique_message_id();
    let via = OutgoingTestMail {
        from: eve,
        from_name: "Chair Person via TEST-CCG",
        to: &mail.bot_address,
        subject: "!whoami",
        body: "Who am I?\n",
        message_id: &via_id,
        in_reply_to: None,
        extra_headers: &format!(
            "X-Original-From: Chair Person <{chair}>\r\nReply-To: Chair Person <{chair}>\r\n"
        ),
    }
    .render();
    servers
        .send_raw(eve, &mail.bot_address, &via)
        .await
        .expect("the relay accepts the mail");
    let replies = servers
        .wait_for_replies(eve, &via_id, 1, Duration::from_secs(60))
        .await;
    assert_eq!(replies.len(), 1, "Eve is answered");
    assert!(
        replies[0].text.contains("does not list eve@example.net"),
        "answered as the stranger she is: {}",
        replies[0].text
    );
    assert_eq!(replies[0].to, eve);

    // 2. From set to the list's own address, Reply-To naming the chair, with a Received header
    //    claiming the list server below the relay's real one.
    let list_from_id = unique_message_id();
    let list_from = OutgoingTestMail {
        from: &mail.list_address,
        from_name: "Chair Person via TEST-CCG",
        to: &mail.bot_address,
        subject: "!whoami",
        body: "Who am I?\n",
        message_id: &list_from_id,
        in_reply_to: None,
        extra_headers: &format!(
            "Reply-To: Chair Person <{chair}>\r\nList-Id: <{}>\r\n",
            mail.list_id
        ),
    }
    .render();
    let mut forged =
        b"Received: from lists.localhost (lists.localhost [127.0.0.1])\r\n\tby mx.localhost \
         (rapporteur test relay) with ESMTP id forged;\r\n\tThu, 26 Nov 2026 09:00:00 +0000\r\n"
            .to_vec();
    forged.extend_from_slice(&list_from);
    servers
        .send_raw(eve, &mail.bot_address, &forged)
        .await
        .expect("the relay accepts the mail");
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = scene.bot.log();
        if log.contains("list-not-vouched") || Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        log.lines()
            .any(|line| line.contains("mail quarantined") && line.contains("list-not-vouched")),
        "the mail from the list's address is kept aside with its reason: {log}"
    );
    // Nothing went to the chair: the one mail the bot answered was Eve's.
    let to_chair = servers
        .wait_for_replies(&chair, &list_from_id, 0, Duration::from_secs(1))
        .await;
    assert!(
        to_chair.is_empty(),
        "the chair was not answered: {to_chair:?}"
    );
}
