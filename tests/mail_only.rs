//! A bot configured without `[matrix]` serves its group by mail alone (the group has a mailing
//! list and no room), here over the plain loopback ports, which the rest of the mail suite
//! leaves for TLS.

mod support;

use std::time::Duration;
use support::mail::{OutgoingTestMail, mail_servers, unique_message_id};
use support::mail_only::{MEMBER_ADDRESS, MailOnlyBot, quoted};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_only_bot_answers_mail_over_plain_loopback_connections() {
    let Some(servers) = mail_servers().await else {
        return;
    };
    let mut bot = MailOnlyBot::configure("");
    let sections = format!(
        "[mail.smtp]\nhost = {host}\nport = {}\nsecurity = \"plain\"\n\n\
         [mail.imap]\nhost = {host}\nport = {}\nsecurity = \"plain\"\nusername = {}\n\
         password_file = {}\n",
        servers.smtp_port,
        servers.imap_port,
        quoted(&bot.bot_address),
        quoted(&servers.password_file),
        host = quoted(&servers.host),
    );
    let config = std::fs::read_to_string(&bot.config_path).unwrap() + sections.as_str();
    std::fs::write(&bot.config_path, config).unwrap();
    bot.start();
    bot.wait_for_log("IMAP connected", Duration::from_secs(60))
        .await;

    let message_id = unique_message_id();
    let raw = OutgoingTestMail {
        from: MEMBER_ADDRESS,
        from_name: "Mail Member",
        to: &bot.bot_address,
        subject: "!whoami",
        body: "",
        message_id: &message_id,
        in_reply_to: None,
        extra_headers: "",
    }
    .render();
    servers
        .send_raw_patiently(MEMBER_ADDRESS, &bot.bot_address, &raw)
        .await
        .expect("the relay takes the mail");
    let replies = servers
        .wait_for_replies(MEMBER_ADDRESS, &message_id, 1, Duration::from_secs(60))
        .await;
    assert_eq!(replies.len(), 1, "answered once");
    assert!(
        replies[0].text.contains("Mail Member"),
        "{}",
        replies[0].text
    );
    let log = bot.log();
    assert!(!log.contains("homeserver"), "no Matrix at all:\n{log}");
}
