//! Encrypted rooms on the real homeserver (issue 10, items 3 and 7).
//!
//! Which senders' encrypted events count: a member whose account has cross-signing set up gets
//! an answer to a command sent from a session that the account signed, and a refusal with the
//! reason from a session that it did not sign (which is also what a device added by the
//! homeserver looks like). The other refusals of the rule (a key of another user, a changed
//! identity) cannot be produced by an honest homeserver; the table test in `src/matrix/trust.rs`
//! covers them.
//!
//! Undecryptable events: a command whose room key is held back is seen by the bot, whose sync
//! token moves past it; the bot is killed, the key is released, the bot restarts, and the
//! command is answered exactly once.

mod support;

use matrix_sdk::ruma::api::client::uiaa;
use std::time::{Duration, Instant};
use support::matrix::{BotProcess, GroupMember, TestClient, TestUser, homeserver};

const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// Sets up cross-signing for the user's account from this client's session, which the new
/// identity signs. Synapse lets the first upload of cross-signing keys through without
/// interactive authentication; a homeserver that asks for it gets the password.
async fn bootstrap_cross_signing(client: &TestClient, user: &TestUser) {
    let encryption = client.client.encryption();
    if let Err(error) = encryption.bootstrap_cross_signing(None).await {
        let Some(response) = error.as_uiaa_response() else {
            panic!("cannot set up cross-signing: {error}");
        };
        let mut password = uiaa::Password::new(
            uiaa::UserIdentifier::Matrix(uiaa::MatrixUserIdentifier::new(user.user_id.clone())),
            user.password.clone(),
        );
        password.session = response.session.clone();
        encryption
            .bootstrap_cross_signing(Some(uiaa::AuthData::Password(password)))
            .await
            .expect("cross-signing with the password");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_from_a_session_its_owner_did_not_sign_is_refused_with_the_reason() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let signed = TestClient::login(&homeserver, &chair_user).await;
    bootstrap_cross_signing(&signed, &chair_user).await;
    let room = signed.create_room(true, &[&bot_user.user_id]).await;
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
        None,
    );
    bot.start();
    signed
        .wait_for_join(&room_id, &bot_user.user_id, REPLY_TIMEOUT)
        .await;

    // A second session of the same account, which the account's identity never signed.
    let unsigned = TestClient::login(&homeserver, &chair_user).await;
    let unsigned_room = unsigned
        .client
        .get_room(&room_id)
        .expect("the second session sees the room");
    let refused = unsigned.send(&unsigned_room, "!whoami").await;
    let refusal = unsigned
        .wait_for_reply(&room_id, &refused, REPLY_TIMEOUT)
        .await;
    let text = refusal.json["content"]["body"].as_str().unwrap_or_default();
    assert!(
        text.contains("I did not act on this message")
            && text.contains("session (device) that you have not verified"),
        "the refusal says why and what to do: {text}"
    );
    assert_eq!(refusal.json["content"]["msgtype"], "m.notice");
    assert_eq!(
        refusal.json["content"]["m.mentions"]["user_ids"],
        serde_json::json!([chair_user.user_id])
    );
    assert!(
        refusal.was_encrypted,
        "the refusal is encrypted as the room is"
    );
    assert!(
        bot.log()
            .contains("an encrypted message does not count as its sender's"),
        "the refusal is logged"
    );

    // The session the identity signed is trusted without the bot verifying the identity.
    let accepted = signed.send(&room, "!whoami").await;
    let answer = signed
        .wait_for_reply(&room_id, &accepted, REPLY_TIMEOUT)
        .await;
    let text = answer.json["content"]["body"].as_str().unwrap_or_default();
    assert!(
        text.contains("Chair Person"),
        "the command of the signed session is acted on: {text}"
    );
}

mod held_keys {
    //! A sending device whose room key the test holds back: an `OlmMachine` of its own, talking
    //! to the homeserver over plain HTTP, so the test decides when the key's to-device messages
    //! go out. Every request is a real Client-Server API call.

