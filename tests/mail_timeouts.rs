//! A mail server that accepts the connection and then says nothing does not freeze the mail
//! channel: the IMAP reader and the SMTP pool give up after their timeouts, log it and try
//! again, the rest of the bot goes on, and once the real server answers again, mail flows.
//! The bot serves mail only (no `[matrix]` section, a group with a list and no room).

mod support;

use std::time::Duration;
use support::mail::{OutgoingTestMail, mail_servers, pipe_to_ingest_mail, unique_message_id};
use support::mail_only::{MEMBER_ADDRESS, MailOnlyBot, path_text, quoted};
use support::proxy::SwitchableProxy;

const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_mail_servers_time_out_and_mail_flows_once_they_answer() {
    let Some(servers) = mail_servers().await else {
        return;
    };
    let tls = servers.tls.clone().expect("TLS servers");
    // IMAP over TLS (the handshake is what hangs first) and SMTP on the plain loopback port.
    let imap = SwitchableProxy::silent_in_front_of(&tls.host, tls.imaps_port).await;
    let smtp = SwitchableProxy::silent_in_front_of(&servers.host, servers.smtp_port).await;
    let mut bot = MailOnlyBot::configure("");
    let sections = format!(
        "[mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n\
         connect_timeout_seconds = 2\ncommand_timeout_seconds = 2\ndata_timeout_seconds = 5\n\n\
         [mail.imap]\nhost = {}\nport = {}\nsecurity = \"tls\"\nca_file = {}\nusername = {}\n\
         password_file = {}\nconnect_timeout_seconds = 2\ncommand_timeout_seconds = 2\n\
         poll_interval_seconds = 10\n",
        smtp.port,
        quoted(&tls.host),
        imap.port,
        path_text(&tls.ca_file),
        quoted(&bot.bot_address),
        quoted(&servers.password_file),
    );
    let config = std::fs::read_to_string(&bot.config_path).unwrap() + sections.as_str();
    std::fs::write(&bot.config_path, config).unwrap();
    bot.start();

    // The IMAP reader times out in the TLS handshake, and tries again.
    bot.wait_for_log("mail channel ready", Duration::from_secs(60))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while bot.log().matches("no progress for 2s").count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the IMAP reader did not time out twice:\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The rest of the bot goes on: a mail handed over by the MTA pipe is handled, and its
    // reply waits on the silent SMTP server, which times out.
    let piped_id = unique_message_id();
    let piped = OutgoingTestMail {
        from: MEMBER_ADDRESS,
        from_name: "Mail Member",
        to: &bot.bot_address,
        subject: "!ping",
        body: "",
        message_id: &piped_id,
        in_reply_to: None,
        extra_headers: "",
    }
    .render();
    let output = pipe_to_ingest_mail(&bot.config_path, &piped);
    assert!(output.status.success(), "ingest-mail: {output:?}");
    bot.wait_for_log(
        "no answer to the greeting and EHLO within 2s",
        Duration::from_secs(60),
    )
    .await;
    bot.wait_for_log("delivery failed; will retry", Duration::from_secs(10))
        .await;

    // The SMTP server answers again: the reply goes out.
    smtp.forward();
    let replies = servers
        .wait_for_replies(MEMBER_ADDRESS, &piped_id, 1, REPLY_TIMEOUT)
        .await;
    assert_eq!(replies.len(), 1, "the piped command was answered once");

    // The IMAP server answers again: mail sent to the bot's mailbox is read and answered.
    imap.forward();
    let read_id = unique_message_id();
    let raw = OutgoingTestMail {
        from: MEMBER_ADDRESS,
        from_name: "Mail Member",
        to: &bot.bot_address,
        subject: "!whoami",
        body: "",
        message_id: &read_id,
        in_reply_to: None,
        extra_headers: "",
    }
    .render();
    servers
        .send_raw_patiently(MEMBER_ADDRESS, &bot.bot_address, &raw)
        .await
        .expect("the relay takes the mail");
    let replies = servers
        .wait_for_replies(MEMBER_ADDRESS, &read_id, 1, REPLY_TIMEOUT)
        .await;
    assert_eq!(
        replies.len(),
        1,
        "the mail read over IMAP was answered once"
    );
    assert!(bot.log().contains("IMAP connected"));
}

/// The SMTP pool against a listener that never answers: every step that waits on the server
/// fails after its own limit with a transient error naming the step, so the dispatcher retries
/// the mail later. Needs no server.
#[tokio::test]
async fn each_smtp_step_gives_up_on_a_silent_server() {
    use lettre::address::Envelope;
    use rapporteur::config::{MailSecurity, MailTimeouts, SmtpSettings};
    use rapporteur::mail::smtp_pool::SmtpPool;

    // (security, the step that waits on the silent server)
    let cases = [
        (
            MailSecurity::Plain,
            "no answer to the greeting and EHLO within 300ms",
        ),
        (
            MailSecurity::StartTls,
            "no answer to the greeting and EHLO within 300ms",
        ),
        (
            MailSecurity::Tls,
            "no answer to the TLS connection, greeting and EHLO within 600ms",
        ),
    ];
    let silent = SwitchableProxy::silent_in_front_of("127.0.0.1", 9).await;
    for (security, step) in cases {
        let pool = SmtpPool::new(
            SmtpSettings {
                host: "127.0.0.1".into(),
                port: silent.port,
                security,
                username: None,
                password: None,
                pool_size: 1,
                ca_file: None,
                timeouts: MailTimeouts {
                    connect: Duration::from_millis(300),
                    command: Duration::from_millis(300),
                    data: Duration::from_millis(300),
                },
            },
            "rapporteur.localhost",
        );
        let envelope = Envelope::new(
            Some("bot@localhost".parse().unwrap()),
            vec!["someone@localhost".parse().unwrap()],
        )
        .unwrap();
        let failure = tokio::time::timeout(
            Duration::from_secs(30),
            pool.send(&envelope, b"Subject: x\r\n\r\nx\r\n"),
        )
        .await
        .unwrap_or_else(|_| panic!("{security:?}: the pool waited on the silent server"))
        .expect_err("nothing can be sent");
        assert!(failure.transient, "{security:?}: an outage, to retry");
        assert!(
            failure.message.contains(step),
            "{security:?}: {}",
            failure.message
        );
    }
}
