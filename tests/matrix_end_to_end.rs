//! End-to-end: real users on the real homeserver send commands to the real bot binary, in a plain
//! and in an encrypted room, and read its replies through their own Matrix clients. The expected
//! text of each reply is what the core decides for the same message, so these tests check the
//! Matrix path (delivery, threading, formatting, mentions, encryption), and the command examples
//! test checks the wording.

mod support;

use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::SenderAddress;
use rapporteur::core::engine::Engine;
use std::time::Duration;
use support::matrix::{BotProcess, ChairRoom, GroupMember, TestClient, homeserver};

const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

async fn commands_are_answered(encrypted: bool) {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let member_user = homeserver.register("member").await;
    let stranger_user = homeserver.register("stranger").await;
    let chair = TestClient::login(&homeserver, &chair_user).await;
    let member = TestClient::login(&homeserver, &member_user).await;
    let stranger = TestClient::login(&homeserver, &stranger_user).await;

    let room = chair
        .create_room(
            encrypted,
            &[
                &bot_user.user_id,
                &member_user.user_id,
                &stranger_user.user_id,
            ],
        )
        .await;
    let room_id = room.room_id().to_owned();
    let member_room = member.join(&room_id).await;
    let stranger_room = stranger.join(&room_id).await;

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
                name: "Member Person",
                user: &member_user,
                organization: Some("ALAC"),
                roles: &["member"],
            },
        ],
        None,
    );
    // Sent after the bot was invited but before it joined: history, not a command.
    let before_join = chair.send(&room, "!whoami").await;
    bot.start();
    // Every sender must have seen the bot join, so that in the encrypted room their clients
    // share the room key with the bot's device.
    for client in [&chair, &member, &stranger] {
        client
            .wait_for_join(&room_id, &bot_user.user_id, Duration::from_secs(60))
            .await;
    }

    let group =
        load_group_file(&bot.data_dir().join("group.toml"), "test-ccg", "UTC").expect("group file");
    let engine = Engine::new(Catalog::builtin().expect("catalog"), "!");
    let hostile = "!whoami \"<b>@room</b> & <script>\"";
    let cases: Vec<(&TestClient, &matrix_sdk::Room, &str)> = vec![
        (&chair, &room, "!help"),
        (&chair, &room, "!help roster"),
        (&chair, &room, "!whoami"),
        (&chair, &room, "!roster"),
        (&chair, &room, "!roster a b"),
        (&chair, &room, "!rooster"),
        (&member, &member_room, "!whoami @someone:localhost"),
        (&stranger, &stranger_room, "!whoami"),
        (&chair, &room, hostile),
    ];
    let mut sent = Vec::new();
    for (client, client_room, body) in &cases {
        sent.push((*client, *body, client.send(client_room, body).await));
    }
    let chat = chair.send(&room, "thanks all, see you next month").await;
    // An edit that turns a message into a command is not run (nor would a re-edited command be
    // run twice).
    let edit = room
        .send_raw(
            "m.room.message",
            serde_json::json!({
                "msgtype": "m.text",
                "body": "* !roster",
                "m.new_content": {"msgtype": "m.text", "body": "!roster"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": chat},
            }),
        )
        .await
        .expect("send an edit")
        .response
        .event_id
        .to_string();
    let ping = chair.send(&room, "!PING").await;

    for (client, body, event_id) in &sent {
        let reply = client
            .wait_for_reply(&room_id, event_id, REPLY_TIMEOUT)
            .await;
        let sender = SenderAddress::Matrix(client.user.user_id.clone());
        let expected = engine
            .decide_command(
                &rapporteur::core::state::GroupState::default(),
                &group,
                &sender,
                body,
                jiff::Timestamp::now(),
            )
            .reply()
            .expect("the core answers this")
            .clone();
        let content = &reply.json["content"];
        assert_eq!(content["body"], expected.plain_text(), "reply to {body:?}");
        assert_eq!(
            content["formatted_body"],
            expected.html(),
            "reply to {body:?}"
        );
        assert_eq!(content["format"], "org.matrix.custom.html");
        assert_eq!(content["msgtype"], "m.notice", "bots answer in notices");
        assert_eq!(
            content["m.mentions"]["user_ids"],
            serde_json::json!([client.user.user_id])
        );
        assert_eq!(reply.json["sender"], bot_user.user_id.as_str());
        assert_eq!(
            reply.was_encrypted, encrypted,
            "reply to {body:?} encrypted as the room is"
        );
    }
    let ping_reply = chair.wait_for_reply(&room_id, &ping, REPLY_TIMEOUT).await;
    let ping_text = ping_reply.json["content"]["body"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        ping_text.starts_with("pong from rapporteur for TEST-CCG, at ")
            && ping_text.contains("Europe/Brussels"),
        "{ping_text}"
    );

    // The hostile argument reaches the HTML only escaped.
    let hostile_event = &sent.last().expect("sent").2;
    let hostile_reply = chair.replies_to(&room_id, hostile_event).remove(0);
    let html = hostile_reply.json["content"]["formatted_body"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !html.contains("<b>") && !html.contains("<script>") && html.contains("&lt;b&gt;"),
        "{html}"
    );

    // Chat is not a command: give the bot time to have answered if it were going to.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        chair.replies_to(&room_id, &chat).is_empty(),
        "chat got a reply"
    );
    assert!(
        chair.replies_to(&room_id, &edit).is_empty(),
        "an edit got a reply"
    );
    assert!(
        chair.replies_to(&room_id, &before_join).is_empty(),
        "a message from before the bot joined got a reply"
    );
    // Every command got exactly one reply.
    for (client, body, event_id) in &sent {
        assert_eq!(
            client.replies_to(&room_id, event_id).len(),
            1,
            "replies to {body:?}"
        );
    }
    let log = bot.log();
    assert!(!log.contains("panicked"), "{log}");
    // No backup was set up: the SDK's attempt after every sync must not fill the log with a
    // warning an operator can do nothing about (see `rapporteur::logging`).
    assert!(!log.contains("no backup key was found"), "{log}");

    if !encrypted {
        // An invite to a room that no group uses is declined.
        let other = chair.create_room(false, &[&bot_user.user_id]).await;
        let other_id = other.room_id().to_owned();
        let deadline = std::time::Instant::now() + REPLY_TIMEOUT;
        loop {
            let declined = chair.events_in(&other_id).iter().any(|event| {
                event.json["type"] == "m.room.member"
                    && event.json["state_key"] == bot_user.user_id.as_str()
                    && event.json["content"]["membership"] == "leave"
            });
            if declined {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the bot did not decline the invite:\n{}",
                bot.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_in_a_plain_room() {
    commands_are_answered(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_in_an_encrypted_room() {
    commands_are_answered(true).await;
}

/// With an access token instead of a password, the bot takes the token's device and answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_can_run_on_an_access_token() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let mut scene = ChairRoom::prepare(&homeserver).await;
    let bot_user = scene.bot_user.clone();
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/_matrix/client/v3/login", homeserver.url))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": bot_user.localpart},
            "password": bot_user.password,
            "device_id": "TOKENDEVICE",
        }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login answer");
    let token = login["access_token"].as_str().expect("token").to_string();
    scene
        .bot
        .start_with_secret("RAPPORTEUR_MATRIX_ACCESS_TOKEN", &token);
    scene.wait_for_bot().await;
    let ping = scene.chair.send(&scene.room, "!ping").await;
    scene
        .chair
        .wait_for_reply(&scene.room_id, &ping, REPLY_TIMEOUT)
        .await;
    assert_eq!(
        scene.bot.devices_used(),
        vec!["Some(\"TOKENDEVICE\")".to_string()]
    );
}

/// The SDK's room state lives in memory (issue 11): after a restart the bot learns the rooms
/// again from a full-state sync. A member who joined while the bot was down is answered in an
/// encrypted reply that the member's own device can read, and nothing of the SDK's state store
/// is left on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_replies_stay_encrypted_for_members_who_joined_meanwhile() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let late_user = homeserver.register("late").await;
    let chair = TestClient::login(&homeserver, &chair_user).await;
    let room = chair
        .create_room(true, &[&bot_user.user_id, &late_user.user_id])
        .await;
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
                name: "Late Member",
                user: &late_user,
                organization: Some("ALAC"),
                roles: &["member"],
            },
        ],
        None,
    );
    bot.start();
    chair
        .wait_for_join(&room_id, &bot_user.user_id, Duration::from_secs(60))
        .await;
    let before = chair.send(&room, "!ping").await;
    let reply = chair.wait_for_reply(&room_id, &before, REPLY_TIMEOUT).await;
    assert!(reply.was_encrypted, "{:?}", reply.json);

    bot.kill();
    let late = TestClient::login(&homeserver, &late_user).await;
    let late_room = late.join(&room_id).await;
    bot.start();
    let from_late = late.send(&late_room, "!whoami").await;
    let reply = late
        .wait_for_reply(&room_id, &from_late, REPLY_TIMEOUT)
        .await;
    assert!(
        reply.was_encrypted,
        "the late member's client decrypted the reply: {:?}",
        reply.json
    );
    assert!(
        reply.json["content"]["body"]
            .as_str()
            .is_some_and(|body| body.contains("Late Member")),
        "{:?}",
        reply.json
    );
    let after = chair.send(&room, "!ping").await;
    let reply = chair.wait_for_reply(&room_id, &after, REPLY_TIMEOUT).await;
    assert!(reply.was_encrypted, "{:?}", reply.json);

    let store = bot.data_dir().join("data/matrix/store");
    let files: Vec<String> = std::fs::read_dir(&store)
        .expect("the SDK's store folder")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files
            .iter()
            .all(|name| name.starts_with("matrix-sdk-crypto")),
        "only the crypto store is kept on disk: {files:?}"
    );
}
