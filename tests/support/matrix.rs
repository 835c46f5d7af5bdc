//! The Matrix side of the end-to-end tests: test users registered on the real homeserver through
//! its shared-secret admin API, test clients (real matrix-sdk clients with their own encryption
//! keys) that send commands and read replies, and the bot itself, run as its real binary.
#![allow(dead_code)]

use hmac::{Hmac, Mac};
use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::TimelineEventKind;
use matrix_sdk::ruma::api::client::room::create_room::v3::{
    Request as CreateRoomRequest, RoomPreset,
};
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};
use matrix_sdk::{Client, Room};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Homeserver {
    pub url: String,
    secret: String,
}

/// The homeserver the project's scripts started, or `None` (skip) when there is none.
pub async fn homeserver() -> Option<Homeserver> {
    let url = match std::env::var("RAPPORTEUR_TEST_HOMESERVER_URL") {
        Ok(url) => url,
        Err(_) => {
            return super::unavailable(
                "the test homeserver",
                "RAPPORTEUR_TEST_HOMESERVER_URL is not set",
            );
        }
    };
    let secret_file = std::env::var("RAPPORTEUR_TEST_REGISTRATION_SECRET_FILE").unwrap_or_default();
    let secret = match std::fs::read_to_string(&secret_file) {
        Ok(secret) => secret.trim().to_string(),
        Err(error) => {
            return super::unavailable(
                "the registration secret",
                &format!("{secret_file}: {error}"),
            );
        }
    };
    match reqwest::get(format!("{url}/health")).await {
        Ok(response) if response.status().is_success() => Some(Homeserver { url, secret }),
        Ok(response) => super::unavailable(
            "the test homeserver",
            &format!("health answered {}", response.status()),
        ),
        Err(error) => super::unavailable("the test homeserver", &error.to_string()),
    }
}

static USER_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name unique to this test run, so tests never share users or rooms.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}x{}",
        std::process::id(),
        USER_COUNTER.fetch_add(1, Ordering::SeqCst),
        jiff::Timestamp::now().as_millisecond() % 1_000_000
    )
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub user_id: String,
    pub localpart: String,
    pub password: String,
}

impl Homeserver {
    /// Registers a new user through `/_synapse/admin/v1/register` (HMAC-SHA1 over the nonce,
    /// user, password and admin flag, keyed by the shared secret).
    pub async fn register(&self, prefix: &str) -> TestUser {
        let localpart = unique_name(prefix);
        let password = format!("pw-{localpart}");
        let http = reqwest::Client::new();
        let endpoint = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: Value = http
            .get(&endpoint)
            .send()
            .await
            .expect("nonce")
            .json()
            .await
            .expect("nonce json");
        let nonce = nonce["nonce"].as_str().expect("nonce field").to_string();
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.secret.as_bytes()).expect("hmac key");
        mac.update(format!("{nonce}\0{localpart}\0{password}\0notadmin").as_bytes());
        let mac = hex::encode(mac.finalize().into_bytes());
        let body = serde_json::json!({
            "nonce": nonce, "username": localpart, "password": password, "admin": false,
            "mac": mac, "inhibit_login": true,
        });
        let response = http
            .post(&endpoint)
            .json(&body)
            .send()
            .await
            .expect("register");
        assert!(
            response.status().is_success(),
            "register {localpart}: {}",
            response.text().await.unwrap_or_default()
        );
        let server = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        // The homeserver's server_name is `localhost` in the project's scripts.
        let _ = server;
        TestUser {
            user_id: format!("@{localpart}:localhost"),
            localpart,
            password,
        }
    }
}

/// One event a test client saw in a room, as JSON (decrypted when it was encrypted).
#[derive(Debug, Clone)]
pub struct SeenEvent {
    pub json: Value,
    pub was_encrypted: bool,
}

/// A person at a Matrix client: a real matrix-sdk client with its own device and keys, syncing in
/// the background and remembering every timeline event it saw.
pub struct TestClient {
    pub user: TestUser,
    pub client: Client,
    seen: Arc<Mutex<Vec<(OwnedRoomId, SeenEvent)>>>,
    sync_task: tokio::task::JoinHandle<()>,
    _store: tempfile::TempDir,
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.sync_task.abort();
    }
}

