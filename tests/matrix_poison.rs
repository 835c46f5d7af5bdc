//! End-to-end: a message with a NUL character (`\u0000` in the event's JSON) in a configured room,
//! on the real homeserver, to the real bot binary, on SQLite and on PostgreSQL. PostgreSQL's TEXT
//! refuses NUL; before the storage cleaned text, the sync batch holding such an event failed to
//! be stored every time, the sync loop retried the same batch for ever, and the bot heard
//! nothing more in any room: this test sends an ordinary command after it and expects its
//! answer. (If the homeserver refused the event itself, the test says so and still checks that
//! the bot goes on; the storage tests cover the text on both databases.) The same run checks that
//! the data folder, the Matrix stores and the session file were created owner-only.

mod support;

use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use std::time::Duration;
use support::matrix::{BotProcess, GroupMember, TestClient, homeserver};

const REPLY_TIMEOUT: Duration = Duration::from_secs(45);

async fn a_nul_in_a_room_message_does_not_deafen_the_bot(postgres: bool) {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let database_url = if postgres {
        match support::fresh_postgres_url().await {
            Some(url) => Some(url),
            None => return,
        }
    } else {
        None
    };
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let chair = TestClient::login(&homeserver, &chair_user).await;
    let room = chair.create_room(false, &[&bot_user.user_id]).await;
    let room_id = room.room_id().to_owned();
    let mut bot = BotProcess::configure(
        &homeserver,
        &bot_user,
        room_id.as_str(),
        &[GroupMember {
            name: "Chair Person",
            user: &chair_user,
            organization: Some("GNSO"),
            roles: &["member", "chair"],
        }],
        database_url.as_deref(),
    );
    bot.start();
    chair
        .wait_for_join(&room_id, &bot_user.user_id, Duration::from_secs(60))
        .await;

    // A command with a NUL in it; its event reaches the bot's sync like any other.
    let poisoned = room
        .send(RoomMessageEventContent::text_plain("!ping \u{0}"))
        .await;
    let poisoned_id = match &poisoned {
        Ok(response) => Some(response.response.event_id.to_string()),
        Err(error) => {
            eprintln!("the homeserver refused an event with a NUL character: {error}");
            None
        }
    };
    let ordinary = chair.send(&room, "!ping").await;
    let reply = chair
        .wait_for_reply(&room_id, &ordinary, REPLY_TIMEOUT)
        .await;
    assert!(
        reply.json["content"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("pong"),
        "{}",
        reply.json
    );
    if let Some(poisoned_id) = poisoned_id {
        // The poisoned command itself is answered too (its NUL read as U+FFFD).
        chair
            .wait_for_reply(&room_id, &poisoned_id, REPLY_TIMEOUT)
            .await;
        let url = database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                bot.data_dir().join("data/rapporteur.db").display()
            )
        });
        let store = rapporteur::storage::Store::connect(&url, 1)
            .await
            .expect("open the bot's database");
        let (body,): (String,) = sqlx::query_as("SELECT body FROM inbox WHERE external_id = $1")
            .bind(&poisoned_id)
            .fetch_one(store.pool())
            .await
            .expect("the event is in the inbox");
        assert_eq!(body, "!ping \u{FFFD}");
        store.close().await;
    }
    // The bot's files are its owner's alone: the data folder, the Matrix stores and the
    // session file (an access token) are created owner-only, whatever the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let data = bot.data_dir().join("data");
        for (path, wanted) in [
            (data.clone(), 0o700),
            (data.join("matrix"), 0o700),
            (data.join("matrix/store"), 0o700),
            (data.join("matrix/session.json"), 0o600),
        ] {
            let mode = std::fs::metadata(&path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, wanted, "{}", path.display());
        }
    }
    assert!(
        !bot.log().contains("the sync will be repeated"),
        "no sync batch failed to be stored:\n{}",
        bot.log()
    );
}

#[tokio::test]
async fn a_nul_in_a_room_message_does_not_deafen_the_bot_on_sqlite() {
    a_nul_in_a_room_message_does_not_deafen_the_bot(false).await;
}

#[tokio::test]
async fn a_nul_in_a_room_message_does_not_deafen_the_bot_on_postgres() {
    a_nul_in_a_room_message_does_not_deafen_the_bot(true).await;
}