    use matrix_sdk::ruma::api::client::keys::{claim_keys, get_keys, upload_keys};
    use matrix_sdk::ruma::api::client::to_device::send_event_to_device;
    use matrix_sdk::ruma::events::AnyMessageLikeEventContent;
    use matrix_sdk::ruma::serde::Raw;
    use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId, RoomId, UserId};
    use matrix_sdk_crypto::types::requests::{AnyOutgoingRequest, ToDeviceRequest};
    use matrix_sdk_crypto::{EncryptionSettings, OlmMachine};
    use serde_json::{Value, json};
    use std::sync::Arc;

    pub struct HeldKeyDevice {
        http: reqwest::Client,
        homeserver: String,
        access_token: String,
        pub machine: OlmMachine,
    }

    impl HeldKeyDevice {
        /// Logs in a new session of the user and uploads its device keys.
        pub async fn login(homeserver: &str, localpart: &str, password: &str) -> HeldKeyDevice {
            let http = reqwest::Client::new();
            let login: Value = http
                .post(format!("{homeserver}/_matrix/client/v3/login"))
                .json(&json!({
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": localpart},
                    "password": password,
                    "initial_device_display_name": "held-key test device",
                }))
                .send()
                .await
                .expect("login")
                .json()
                .await
                .expect("login json");
            let user_id = OwnedUserId::try_from(login["user_id"].as_str().expect("user_id"))
                .expect("user id");
            let device_id: OwnedDeviceId = login["device_id"].as_str().expect("device_id").into();
            let device = HeldKeyDevice {
                http,
                homeserver: homeserver.to_string(),
                access_token: login["access_token"]
                    .as_str()
                    .expect("access_token")
                    .to_string(),
                machine: OlmMachine::new(&user_id, &device_id).await,
            };
            device.send_outgoing_requests().await;
            device
        }

        async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
            let response = self
                .http
                .request(
                    method,
                    format!("{}/_matrix/client/v3/{path}", self.homeserver),
                )
                .bearer_auth(&self.access_token)
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = response.status();
            let text = response.text().await.expect("response body");
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str(&text).expect("response json")
        }

        async fn post(&self, path: &str, body: Value) -> Value {
            self.call(reqwest::Method::POST, path, body).await
        }

        fn from_json<T: serde::de::DeserializeOwned>(value: &Value) -> T {
            serde_json::from_value(value.clone()).unwrap_or_else(|error| {
                panic!("unexpected response {value}: {error}");
            })
        }

        /// Sends what the machine asks for (key uploads and queries) and feeds it the answers.
        pub async fn send_outgoing_requests(&self) {
            for request in self.machine.outgoing_requests().await.expect("requests") {
                match request.request() {
                    AnyOutgoingRequest::KeysUpload(upload) => {
                        let body = json!({
                            "device_keys": upload.device_keys,
                            "one_time_keys": upload.one_time_keys,
                            "fallback_keys": upload.fallback_keys,
                        });
                        let answer = self.post("keys/upload", body).await;
                        let response = upload_keys::v3::Response::new(Self::from_json(
                            &answer["one_time_key_counts"],
                        ));
                        self.machine
                            .mark_request_as_sent(request.request_id(), &response)
                            .await
                            .expect("keys uploaded");
                    }
                    AnyOutgoingRequest::KeysQuery(query) => {
                        let answer = self
                            .post("keys/query", json!({"device_keys": query.device_keys}))
                            .await;
                        let mut response = get_keys::v3::Response::new();
                        response.device_keys =
                            Self::from_json(answer.get("device_keys").unwrap_or(&json!({})));
                        response.master_keys =
                            Self::from_json(answer.get("master_keys").unwrap_or(&json!({})));
                        response.self_signing_keys =
                            Self::from_json(answer.get("self_signing_keys").unwrap_or(&json!({})));
                        response.user_signing_keys =
                            Self::from_json(answer.get("user_signing_keys").unwrap_or(&json!({})));
                        self.machine
                            .mark_request_as_sent(request.request_id(), &response)
                            .await
                            .expect("keys queried");
                    }
                    AnyOutgoingRequest::ToDeviceRequest(to_device) => {
                        self.send_to_device(to_device).await;
                        self.machine
                            .mark_request_as_sent(
                                request.request_id(),
                                &send_event_to_device::v3::Response::new(),
                            )
                            .await
                            .expect("to-device sent");
                    }
                    other => panic!("the test device does not expect {other:?}"),
                }
            }
        }

        async fn send_to_device(&self, request: &ToDeviceRequest) {
            let path = format!("sendToDevice/{}/{}", request.event_type, request.txn_id);
            self.call(
                reqwest::Method::PUT,
                &path,
                json!({"messages": request.messages}),
            )
            .await;
        }

        /// Makes an Olm session with every device of `user`, ready to share room keys.
        pub async fn open_sessions_with(&self, user: &UserId) {
            self.machine
                .update_tracked_users([user])
                .await
                .expect("track the user");
            self.send_outgoing_requests().await;
            if let Some((request_id, claim)) = self
                .machine
                .get_missing_sessions([user].into_iter())
                .await
                .expect("missing sessions")
            {
                let answer = self
                    .post("keys/claim", json!({"one_time_keys": claim.one_time_keys}))
                    .await;
                let response =
                    claim_keys::v3::Response::new(Self::from_json(&answer["one_time_keys"]));
                self.machine
                    .mark_request_as_sent(&request_id, &response)
                    .await
                    .expect("keys claimed");
            }
        }

        /// Creates the room key for `users` without sending it: the to-device messages that
        /// carry it are returned, for the test to send when it chooses.
        pub async fn hold_room_key(
            &self,
            room_id: &RoomId,
            users: &[&UserId],
        ) -> Vec<Arc<ToDeviceRequest>> {
            self.machine
                .share_room_key(
                    room_id,
                    users.iter().copied(),
                    EncryptionSettings::default(),
                )
                .await
                .expect("room key")
        }

        pub async fn release_room_key(&self, held: &[Arc<ToDeviceRequest>]) {
            for request in held {
                self.send_to_device(request).await;
                self.machine
                    .mark_request_as_sent(
                        &request.txn_id,
                        &send_event_to_device::v3::Response::new(),
                    )
                    .await
                    .expect("to-device sent");
            }
        }

        /// Sends an encrypted text message with the room key made by `hold_room_key`.
        pub async fn send_encrypted_text(&self, room_id: &RoomId, body: &str) -> String {
            let content: Raw<AnyMessageLikeEventContent> =
                Raw::new(&json!({"msgtype": "m.text", "body": body}))
                    .expect("content")
                    .cast_unchecked();
            let encrypted = self
                .machine
                .encrypt_room_event_raw(room_id, "m.room.message", &content)
                .await
                .expect("encrypt");
            let transaction = format!("held-{}", jiff::Timestamp::now().as_nanosecond());
            let answer = self
                .call(
                    reqwest::Method::PUT,
                    &format!("rooms/{room_id}/send/m.room.encrypted/{transaction}"),
                    serde_json::to_value(&encrypted.content).expect("encrypted json"),
                )
                .await;
            answer["event_id"].as_str().expect("event id").to_string()
        }
    }
}

