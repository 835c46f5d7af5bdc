//! One sender per group, end to end, on the real homeserver, SMTP relay and dovecot: two bot
//! processes on one PostgreSQL database answer every command once, and the survivor takes over
//! when the owner is killed; a mail the relay accepted whose outbox row could not be marked sent
//! is never sent again (the process killed at that moment, or the database failing then).
//!
//! The database is made to stop or fail at the exact moment between the relay's acceptance and
//! the commit by a trigger the test puts into the bot's own database (a pause with `pg_sleep`,
//! or an error), switched on and off through a table; the bot's code has no failpoint.

mod support;

use rapporteur::storage::Store;
use std::time::{Duration, Instant};
use support::mail::{
    BotMail, MailServers, OutgoingTestMail, email_of, mail_servers, unique_message_id,
};
use support::matrix::{BotProcess, GroupMember, TestClient, TestUser, homeserver};

/// A chair in a room with the bot invited, and the bot's config (with mail) written for a
/// database, not started.
struct Scene {
    chair: TestClient,
    chair_user: TestUser,
    room: matrix_sdk::Room,
    room_id: matrix_sdk::ruma::OwnedRoomId,
    bot: BotProcess,
    mail: BotMail,
    servers: MailServers,
    homeserver: support::matrix::Homeserver,
}

impl Scene {
    async fn prepare(database_url: Option<&str>) -> Option<Scene> {
        let homeserver = homeserver().await?;
        let servers = mail_servers().await?;
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
            database_url,
        );
        let mail = bot.enable_mail(&servers);
        Some(Scene {
            chair,
            chair_user,
            room,
            room_id,
            bot,
            mail,
            servers,
            homeserver,
        })
    }

    /// A second bot process with the same configuration (and so the same database and
    /// mailbox) in a data folder of its own, as a second machine has.
    fn second_bot(&self) -> BotProcess {
        let second = BotProcess::configure(
            &self.homeserver,
            &self.bot.bot,
            self.room_id.as_str(),
            &[],
            None,
        );
        let folder = second.data_dir().to_path_buf();
        for file in ["rapporteur.toml", "group.toml"] {
            std::fs::copy(self.bot.data_dir().join(file), folder.join(file)).expect("copy config");
        }
        second
    }

    fn chair_address(&self) -> String {
        email_of(&self.chair_user.user_id)
    }

    /// Mails `body` from the chair to the bot; returns the Message-ID.
    async fn mail_command(&self, body: &str) -> String {
        let message_id = unique_message_id();
        let chair_address = self.chair_address();
        let raw = OutgoingTestMail {
            from: &chair_address,
            from_name: "Chair Person",
            to: &self.mail.bot_address,
            subject: "command",
            body,
            message_id: &message_id,
            in_reply_to: None,
            extra_headers: "",
        }
        .render();
        self.servers
            .send_raw_patiently(&chair_address, &self.mail.bot_address, &raw)
            .await
            .expect("the relay accepts the mail");
        message_id
    }

    async fn mail_replies(&self, message_id: &str, wait_for: usize, timeout: Duration) -> usize {
        self.servers
            .wait_for_replies(&self.chair_address(), message_id, wait_for, timeout)
            .await
            .len()
    }

    async fn wait_for_bot(&self) {
        self.chair
            .wait_for_join(
                &self.room_id,
                &self.bot.bot.user_id,
                Duration::from_secs(60),
            )
            .await;
    }
}

