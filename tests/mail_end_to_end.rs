//! The mailing list as a channel, end to end: real SMTP relay and dovecot from
//! `scripts/stack.sh`, the real bot binary, and subscribers who send raw mail by SMTP and read
//! their IMAP inbox. The bot also sits in a Matrix room, so one person can be compared across
//! the two channels.

mod support;

use std::time::Duration;
use support::mail::{MailScene, OutgoingTestMail, pipe_to_ingest_mail, unique_message_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_by_mail_gets_a_threaded_reply_and_a_bare_word_answer_works() {
    let Some(scene) = MailScene::started().await else {
        return;
    };
    let chair = scene.chair_address.clone();

    let first = scene.send(&chair, "!whoami", "", None).await;
    let reply = scene.only_reply(&chair, &first).await;
    assert_eq!(reply.from, scene.mail.bot_address);
    assert_eq!(reply.subject, "Re: !whoami");
    assert_eq!(reply.auto_submitted.as_deref(), Some("auto-replied"));
    assert!(
        reply.references.contains(&first),
        "References: {:?}",
        reply.references
    );
    let bot_message_id = reply
        .message_id
        .clone()
        .expect("the reply has a Message-ID");
    assert!(
        bot_message_id.ends_with("@rapporteur.localhost>"),
        "{bot_message_id}"
    );
    assert!(
        reply.html.contains("Chair Person"),
        "HTML part: {}",
        reply.html
    );

    // The same person asks in the room: the same answer, word for word.
    let event = scene.scene.chair.send(&scene.scene.room, "!whoami").await;
    let chat = scene
        .scene
        .chair
        .wait_for_reply(&scene.scene.room_id, &event, Duration::from_secs(30))
        .await;
    let chat_body = chat.json["content"]["body"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        reply.text.replace("\r\n", "\n").trim(),
        chat_body.trim(),
        "mail and chat answers differ"
    );

    // A reply to the bot's mail with one word in it, quoting the bot below as clients do.
    let quoted: String = reply
        .text
        .lines()
        .map(|line| format!("> {line}\n"))
        .collect();
    let body = format!("roster\n\nOn Wed, the bot wrote:\n{quoted}");
    let answer = scene
        .send(&chair, "Re: !whoami", &body, Some(&bot_message_id))
        .await;
    let roster = scene.only_reply(&chair, &answer).await;
    assert!(
        roster.text.contains("TEST-CCG") && roster.text.contains("Chair Person"),
        "the bare word was read as !roster: {}",
        roster.text
    );
    assert!(roster.references.contains(&bot_message_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dmarc_rewritten_list_post_is_attributed_to_its_author() {
    let Some(scene) = MailScene::started().await else {
        return;
    };
    let chair = scene.chair_address.clone();
    let message_id = unique_message_id();
    // What Mailman makes of the chair's post when it rewrites From for DMARC (the author in
    // Reply-To), sent as the list server sends it: to the relay's list-server listener, so the
    // receiving server's Received header vouches that the list delivered it. The same mail
    // sent straight to the bot is a forgery (tests/mailman_end_to_end.rs).
    let extra = format!(
        "Reply-To: Chair Person <{chair}>\r\nList-Id: TEST-CCG <{list_id}>\r\n\
         List-Post: <mailto:{list}>\r\nPrecedence: list\r\n",
        list = scene.mail.list_address,
        list_id = scene.mail.list_id,
    );
    let raw = OutgoingTestMail {
        from: &scene.mail.list_address,
        from_name: "Chair Person via TEST-CCG",
        to: &scene.mail.list_address,
        subject: "[TEST-CCG] !whoami",
        body: "Checking what the bot knows about me.\n\n!whoami\n",
        message_id: &message_id,
        in_reply_to: None,
        extra_headers: &extra,
    }
    .render();
    scene
        .servers
        .send_raw_as_list_server(&scene.mail.list_address, &scene.mail.bot_address, &raw)
        .await
        .expect("sent");
    let reply = scene.only_reply(&chair, &message_id).await;
    assert!(reply.text.contains("Chair Person"), "{}", reply.text);
    assert!(
        !reply.text.contains("not in"),
        "the author was recognised: {}",
        reply.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_mail_twice_by_smtp_and_by_pipe_is_answered_once() {
    let Some(scene) = MailScene::started().await else {
        return;
    };
    let chair = scene.chair_address.clone();
    let message_id = unique_message_id();
    let raw = OutgoingTestMail {
        from: &chair,
        from_name: "Chair Person",
        to: &scene.mail.bot_address,
        subject: "!ping",
        body: "",
        message_id: &message_id,
        in_reply_to: None,
        extra_headers: "",
    }
    .render();
    for _ in 0..2 {
        scene
            .servers
            .send_raw(&chair, &scene.mail.bot_address, &raw)
            .await
            .expect("sent");
    }
    // The MTA pipe path, with the same message.
    let output = pipe_to_ingest_mail(&scene.scene.bot.config_path, &raw);
    assert!(
        output.status.success(),
        "ingest-mail: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A later command is answered only after the earlier mail was handled (one mailbox, read
    // in order), so once its reply is in, any second reply to the first would be too.
    let sentinel = scene.send(&chair, "!whoami", "", None).await;
    scene.only_reply(&chair, &sentinel).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let replies = scene
        .servers
        .wait_for_replies(&chair, &message_id, 1, Duration::from_secs(1))
        .await;
    assert_eq!(replies.len(), 1, "one reply, not {}", replies.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_gets_one_answer_a_day_and_automatic_mail_none() {
    let Some(scene) = MailScene::started().await else {
        return;
    };
    let stranger = format!("stranger-{}@example.net", std::process::id());
    let first = scene.send(&stranger, "!whoami", "", None).await;
    let answer = scene.only_reply(&stranger, &first).await;
    assert!(
        answer.text.contains(&format!("does not list {stranger}")),
        "the stranger is told the group does not know the address: {}",
        answer.text
    );
    let second = scene.send(&stranger, "!ping", "", None).await;
    // An auto-reply with a command in it is never answered.
    let automatic_id = unique_message_id();
    let automatic = OutgoingTestMail {
        from: &scene.chair_address,
        from_name: "Chair Person",
        to: &scene.mail.bot_address,
        subject: "Out of office: !ping",
        body: "!ping\n",
        message_id: &automatic_id,
        in_reply_to: None,
        extra_headers: "Auto-Submitted: auto-replied\r\n",
    }
    .render();
    scene
        .servers
        .send_raw(&scene.chair_address, &scene.mail.bot_address, &automatic)
        .await
        .expect("sent");
    let sentinel = scene.send(&scene.chair_address, "!ping", "", None).await;
    scene.only_reply(&scene.chair_address, &sentinel).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stranger_replies = scene
        .servers
        .wait_for_replies(&stranger, &second, 1, Duration::from_secs(1))
        .await;
    assert!(
        stranger_replies.is_empty(),
        "a second answer the same day to a stranger"
    );
    let automatic_replies = scene
        .servers
        .wait_for_replies(
            &scene.chair_address,
            &automatic_id,
            1,
            Duration::from_secs(1),
        )
        .await;
    assert!(automatic_replies.is_empty(), "an auto-reply was answered");
}
