//! The rate limits end to end (issue 10, item 14): the real bot binary on the loopback stack,
//! and a member whose mailbox runs an autoresponder that marks nothing (no `Auto-Submitted`),
//! quotes the bot's mail and answers every mail it gets. The test plays that autoresponder: it
//! reads each mail the bot sends to the member from the relay's sent folder and answers it. Its
//! answer, "Received.", is one word above a quote, which the bot reads as a bare-word command;
//! before the limits, the two robots mailed each other until someone stopped one of them.

mod support;

use rapporteur::mail::MAIL_CHANNEL;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::mail::{
    OutgoingTestMail, ReceivedMail, email_of, mail_servers, newly_relayed, relay_sent_dir,
    unique_message_id,
};
use support::matrix::{ChairRoom, bot_store, homeserver};

/// The limit configured for the test: small, so the loop's end comes quickly.
const ANSWERS_PER_SENDER: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_with_an_unmarked_autoresponder_ends_after_the_limit_and_one_notice() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let Some(servers) = mail_servers().await else {
        return;
    };
    let Some(sent_dir) = relay_sent_dir().or_else(|| {
        support::unavailable(
            "the relay's sent folder",
            "RAPPORTEUR_MAIL_SENT_DIR is not set",
        )
    }) else {
        return;
    };
    let mut scene = ChairRoom::prepare(&homeserver).await;
    let mail = scene.bot.enable_mail(&servers);
    let mut config = std::fs::read_to_string(&scene.bot.config_path).expect("config");
    config.push_str(&format!(
        "\n[limits]\nwindow_minutes = 60\nanswers_per_sender = {ANSWERS_PER_SENDER}\nmails_per_address = 1000\n"
    ));
    std::fs::write(&scene.bot.config_path, config).expect("write config");
    scene.bot.start();
    scene.wait_for_bot().await;
    let member = email_of(&scene.chair_user.user_id);

    // What the relay held before this test is not the bot's mail to this member.
    let mut seen = HashSet::new();
    newly_relayed(&sent_dir, &mut seen);

    let send = |subject: String, body: String, in_reply_to: Option<String>| {
        let servers = servers.clone();
        let member = member.clone();
        let bot_address = mail.bot_address.clone();
        async move {
            let message_id = unique_message_id();
            let raw = OutgoingTestMail {
                from: &member,
                from_name: "Chair Person",
                to: &bot_address,
                subject: &subject,
                body: &body,
                message_id: &message_id,
                in_reply_to: in_reply_to.as_deref(),
                extra_headers: "",
            }
            .render();
            servers
                .send_raw(&member, &bot_address, &raw)
                .await
                .expect("the relay accepts the mail");
            message_id
        }
    };

    // The member writes once; from then on only the autoresponder writes.
    send("!ping".into(), String::new(), None).await;
    let mut bot_mails: Vec<ReceivedMail> = Vec::new();
    let mut last_autoresponse: Option<String> = None;
    let store = bot_store(&scene.bot).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        for relayed in newly_relayed(&sent_dir, &mut seen) {
            if !relayed.rcpt_tos.contains(&member) {
                continue;
            }
            let received = ReceivedMail::parse(relayed.raw);
            if received.from != mail.bot_address {
                continue;
            }
            assert!(
                bot_mails.len() < ANSWERS_PER_SENDER + 1,
                "the bot keeps answering the autoresponder: mail {} is {:?}",
                bot_mails.len() + 1,
                received.text
            );
            // The autoresponder: one word, the bot's mail quoted below, no Auto-Submitted.
            let quoted: String = received
                .text
                .lines()
                .map(|line| format!("> {line}\n"))
                .collect();
            let body = format!("Received.\n\nOn today, the bot wrote:\n{quoted}");
            let bot_message_id = received.message_id.clone().expect("a Message-ID");
            let subject = format!("Re: {}", received.subject.trim_start_matches("Re: "));
            last_autoresponse = Some(send(subject, body, Some(bot_message_id)).await);
            bot_mails.push(received);
        }
        // The loop has ended when the autoresponder's answer to the notice was handled and
        // produced nothing.
        if bot_mails.len() == ANSWERS_PER_SENDER + 1
            && let Some(last) = &last_autoresponse
            && store
                .inbox_contains(MAIL_CHANNEL, last)
                .await
                .expect("inbox")
            && store.pending_inbox(1).await.expect("inbox").is_empty()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the exchange did not reach its end: {} mails from the bot",
            bot_mails.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert!(bot_mails[0].text.contains("pong"), "{}", bot_mails[0].text);
    for answer in &bot_mails[1..ANSWERS_PER_SENDER] {
        assert!(
            answer.text.contains("There is no command `!received`"),
            "{}",
            answer.text
        );
    }
    let notice = &bot_mails[ANSWERS_PER_SENDER];
    assert!(
        notice
            .text
            .contains("the most I answer one sender in that time"),
        "the last mail is the notice: {}",
        notice.text
    );
    // Nothing more was queued for the member after the notice, and the relay saw nothing more.
    let history = store
        .sender_history(MAIL_CHANNEL, &member, 0)
        .await
        .expect("history");
    assert_eq!(history.answered as usize, ANSWERS_PER_SENDER);
    assert!(history.told_of_limit);
    assert_eq!(
        store
            .mails_queued_for(&member, 0)
            .await
            .expect("outbox count") as usize,
        ANSWERS_PER_SENDER + 1
    );
    let late: Vec<_> = newly_relayed(&sent_dir, &mut seen)
        .into_iter()
        .filter(|relayed| relayed.rcpt_tos.contains(&member))
        .collect();
    assert!(late.is_empty(), "{} more mails to the member", late.len());
}