impl TestClient {
    pub async fn login(homeserver: &Homeserver, user: &TestUser) -> TestClient {
        let store = tempfile::tempdir().expect("temp dir");
        let client = Client::builder()
            .homeserver_url(&homeserver.url)
            .sqlite_store(store.path(), None)
            .respect_login_well_known(false)
            .build()
            .await
            .expect("test client");
        client
            .matrix_auth()
            .login_username(&user.localpart, &user.password)
            .initial_device_display_name("rapporteur test client")
            .send()
            .await
            .expect("test user login");
        // The first sync uploads this device's keys, so the bot can encrypt replies to it.
        let first = client
            .sync_once(SyncSettings::default())
            .await
            .expect("first sync");
        let seen: Arc<Mutex<Vec<(OwnedRoomId, SeenEvent)>>> = Arc::default();
        let background_client = client.clone();
        let background_seen = seen.clone();
        let sync_task = tokio::spawn(async move {
            let mut token = first.next_batch;
            loop {
                let settings = SyncSettings::default()
                    .token(token.clone())
                    .timeout(Duration::from_millis(500));
                match background_client.sync_once(settings).await {
                    Ok(response) => {
                        let mut seen = background_seen.lock().expect("lock");
                        for (room_id, update) in &response.rooms.joined {
                            for event in &update.timeline.events {
                                let was_encrypted =
                                    matches!(event.kind, TimelineEventKind::Decrypted(_));
                                if let Ok(json) =
                                    serde_json::from_str::<Value>(event.raw().json().get())
                                {
                                    seen.push((
                                        room_id.clone(),
                                        SeenEvent {
                                            json,
                                            was_encrypted,
                                        },
                                    ));
                                }
                            }
                        }
                        token = response.next_batch;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
                }
            }
        });
        TestClient {
            user: user.clone(),
            client,
            seen,
            sync_task,
            _store: store,
        }
    }

    pub async fn create_room(&self, encrypted: bool, invite: &[&str]) -> Room {
        let mut request = CreateRoomRequest::new();
        request.invite = invite
            .iter()
            .map(|id| OwnedUserId::try_from(*id).expect("user id"))
            .collect();
        if encrypted {
            request.initial_state = vec![
                InitialStateEvent::with_empty_state_key(
                    RoomEncryptionEventContent::with_recommended_defaults(),
                )
                .to_raw_any(),
            ];
        }
        self.client.create_room(request).await.expect("create room")
    }

    /// Starts a direct conversation as Element does: an encrypted private room, the other
    /// person invited with `is_direct`.
    pub async fn create_direct_room(&self, with: &str) -> Room {
        let mut request = CreateRoomRequest::new();
        request.invite = vec![OwnedUserId::try_from(with).expect("user id")];
        request.is_direct = true;
        request.preset = Some(RoomPreset::TrustedPrivateChat);
        request.initial_state = vec![
            InitialStateEvent::with_empty_state_key(
                RoomEncryptionEventContent::with_recommended_defaults(),
            )
            .to_raw_any(),
        ];
        self.client.create_room(request).await.expect("create room")
    }

    pub async fn join(&self, room_id: &OwnedRoomId) -> Room {
        self.client
            .join_room_by_id(room_id)
            .await
            .expect("join room")
    }

    /// Sends a text message; returns its event ID.
    pub async fn send(&self, room: &Room, body: &str) -> String {
        room.send(RoomMessageEventContent::text_plain(body))
            .await
            .expect("send")
            .response
            .event_id
            .to_string()
    }

    pub fn events_in(&self, room_id: &OwnedRoomId) -> Vec<SeenEvent> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|(room, _)| room == room_id)
            .map(|(_, event)| event.clone())
            .collect()
    }

    /// Every reply (an event whose `m.in_reply_to` is `event_id`) seen so far.
    pub fn replies_to(&self, room_id: &OwnedRoomId, event_id: &str) -> Vec<SeenEvent> {
        self.events_in(room_id)
            .into_iter()
            .filter(|event| {
                event.json["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id
            })
            .collect()
    }

    /// Waits for the first reply to `event_id`.
    pub async fn wait_for_reply(
        &self,
        room_id: &OwnedRoomId,
        event_id: &str,
        timeout: Duration,
    ) -> SeenEvent {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(reply) = self.replies_to(room_id, event_id).into_iter().next() {
                return reply;
            }
            assert!(
                Instant::now() < deadline,
                "no reply to {event_id} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `command` and returns the text of the first reply to it.
    pub async fn say(&self, room: &Room, command: &str, timeout: Duration) -> String {
        let event = self.send(room, command).await;
        let reply = self
            .wait_for_reply(&room.room_id().to_owned(), &event, timeout)
            .await;
        event_body(&reply.json)
    }

    /// The messages of `sender` in the room that answer nobody (announcements, reminders) and
    /// contain `needle`, as this client saw them.
    pub fn announcements_of(
        &self,
        room_id: &OwnedRoomId,
        sender: &str,
        needle: &str,
    ) -> Vec<Value> {
        self.events_in(room_id)
            .into_iter()
            .map(|event| event.json)
            .filter(|json| {
                json["type"] == "m.room.message"
                    && json["sender"] == sender
                    && json["content"]["m.relates_to"]["m.in_reply_to"].is_null()
                    && event_body(json).contains(needle)
            })
            .collect()
    }

    /// Waits until the room holds at least one announcement of `sender` with `needle`; returns
    /// them all.
    pub async fn wait_for_announcement_of(
        &self,
        room_id: &OwnedRoomId,
        sender: &str,
        needle: &str,
        timeout: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.announcements_of(room_id, sender, needle);
            if !found.is_empty() {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no announcement with {needle:?} in the room within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `user_id` has joined the room.
    pub async fn wait_for_join(&self, room_id: &OwnedRoomId, user_id: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let joined = self.events_in(room_id).iter().any(|event| {
                event.json["type"] == "m.room.member"
                    && event.json["state_key"] == user_id
                    && event.json["content"]["membership"] == "join"
            });
            if joined {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{user_id} did not join {room_id} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The `body` of an event's content.
pub fn event_body(json: &Value) -> String {
    json["content"]["body"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A person in a generated group file.
pub struct GroupMember<'a> {
    pub name: &'a str,
    pub user: &'a TestUser,
    pub organization: Option<&'a str>,
    pub roles: &'a [&'a str],
}

/// An organization in a generated group file; `contact` is its contact address, if it has one.
pub struct TestOrganization<'a> {
    pub short_name: &'a str,
    pub name: &'a str,
    pub seats: u32,
    pub contact: Option<&'a str>,
}

/// The organizations [`BotProcess::configure`] writes: GNSO with one seat, ALAC with two.
pub const DEFAULT_ORGANIZATIONS: &[TestOrganization<'static>] = &[
    TestOrganization {
        short_name: "GNSO",
        name: "Generic Names Supporting Organization",
        seats: 1,
        contact: None,
    },
    TestOrganization {
        short_name: "ALAC",
        name: "At-Large Advisory Committee",
        seats: 2,
        contact: None,
    },
];

/// The bot as a separate process of the real binary, with its own data folder and config.
pub struct BotProcess {
    pub folder: tempfile::TempDir,
    pub config_path: PathBuf,
    pub bot: TestUser,
    child: Option<Child>,
    starts: usize,
    /// The binary to run instead of the one cargo built (or `RAPPORTEUR_BOT_BINARY`).
    binary: Option<PathBuf>,
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- bot log ({}) ---\n{}--- end of bot log ---",
                self.log_path().display(),
                self.log()
            );
        }
    }
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("string")
}

impl BotProcess {
    /// Writes a config for one group in `room_id` with the given people, ready to start. The
    /// group has the [`DEFAULT_ORGANIZATIONS`].
    pub fn configure(
        homeserver: &Homeserver,
        bot: &TestUser,
        room_id: &str,
        people: &[GroupMember],
        database_url: Option<&str>,
    ) -> BotProcess {
        BotProcess::configure_with_organizations(
            homeserver,
            bot,
            room_id,
            DEFAULT_ORGANIZATIONS,
            people,
            database_url,
        )
    }

    /// As [`BotProcess::configure`], with the group's organizations given (in the order the
    /// group file lists them).
    pub fn configure_with_organizations(
        homeserver: &Homeserver,
        bot: &TestUser,
        room_id: &str,
        organizations: &[TestOrganization],
        people: &[GroupMember],
        database_url: Option<&str>,
    ) -> BotProcess {
        let folder = tempfile::tempdir().expect("temp dir");
        let mut group = String::from(
            "[group]\nshort_name = \"TEST-CCG\"\nname = \"Test Coordination Group\"\n\
             time_zone = \"Europe/Brussels\"\nconsensus_designations = [\"Full Consensus\", \"Consensus\"]\n",
        );
        for organization in organizations {
            group.push_str(&format!(
                "\n[[organizations]]\nshort_name = {}\nname = {}\nseats = {}\n",
                toml_string(organization.short_name),
                toml_string(organization.name),
                organization.seats,
            ));
            if let Some(contact) = organization.contact {
                group.push_str(&format!("contact = {}\n", toml_string(contact)));
            }
        }
        for person in people {
            // Everyone also has a mail address made from their Matrix ID, so the mail tests can
            // show that one person is the same on both channels.
            group.push_str(&format!(
                "\n[[people]]\nid = {}\nname = {}\nmatrix_ids = [{}]\nemails = [{}]\nroles = [{}]\n",
                toml_string(&person_id_of(&person.user.user_id)),
                toml_string(person.name),
                toml_string(&person.user.user_id),
                toml_string(&super::mail::email_of(&person.user.user_id)),
                person
                    .roles
                    .iter()
                    .map(|r| toml_string(r))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if let Some(organization) = person.organization {
                group.push_str(&format!("organization = {}\n", toml_string(organization)));
            }
        }
        std::fs::write(folder.path().join("group.toml"), group).expect("write group file");
        let database = match database_url {
            Some(url) => format!("[database]\nurl = {}\n", toml_string(url)),
            None => String::new(),
        };
        let config = format!(
            "[bot]\ndata_dir = \"data\"\n\n{database}\n[matrix]\nhomeserver_url = {}\nuser_id = {}\n\n\
             [[groups]]\nid = \"test-ccg\"\nroom = {}\ngroup_file = \"group.toml\"\n",
            toml_string(&homeserver.url),
            toml_string(&bot.user_id),
            toml_string(room_id),
        );
        let config_path = folder.path().join("rapporteur.toml");
        std::fs::write(&config_path, config).expect("write config");
        BotProcess {
            folder,
            config_path,
            bot: bot.clone(),
            child: None,
            starts: 0,
            binary: None,
        }
    }

    /// Runs another build of the bot (a benchmark's earlier version, say).
    pub fn with_binary(mut self, binary: PathBuf) -> BotProcess {
        self.binary = Some(binary);
        self
    }

    pub fn log_path(&self) -> PathBuf {
        self.folder.path().join("bot.log")
    }

    pub fn start(&mut self) {
        let password = self.bot.password.clone();
        self.start_with_secret("RAPPORTEUR_MATRIX_PASSWORD", &password);
    }

    /// Starts the bot with one secret in the environment, such as an access token instead of
    /// the password.
    pub fn start_with_secret(&mut self, variable: &str, value: &str) {
        let filter = format!(
            "{},rapporteur=debug",
            rapporteur::logging::DEFAULT_LOG_FILTER
        );
        self.start_with(variable, value, &filter);
    }

    /// Starts the bot on its password with the given log filter: the benchmarks run it at the
    /// deployed default, since writing debug lines is part of what a command costs.
    pub fn start_with_log_filter(&mut self, filter: &str) {
        let password = self.bot.password.clone();
        self.start_with("RAPPORTEUR_MATRIX_PASSWORD", &password, filter);
    }

    fn start_with(&mut self, variable: &str, value: &str, log_filter: &str) {
        assert!(self.child.is_none(), "the bot is already running");
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        // The benchmarks run the release build when one is named; tests run the one cargo built.
        let binary = match &self.binary {
            Some(binary) => binary.display().to_string(),
            None => std::env::var("RAPPORTEUR_BOT_BINARY")
                .unwrap_or_else(|_| env!("CARGO_BIN_EXE_rapporteur").to_string()),
        };
        let child = Command::new(binary)
            .arg("--config")
            .arg(&self.config_path)
            .arg("run")
            .env_remove("RAPPORTEUR_MATRIX_PASSWORD")
            .env_remove("RAPPORTEUR_MATRIX_ACCESS_TOKEN")
            .env(variable, value)
            .env("RAPPORTEUR_LOG", log_filter)
            .env_remove("RAPPORTEUR_DATABASE_URL")
            .env_remove("RAPPORTEUR_HOMESERVER_URL")
            .env_remove("RAPPORTEUR_MATRIX_USER_ID")
            .env_remove("RAPPORTEUR_MATRIX_PASSWORD_FILE")
            .env_remove("RAPPORTEUR_DATA_DIR")
            // The stack's variables name the same servers the config does; the config decides.
            .env_remove("RAPPORTEUR_SMTP_HOST")
            .env_remove("RAPPORTEUR_SMTP_PORT")
            .env_remove("RAPPORTEUR_IMAP_HOST")
            .env_remove("RAPPORTEUR_IMAP_PORT")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start the bot");
        self.child = Some(child);
    }

    /// SIGKILL: no chance to flush or finish anything, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The device IDs the bot reported at each start, in order.
    pub fn devices_used(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|line| line.contains("connected to the homeserver"))
            .filter_map(|line| line.split("device=").nth(1))
            .map(|rest| {
                rest.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn data_dir(&self) -> &Path {
        self.folder.path()
    }
}

/// The scene most single-user tests share: a chair in a plain room with the bot invited, the
/// bot's config written for one group where the chair is the GNSO member and chair.
pub struct ChairRoom {
    pub bot_user: TestUser,
    pub chair_user: TestUser,
    pub chair: TestClient,
    pub room: Room,
    pub room_id: OwnedRoomId,
    pub bot: BotProcess,
}

impl ChairRoom {
    /// Registers the bot and the chair, creates the room; the bot is configured, not started.
    pub async fn prepare(homeserver: &Homeserver) -> ChairRoom {
        let bot_user = homeserver.register("bot").await;
        let chair_user = homeserver.register("chair").await;
        let chair = TestClient::login(homeserver, &chair_user).await;
        let room = chair.create_room(false, &[&bot_user.user_id]).await;
        let room_id = room.room_id().to_owned();
        let bot = BotProcess::configure(
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
        ChairRoom {
            bot_user,
            chair_user,
            chair,
            room,
            room_id,
            bot,
        }
    }

    /// As [`ChairRoom::prepare`], with the bot started on its password and in the room.
    pub async fn started(homeserver: &Homeserver) -> ChairRoom {
        let mut scene = ChairRoom::prepare(homeserver).await;
        scene.bot.start();
        scene.wait_for_bot().await;
        scene
    }

    pub async fn wait_for_bot(&self) {
        self.chair
            .wait_for_join(
                &self.room_id,
                &self.bot_user.user_id,
                Duration::from_secs(60),
            )
            .await;
    }
}

/// Opens a bot's SQLite database, for tests that look into it or change it as a crash would.
pub async fn bot_store(bot: &BotProcess) -> rapporteur::storage::Store {
    let url = format!(
        "sqlite://{}",
        bot.data_dir().join("data/rapporteur.db").display()
    );
    rapporteur::storage::Store::connect(&url, 1)
        .await
        .expect("open the bot's database")
}

/// A stable person ID for the group file, made from the Matrix ID's local part.
pub fn person_id_of(user_id: &str) -> String {
    user_id
        .trim_start_matches('@')
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || matches!(character, '.' | '-' | '_') {
                character
            } else {
                '-'
            }
        })
        .collect()
}