/// An encrypted room of one chair with the bot in it (the bot's `[matrix]` section given the
/// extra lines), and a second session of the chair that has sent `body` with its room key held
/// back. Returns the scene, the command's event ID and the held key.
struct HeldKeyScene {
    bot: BotProcess,
    chair: TestClient,
    room: matrix_sdk::Room,
    room_id: matrix_sdk::ruma::OwnedRoomId,
    sender: held_keys::HeldKeyDevice,
    held: Vec<std::sync::Arc<matrix_sdk_crypto::types::requests::ToDeviceRequest>>,
    command: String,
}

async fn held_key_scene(
    homeserver: &support::matrix::Homeserver,
    extra_matrix_config: &str,
    body: &str,
) -> HeldKeyScene {
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let chair = TestClient::login(homeserver, &chair_user).await;
    let room = chair.create_room(true, &[&bot_user.user_id]).await;
    let room_id = room.room_id().to_owned();
    let mut bot = BotProcess::configure(
        homeserver,
        &bot_user,
        room_id.as_str(),
        &[GroupMember {
            name: "Chair Person",
            user: &chair_user,
            organization: Some("GNSO"),
            roles: &["member", "chair"],
        }],
        None,
    );
    if !extra_matrix_config.is_empty() {
        let config = std::fs::read_to_string(&bot.config_path).expect("config");
        let config = config.replacen(
            "\n[matrix]\n",
            &format!("\n[matrix]\n{extra_matrix_config}\n"),
            1,
        );
        std::fs::write(&bot.config_path, config).expect("config");
    }
    bot.start();
    chair
        .wait_for_join(&room_id, &bot_user.user_id, REPLY_TIMEOUT)
        .await;

    // The chair's second session sends a command, with its room key held back.
    let sender = held_keys::HeldKeyDevice::login(
        &homeserver.url,
        &chair_user.localpart,
        &chair_user.password,
    )
    .await;
    let bot_id = matrix_sdk::ruma::OwnedUserId::try_from(bot_user.user_id.as_str()).unwrap();
    sender.open_sessions_with(&bot_id).await;
    let held = sender.hold_room_key(&room_id, &[&bot_id]).await;
    assert!(
        !held.is_empty(),
        "the room key is meant for the bot's device"
    );
    let command = sender.send_encrypted_text(&room_id, body).await;
    HeldKeyScene {
        bot,
        chair,
        room,
        room_id,
        sender,
        held,
        command,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_key_arrives_after_a_restart_is_answered_once() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let HeldKeyScene {
        mut bot,
        chair,
        room,
        room_id,
        sender,
        held,
        command,
    } = held_key_scene(&homeserver, "", "!whoami").await;

    // The bot sees it and cannot decrypt it; its sync token then moves past it: the token is
    // read, something else happens in the room, and the token changes, so the pass that saw
    // the command has committed.
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while !bot.log().contains(&command) {
        assert!(
            Instant::now() < deadline,
            "the bot did not see the undecryptable command"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = support::matrix::bot_store(&bot).await;
    let token_after_the_command = store
        .adapter_state(rapporteur::matrix::SYNC_TOKEN_KEY)
        .await
        .expect("sync token");
    chair.send(&room, "(a remark, not a command)").await;
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while store
        .adapter_state(rapporteur::matrix::SYNC_TOKEN_KEY)
        .await
        .expect("sync token")
        == token_after_the_command
    {
        assert!(
            Instant::now() < deadline,
            "the bot's sync token did not move"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.close().await;
    bot.kill();

    // The key arrives while the bot is down; the restarted bot decrypts and answers.
    sender.release_room_key(&held).await;
    bot.start();
    let reply = chair
        .wait_for_reply(&room_id, &command, REPLY_TIMEOUT)
        .await;
    let text = reply.json["content"]["body"].as_str().unwrap_or_default();
    assert!(
        text.contains("Chair Person"),
        "the command is acted on: {text}"
    );
    // The held command is settled with its answer; later syncs do not answer it again (a later
    // command is answered, so several passes have gone by).
    let store = support::matrix::bot_store(&bot).await;
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while !store
        .undecryptable_events(10)
        .await
        .expect("held events")
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the held command is not settled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answered_later = chair.send(&room, "!whoami").await;
    chair
        .wait_for_reply(&room_id, &answered_later, REPLY_TIMEOUT)
        .await;
    assert_eq!(
        chair.replies_to(&room_id, &command).len(),
        1,
        "the command is answered exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_key_never_arrives_is_reported_once() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let HeldKeyScene {
        bot,
        chair,
        room,
        room_id,
        command,
        ..
    } = held_key_scene(&homeserver, "undecryptable_wait_minutes = 1", "!whoami").await;

    // The key is never sent. After the configured minute, at the next sync (30 s at most), the
    // bot tells the sender once.
    let report = chair
        .wait_for_reply(&room_id, &command, Duration::from_secs(180))
        .await;
    let text = report.json["content"]["body"].as_str().unwrap_or_default();
    assert!(
        text.contains("I could not decrypt the message you sent here")
            && text.contains("please send it again"),
        "the report says what happened and what to do: {text}"
    );
    assert_eq!(report.json["content"]["msgtype"], "m.notice");
    let store = support::matrix::bot_store(&bot).await;
    assert!(
        store
            .undecryptable_events(10)
            .await
            .expect("held events")
            .is_empty(),
        "the command is forgotten with its report"
    );
    // Later passes do not report it again.
    let later = chair.send(&room, "!whoami").await;
    chair.wait_for_reply(&room_id, &later, REPLY_TIMEOUT).await;
    assert_eq!(
        chair.replies_to(&room_id, &command).len(),
        1,
        "reported once"
    );
}
