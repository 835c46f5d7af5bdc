//! The bot's own mail is known by exact identity, end to end (issue 17): the real bot binary,
//! SMTP relay, dovecot and Mailman 3 list of `scripts/stack.sh`, on SQLite and PostgreSQL.
//!
//! A staff member whose address is in the bot's own Message-ID domain, writing Message-IDs in
//! it as Thunderbird does, is answered, and so is a mail carrying a forged
//! `X-Rapporteur-Origin`; the bot's poll mail coming back to it through the list is ignored as
//! its own and shows in `rapporteur ignored-mail`; an option number answering a made-up ID in
//! the bot's domain gives no context (ignored as no-command), while the same answer to the
//! poll's real mail counts as a vote.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::mail::{MailServers, OutgoingTestMail, REPLY_TIMEOUT, ReceivedMail, mail_servers};
use support::matrix::{BotProcess, GroupMember, TestClient, homeserver, unique_name};

/// The bot's Message-ID domain in the tests' configuration (`enable_mail_at`).
const BOT_DOMAIN: &str = "rapporteur.localhost";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bots_own_mail_is_known_by_its_tag_on_sqlite() {
    the_bots_own_mail_is_known_by_its_tag(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bots_own_mail_is_known_by_its_tag_on_postgres() {
    let Some(url) = support::fresh_postgres_url().await else {
        return;
    };
    the_bots_own_mail_is_known_by_its_tag(Some(url)).await;
}

/// `rapporteur ignored-mail` on the bot's configuration.
fn ignored_mail(bot: &BotProcess, reason: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(&bot.config_path)
        .args(["ignored-mail", "--reason", reason])
        .env_remove("RAPPORTEUR_SMTP_PORT")
        .env_remove("RAPPORTEUR_IMAP_PORT")
        .output()
        .expect("run rapporteur ignored-mail");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits until `rapporteur ignored-mail --reason <reason>` lists a mail with `needle`.
async fn wait_until_ignored(bot: &BotProcess, reason: &str, needle: &str) -> String {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        let listed = ignored_mail(bot, reason);
        if listed.lines().any(|line| line.contains(needle)) {
            return listed;
        }
        assert!(
            Instant::now() < deadline,
            "no mail with {needle:?} ignored as {reason} within {REPLY_TIMEOUT:?}:\n{listed}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Mei sends a raw mail to the bot; returns its Message-ID.
async fn mei_sends(
    servers: &MailServers,
    mei: &str,
    bot_address: &str,
    subject: &str,
    body: &str,
    in_reply_to: Option<&str>,
    extra_headers: &str,
) -> String {
    // The Message-ID a Thunderbird of the bot's domain writes: a UUID at the sender's domain.
    let message_id = format!("<{}@{BOT_DOMAIN}>", unique_name("4f1c2a9e-tb"));
    let raw = OutgoingTestMail {
        from: mei,
        from_name: "Mei Chen",
        to: bot_address,
        subject,
        body,
        message_id: &message_id,
        in_reply_to,
        extra_headers,
    }
    .render();
    servers
        .send_raw(mei, bot_address, &raw)
        .await
        .expect("the relay accepts Mei's mail");
    message_id
}

async fn only_reply(servers: &MailServers, to: &str, message_id: &str) -> ReceivedMail {
    let mut replies = servers
        .wait_for_replies(to, message_id, 1, REPLY_TIMEOUT)
        .await;
    assert_eq!(replies.len(), 1, "one reply to {message_id}");
    replies.remove(0)
}

async fn the_bots_own_mail_is_known_by_its_tag(database_url: Option<String>) {
    if !support::mailman_in_stack() {
        return;
    }
    let (Some(homeserver), Some(servers)) = (homeserver().await, mail_servers().await) else {
        return;
    };
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let mei_user = homeserver.register("mei").await;
    let chair = TestClient::login(&homeserver, &chair_user).await;
    let room = chair.create_room(false, &[&bot_user.user_id]).await;
    let room_id = room.room_id().to_owned();
    let mut bot = BotProcess::configure(
        &homeserver,
        &bot_user,
        room_id.as_str(),
        &[
            GroupMember {
                name: "Chair Person",
                user: &chair_user,
                organization: Some("GNSO"),
                roles: &["member", "chair"],
            },
            GroupMember {
                name: "Mei Chen",
                user: &mei_user,
                organization: Some("ALAC"),
                roles: &["member"],
            },
        ],
        database_url.as_deref(),
    );
    // Mei's address is in the bot's own Message-ID domain, as a staff member's or the member of
    // a group hosted by one organization would be.
    let mei = format!("{}@{BOT_DOMAIN}", mei_user.localpart);
    let group_file = bot.folder.path().join("group.toml");
    let group = std::fs::read_to_string(&group_file).expect("read the group file");
    let example_address = support::mail::email_of(&mei_user.user_id);
    assert!(group.contains(&example_address));
    std::fs::write(
        &group_file,
        group.replace(&format!("\"{example_address}\""), &format!("\"{mei}\"")),
    )
    .expect("write the group file");
    let mail = bot.enable_mail_at(&servers, "mail.localhost");
    let chair_address = support::mail::email_of(&chair_user.user_id);
    support::stack(&[
        "mailman-list",
        &mail.list_address,
        &format!("Chair Person <{chair_address}>"),
        &mail.bot_address,
    ]);
    bot.start();
    chair
        .wait_for_join(&room_id, &bot_user.user_id, Duration::from_secs(60))
        .await;

    // A member in the bot's domain, with a Thunderbird-style Message-ID there, is answered.
    let asked = mei_sends(&servers, &mei, &mail.bot_address, "!whoami", "", None, "").await;
    let reply = only_reply(&servers, &mei, &asked).await;
    assert!(reply.text.contains("Mei Chen"), "{}", reply.text);
    let bot_id = reply.message_id.clone().expect("the reply's Message-ID");
    assert!(
        bot_id.starts_with("<rapporteur-") && bot_id.ends_with(&format!("@{BOT_DOMAIN}>")),
        "{bot_id}"
    );
    // A forged origin header does not silence her.
    let forged = mei_sends(
        &servers,
        &mei,
        &mail.bot_address,
        "!whoami",
        "",
        None,
        &format!("X-Rapporteur-Origin: {BOT_DOMAIN}\r\n"),
    )
    .await;
    only_reply(&servers, &mei, &forged).await;

    // The poll goes to the list; the list's copy comes back to the bot's own mailbox through
    // Mailman and is ignored as the bot's own, visibly.
    let opened = chair
        .say(
            &room,
            "!poll open \"Which date suits?\" \"9 March\" \"16 March\"",
            REPLY_TIMEOUT,
        )
        .await;
    assert!(opened.starts_with("Opened R-1 poll"), "{opened}");
    let poll_mail = servers
        .wait_for_mail(&chair_address, 1, REPLY_TIMEOUT, |mail| {
            mail.subject.contains("R-1: poll")
        })
        .await
        .remove(0);
    let poll_id = poll_mail.message_id.clone().expect("the poll mail's ID");
    let listed = wait_until_ignored(&bot, "own-message", "R-1: poll").await;
    assert!(listed.contains(&poll_id), "{listed}");

    // An option number answering a made-up ID in the bot's form and domain is no answer: it
    // inherits nothing and is ignored as mail without a command.
    let made_up = format!(
        "<rapporteur-{}.00112233445566778899@{BOT_DOMAIN}>",
        "0123456789abcdef".repeat(2)
    );
    let unanswered = mei_sends(
        &servers,
        &mei,
        &mail.bot_address,
        "Re: R-1: poll",
        "2\n",
        Some(&made_up),
        "",
    )
    .await;
    wait_until_ignored(&bot, "no-command", &unanswered).await;
    // The same answer to the poll's real mail is a vote.
    let voted = mei_sends(
        &servers,
        &mei,
        &mail.bot_address,
        "Re: R-1: poll",
        "2\n",
        Some(&poll_id),
        "",
    )
    .await;
    let receipt = only_reply(&servers, &mei, &voted).await;
    assert!(
        receipt.text.contains("R-1") && receipt.text.contains("16 March"),
        "{}",
        receipt.text
    );
    let shown = chair.say(&room, "!poll show R-1", REPLY_TIMEOUT).await;
    assert!(shown.contains("16 March: 1"), "{shown}");
    assert!(shown.contains("9 March: 0"), "{shown}");
}