/// Waits until `needle` occurs `count` times in the bot's log.
async fn wait_for_log(bot: &BotProcess, needle: &str, count: usize, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if bot.log().matches(needle).count() >= count {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn outbox_states(store: &Store) -> Vec<(String, i64)> {
    store.outbox_counts().await.expect("outbox counts")
}

/// The microseconds between the channel's acceptance and the commit of the `sent` mark, as the
/// bot logged them.
fn recorded_after(bot: &BotProcess, channel: &str) -> Vec<u64> {
    let channel = format!("channel=\"{channel}\"");
    bot.log()
        .lines()
        .filter(|line| line.contains(" delivered") && line.contains(&channel))
        .filter_map(|line| line.split("recorded_after_us=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

fn report_window(label: &str, mut samples: Vec<u64>) {
    if samples.is_empty() {
        return;
    }
    samples.sort_unstable();
    eprintln!(
        "{label}: relay/homeserver acceptance to the sent mark: n={} min={} us median={} us max={} us",
        samples.len(),
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_on_one_database_answer_once_and_the_survivor_takes_over() {
    let Some(database_url) = support::fresh_postgres_url().await else {
        return;
    };
    let Some(mut scene) = Scene::prepare(Some(&database_url)).await else {
        return;
    };
    scene.bot.start();
    scene.wait_for_bot().await;
    assert!(
        wait_for_log(&scene.bot, "took over groups", 1, Duration::from_secs(30)).await,
        "the first bot did not take its groups"
    );
    let mut second = scene.second_bot();
    second.start();
    assert!(
        wait_for_log(
            &second,
            "waiting to take them over",
            1,
            Duration::from_secs(60)
        )
        .await,
        "the second bot did not wait for the groups"
    );
    // Both processes are connected to the homeserver and the mailbox before the commands.
    assert!(
        wait_for_log(
            &second,
            "connected to the homeserver",
            1,
            Duration::from_secs(60)
        )
        .await
    );

    let mut room_commands = Vec::new();
    for body in ["!ping", "!whoami", "!roster GNSO", "!ping", "!whoami"] {
        room_commands.push(scene.chair.send(&scene.room, body).await);
    }
    let mut mail_commands = Vec::new();
    for _ in 0..3 {
        mail_commands.push(scene.mail_command("!ping").await);
    }
    let all_answered_once = |scene: &Scene, events: &[String]| {
        let counts: Vec<usize> = events
            .iter()
            .map(|id| scene.chair.replies_to(&scene.room_id, id).len())
            .collect();
        counts
    };
    for event in &room_commands {
        scene
            .chair
            .wait_for_reply(&scene.room_id, event, Duration::from_secs(60))
            .await;
    }
    for message_id in &mail_commands {
        assert!(
            scene
                .mail_replies(message_id, 1, Duration::from_secs(60))
                .await
                >= 1
        );
    }
    // Time for a second process's duplicate to show up, had it sent one.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        all_answered_once(&scene, &room_commands),
        vec![1; room_commands.len()],
        "replies per room command while both run"
    );
    for message_id in &mail_commands {
        assert_eq!(
            scene.mail_replies(message_id, 2, Duration::ZERO).await,
            1,
            "replies to {message_id} while both run"
        );
    }
    assert_eq!(
        second.log().matches("\"handled\"").count() + second.log().matches(" handled").count(),
        0,
        "the process that owns no group decided something"
    );

    // The owner dies without a word; commands keep coming while the other waits for the lease.
    scene.bot.kill();
    let killed = Instant::now();
    let mut after_kill_room = Vec::new();
    for body in ["!ping", "!whoami", "!roster ALAC"] {
        after_kill_room.push(scene.chair.send(&scene.room, body).await);
    }
    let after_kill_mail = vec![
        scene.mail_command("!ping").await,
        scene.mail_command("!ping").await,
    ];
    assert!(
        wait_for_log(&second, "took over groups", 1, Duration::from_secs(30)).await,
        "the second bot did not take over within 30 s of the owner's death"
    );
    eprintln!(
        "took over {} ms after the kill",
        killed.elapsed().as_millis()
    );
    for event in &after_kill_room {
        scene
            .chair
            .wait_for_reply(&scene.room_id, event, Duration::from_secs(60))
            .await;
    }
    for message_id in &after_kill_mail {
        assert!(
            scene
                .mail_replies(message_id, 1, Duration::from_secs(60))
                .await
                >= 1
        );
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let every_room_command: Vec<String> = room_commands
        .iter()
        .chain(&after_kill_room)
        .cloned()
        .collect();
    assert_eq!(
        all_answered_once(&scene, &every_room_command),
        vec![1; every_room_command.len()],
        "replies per room command, before and after the takeover"
    );
    for message_id in mail_commands.iter().chain(&after_kill_mail) {
        assert_eq!(
            scene.mail_replies(message_id, 2, Duration::ZERO).await,
            1,
            "replies to {message_id}"
        );
    }
    let store = Store::connect(&database_url, 1)
        .await
        .expect("open the database");
    let states = outbox_states(&store).await;
    assert!(
        states.iter().all(|(state, _)| state == "sent"),
        "every outbox row sent once: {states:?}"
    );
    // Each answer was claimed by the process that sent it: the first before the kill, the
    // second after.
    let (nodes,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT claimed_by) FROM outbox")
        .fetch_one(store.pool())
        .await
        .expect("claimants");
    assert_eq!(nodes, 2);
    store.close().await;
    for channel in ["mail", "matrix"] {
        report_window(
            &format!("{channel}, both bots"),
            [
                recorded_after(&scene.bot, channel),
                recorded_after(&second, channel),
            ]
            .concat(),
        );
    }
}

/// A switch in the bot's database that makes the write of a mail's `sent` mark pause (PostgreSQL:
/// `pg_sleep`) or fail (both), for as long as the table `test_hold_marks` has a row.
async fn install_hold(store: &Store, postgres: bool, pause: bool) {
    let statements: Vec<&str> = if postgres {
        vec![
            "CREATE TABLE test_hold_marks (on_hold BOOLEAN)",
            "INSERT INTO test_hold_marks VALUES (TRUE)",
            if pause {
                "CREATE FUNCTION test_hold_mark() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF EXISTS (SELECT 1 FROM test_hold_marks) THEN PERFORM pg_sleep(120); END IF; \
                 RETURN NEW; END $$"
            } else {
                "CREATE FUNCTION test_hold_mark() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF EXISTS (SELECT 1 FROM test_hold_marks) THEN \
                 RAISE EXCEPTION 'the database fails at this moment (test)'; END IF; \
                 RETURN NEW; END $$"
            },
            "CREATE TRIGGER test_hold_mark BEFORE UPDATE ON outbox FOR EACH ROW \
             WHEN (NEW.state = 'sent' AND NEW.channel = 'mail') EXECUTE FUNCTION test_hold_mark()",
        ]
    } else {
        vec![
            "CREATE TABLE test_hold_marks (on_hold INTEGER)",
            "INSERT INTO test_hold_marks VALUES (1)",
            "CREATE TRIGGER test_hold_mark BEFORE UPDATE ON outbox FOR EACH ROW \
             WHEN NEW.state = 'sent' AND NEW.channel = 'mail' AND EXISTS (SELECT 1 FROM test_hold_marks) \
             BEGIN SELECT RAISE(ABORT, 'the database fails at this moment (test)'); END",
        ]
    };
    for statement in statements {
        sqlx::query(statement)
            .execute(store.pool())
            .await
            .expect("install the hold");
    }
}

async fn release_hold(store: &Store) {
    sqlx::query("DELETE FROM test_hold_marks")
        .execute(store.pool())
        .await
        .expect("release the hold");
}

/// The PostgreSQL sessions of the database that sleep in the trigger.
async fn sleeping_sessions(store: &Store) -> i64 {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'",
    )
    .fetch_one(store.pool())
    .await
    .expect("sessions");
    count
}

async fn terminate_sleeping_sessions(store: &Store) {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event = 'PgSleep'",
    )
    .execute(store.pool())
    .await
    .expect("terminate");
}

async fn row_state_of_reply(store: &Store, message_id: &str) -> Option<String> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT outbox.state FROM outbox JOIN inbox ON inbox.id = outbox.inbox_id WHERE inbox.external_id = $1",
    )
    .bind(message_id)
    .fetch_optional(store.pool())
    .await
    .expect("outbox row");
    row.map(|(state,)| state)
}

async fn wait_for_row_state(store: &Store, message_id: &str, state: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let now = row_state_of_reply(store, message_id).await;
        if now.as_deref() == Some(state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the reply to {message_id} is {now:?}, not {state}, after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_killed_between_the_relays_acceptance_and_the_commit_does_not_resend() {
    let Some(database_url) = support::fresh_postgres_url().await else {
        return;
    };
    let Some(mut scene) = Scene::prepare(Some(&database_url)).await else {
        return;
    };
    scene.bot.start();
    scene.wait_for_bot().await;
    let store = Store::connect(&database_url, 2)
        .await
        .expect("open the database");
    install_hold(&store, true, true).await;

    let message_id = scene.mail_command("!ping").await;
    // The relay accepted the reply and handed it on; the bot's `sent` mark sleeps in the trigger.
    assert_eq!(
        scene
            .mail_replies(&message_id, 1, Duration::from_secs(60))
            .await,
        1
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while sleeping_sessions(&store).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the sent mark never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scene.bot.kill();
    release_hold(&store).await;
    // The killed process's session would sleep on, holding the row.
    terminate_sleeping_sessions(&store).await;
    assert_eq!(
        row_state_of_reply(&store, &message_id).await.as_deref(),
        Some("sending"),
        "the attempt was recorded before the send"
    );

    scene.bot.start();
    wait_for_row_state(&store, &message_id, "uncertain", Duration::from_secs(30)).await;
    // The line is written just after the row's state is committed: it is waited for, not
    // read at once (a race seen on a loaded machine).
    let logged_by = std::time::Instant::now() + Duration::from_secs(10);
    while !scene
        .bot
        .log()
        .contains("held as uncertain for an operator")
        && std::time::Instant::now() < logged_by
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = scene.bot.log();
    assert!(
        log.contains("held as uncertain for an operator"),
        "the held mail is not logged"
    );
    assert!(
        log.contains("outbox items are held as uncertain"),
        "the start does not name the held items"
    );
    // The bot works on: a new command is answered, and the uncertain mail was not sent again.
    let later = scene.mail_command("!ping").await;
    assert_eq!(
        scene.mail_replies(&later, 1, Duration::from_secs(60)).await,
        1
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        scene.mail_replies(&message_id, 2, Duration::ZERO).await,
        1,
        "the mail the relay accepted before the kill was sent again"
    );
    assert_eq!(
        row_state_of_reply(&store, &message_id).await.as_deref(),
        Some("uncertain")
    );
    store.close().await;
}

async fn a_database_failure_after_the_relays_acceptance(postgres: bool) {
    let database_url = if postgres {
        match support::fresh_postgres_url().await {
            Some(url) => Some(url),
            None => return,
        }
    } else {
        None
    };
    let Some(mut scene) = Scene::prepare(database_url.as_deref()).await else {
        return;
    };
    scene.bot.start();
    scene.wait_for_bot().await;
    let store = match &database_url {
        Some(url) => Store::connect(url, 2).await.expect("open the database"),
        None => support::matrix::bot_store(&scene.bot).await,
    };
    // PostgreSQL: the mark's session is cut off by the server (pg_terminate_backend) while it
    // waits in the trigger. SQLite: the write fails.
    install_hold(&store, postgres, postgres).await;

    let message_id = scene.mail_command("!ping").await;
    assert_eq!(
        scene
            .mail_replies(&message_id, 1, Duration::from_secs(60))
            .await,
        1
    );
    if postgres {
        let deadline = Instant::now() + Duration::from_secs(30);
        while sleeping_sessions(&store).await == 0 {
            assert!(
                Instant::now() < deadline,
                "the sent mark never reached the database"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        terminate_sleeping_sessions(&store).await;
        // Its next try pauses again: the database is still "down".
        let deadline = Instant::now() + Duration::from_secs(30);
        while sleeping_sessions(&store).await == 0 {
            assert!(
                Instant::now() < deadline,
                "the bot did not try to record the mark again"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    } else {
        assert!(
            wait_for_log(
                &scene.bot,
                "cannot record the outcome of a delivery",
                1,
                Duration::from_secs(30)
            )
            .await,
            "the failed mark was not reported"
        );
        // Several scans pass while the database refuses the mark.
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    assert_eq!(
        scene.mail_replies(&message_id, 2, Duration::ZERO).await,
        1,
        "the mail was sent again while its mark could not be written"
    );
    release_hold(&store).await;
    if postgres {
        terminate_sleeping_sessions(&store).await;
    }
    wait_for_row_state(&store, &message_id, "sent", Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        scene.mail_replies(&message_id, 2, Duration::ZERO).await,
        1,
        "the mail was sent again once the database was back"
    );
    assert!(scene.bot.log().contains("recorded late"));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_after_the_relays_acceptance_does_not_resend_sqlite() {
    a_database_failure_after_the_relays_acceptance(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_after_the_relays_acceptance_does_not_resend_postgres() {
    a_database_failure_after_the_relays_acceptance(true).await;
}
