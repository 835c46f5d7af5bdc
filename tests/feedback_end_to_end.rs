//! Feedback requests end to end: the real bot binary with its Matrix room and its mailbox, the
//! real homeserver, SMTP relay and dovecot of `scripts/stack.sh`, and the people of the group as
//! a Matrix client or an IMAP inbox. A request is opened in the room, answered by mail and in
//! chat, and reminded; a reminder cycle is cut short by SIGKILL; a reminder timer falls due
//! while the bot is down.

mod support;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use matrix_sdk::Room;
use matrix_sdk::ruma::OwnedRoomId;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};
use support::mail::{
    BotMail, MailServers, OutgoingTestMail, REPLY_TIMEOUT, ReceivedMail, email_of, mail_servers,
    newly_relayed, relay_sent_dir, unique_message_id,
};
use support::matrix::{
    BotProcess, GroupMember, Homeserver, TestClient, TestOrganization, TestUser, bot_store,
    homeserver, unique_name,
};

/// The zone `BotProcess::configure_with_organizations` gives the group.
const GROUP_ZONE: &str = "Europe/Brussels";

/// After the mail that should arrive has arrived, how long a mail that should not arrive is
/// given to show up anyway. The bot's mail dispatcher sends one cycle's mails at once, so a
/// mail that belonged to the same cycle would have been sent together with the others.
const GRACE: Duration = Duration::from_secs(2);

/// A person of the group who never opens a Matrix client in these tests: their Matrix ID is
/// only mentioned by the bot, which needs no account on the homeserver, and their mail address
/// (made from the Matrix ID) is a real inbox, since dovecot accepts any address.
fn listed_user(prefix: &str) -> TestUser {
    let localpart = unique_name(prefix);
    TestUser {
        user_id: format!("@{localpart}:localhost"),
        localpart,
        password: String::new(),
    }
}

/// A contact address of an organization, unique to this test run.
fn contact_address(organization: &str) -> String {
    format!(
        "{}@example.org",
        unique_name(&format!("{}contact", organization.to_ascii_lowercase()))
    )
}

/// A person of the generated group file.
struct Person {
    name: String,
    user: TestUser,
    organization: Option<String>,
    roles: &'static [&'static str],
}

impl Person {
    fn member(name: &str, user: &TestUser, organization: &str) -> Person {
        Person {
            name: name.to_string(),
            user: user.clone(),
            organization: Some(organization.to_string()),
            roles: &["member"],
        }
    }

    fn email(&self) -> String {
        email_of(&self.user.user_id)
    }
}

/// The day `days` after today in the group's zone, as `2026-12-10` (the end of that day).
fn day_from_today(days: i64) -> String {
    let zone = TimeZone::get(GROUP_ZONE).expect("bundled time zone");
    Timestamp::now()
        .to_zoned_datetime(zone)
        .date()
        .checked_add(days.days())
        .expect("a date in range")
        .to_string()
}

/// A group with its room, its chair at a Matrix client, and the bot with mail, started.
struct Scene {
    servers: MailServers,
    bot_user: TestUser,
    chair: TestClient,
    room: Room,
    room_id: OwnedRoomId,
    bot: BotProcess,
    mail: BotMail,
}

impl Scene {
    /// Registers the bot and a chair (who speaks for no organization), creates the room with the
    /// bot and `invited` invited, writes the group file with `organizations` and `people` (and
    /// the chair), and starts the bot with mail on `database_url` (SQLite when `None`).
    async fn start(
        homeserver: &Homeserver,
        servers: MailServers,
        organizations: &[TestOrganization<'_>],
        people: &[Person],
        invited: &[&TestUser],
        database_url: Option<&str>,
    ) -> Scene {
        let bot_user = homeserver.register("bot").await;
        let chair_user = homeserver.register("chair").await;
        let chair = TestClient::login(homeserver, &chair_user).await;
        let mut invites = vec![bot_user.user_id.as_str()];
        invites.extend(invited.iter().map(|user| user.user_id.as_str()));
        let room = chair.create_room(false, &invites).await;
        let room_id = room.room_id().to_owned();
        let mut members = vec![GroupMember {
            name: "Chair Person",
            user: &chair_user,
            organization: None,
            roles: &["chair"],
        }];
        members.extend(people.iter().map(|person| GroupMember {
            name: &person.name,
            user: &person.user,
            organization: person.organization.as_deref(),
            roles: person.roles,
        }));
        let mut bot = BotProcess::configure_with_organizations(
            homeserver,
            &bot_user,
            room_id.as_str(),
            organizations,
            &members,
            database_url,
        );
        let mail = bot.enable_mail(&servers);
        bot.start();
        chair
            .wait_for_join(&room_id, &bot_user.user_id, Duration::from_secs(60))
            .await;
        Scene {
            servers,
            bot_user,
            chair,
            room,
            room_id,
            bot,
            mail,
        }
    }

    /// Sends a command as the chair and returns the bot's reply.
    async fn chair_says(&self, command: &str) -> String {
        self.chair.say(&self.room, command, REPLY_TIMEOUT).await
    }

    /// The bot's messages in the room that answer nobody (announcements and reminders) and
    /// contain `needle`, as the chair's client saw them.
    fn announcements(&self, needle: &str) -> Vec<Value> {
        self.chair
            .announcements_of(&self.room_id, &self.bot_user.user_id, needle)
    }

    /// Waits until the room holds at least one announcement with `needle`; returns them all.
    async fn wait_for_announcement(&self, needle: &str) -> Vec<Value> {
        self.chair
            .wait_for_announcement_of(&self.room_id, &self.bot_user.user_id, needle, REPLY_TIMEOUT)
            .await
    }

    /// The mails in `address`'s inbox whose subject contains `subject`, waiting up to the reply
    /// timeout for at least `count`.
    async fn mails(&self, address: &str, subject: &str, count: usize) -> Vec<ReceivedMail> {
        self.servers
            .wait_for_mail(address, count, REPLY_TIMEOUT, |mail| {
                mail.subject.contains(subject)
            })
            .await
    }

    /// The mails in `address`'s inbox with `subject`, as they are now.
    async fn mails_now(&self, address: &str, subject: &str) -> Vec<ReceivedMail> {
        self.servers
            .wait_for_mail(address, 0, Duration::ZERO, |mail| {
                mail.subject.contains(subject)
            })
            .await
    }
}

fn body(json: &Value) -> String {
    support::matrix::event_body(json)
}

/// The user IDs an event mentions (`m.mentions.user_ids`); fails if it mentions the whole room.
fn mentions(json: &Value) -> BTreeSet<String> {
    assert_ne!(
        json["content"]["m.mentions"]["room"],
        Value::Bool(true),
        "the bot mentioned the whole room: {json}"
    );
    json["content"]["m.mentions"]["user_ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn user_ids(people: &[&Person]) -> BTreeSet<String> {
    people
        .iter()
        .map(|person| person.user.user_id.clone())
        .collect()
}

/// The line of a status reply about one organization (`- GNSO: ...`).
fn status_line<'a>(status: &'a str, organization: &str) -> &'a str {
    status
        .lines()
        .find(|line| line.starts_with(&format!("- {organization}:")))
        .unwrap_or_else(|| panic!("no line for {organization} in the status:\n{status}"))
}

// --- 1. A request answered by mail and in chat, then reminded --------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_answered_in_both_channels_and_remind_reaches_only_the_rest_on_sqlite() {
    a_request_is_answered_in_both_channels_and_remind_reaches_only_the_rest(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_answered_in_both_channels_and_remind_reaches_only_the_rest_on_postgres() {
    let Some(url) = support::fresh_postgres_url().await else {
        return;
    };
    a_request_is_answered_in_both_channels_and_remind_reaches_only_the_rest(Some(url)).await;
}

/// Three organizations are asked for feedback. GNSO acknowledges by answering the request's
/// mail with the bare word "ack", ALAC responds in the room, GAC says nothing. A reminder then
/// goes to exactly the organizations that still owe something (GNSO its response, GAC its
/// acknowledgement), in the room by mentions and by mail, and never to ALAC, which owes
/// nothing; the status shows both answers whichever channel they came by.
async fn a_request_is_answered_in_both_channels_and_remind_reaches_only_the_rest(
    database_url: Option<String>,
) {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let Some(servers) = mail_servers().await else {
        return;
    };
    let started = Instant::now();
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    // Wei Lin answers for ALAC in the room, so he has an account and a client; the others are
    // reached by mention and by mail only.
    let wei_user = homeserver.register("wei").await;
    let ana = Person::member("Ana Lima", &listed_user("ana"), "GNSO");
    let wei = Person::member("Wei Lin", &wei_user, "ALAC");
    let aisha = Person::member("Aisha Kamara", &listed_user("aisha"), "ALAC");
    let thandiwe = Person::member("Thandiwe Dlamini", &listed_user("thandiwe"), "GAC");
    let gac_contact = contact_address("GAC");
    let organizations = [
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
        TestOrganization {
            short_name: "GAC",
            name: "Governmental Advisory Committee",
            seats: 1,
            contact: Some(&gac_contact),
        },
    ];
    let people = [ana, wei, aisha, thandiwe];
    let scene = Scene::start(
        &homeserver,
        servers,
        &organizations,
        &people,
        &[&wei_user],
        database_url.as_deref(),
    )
    .await;
    let [ana, wei, aisha, thandiwe] = &people;
    let wei_client = TestClient::login(&homeserver, &wei_user).await;
    let wei_room = wei_client.join(&scene.room_id).await;

    // The chair opens the request for every organization of the group.
    let opened = scene
        .chair_says(&format!(
            "!request open \"Budget\" ack {} due {}",
            day_from_today(3),
            day_from_today(10)
        ))
        .await;
    assert!(
        opened.starts_with("Opened R-1 \"Budget\" for 3 organizations: GNSO, ALAC, GAC."),
        "{opened}"
    );

    // The room announcement mentions exactly the members of the addressed organizations.
    let announcement = scene.wait_for_announcement("Feedback request R-1").await;
    assert_eq!(announcement.len(), 1, "one announcement in the room");
    assert_eq!(
        mentions(&announcement[0]),
        user_ids(&[ana, wei, aisha, thandiwe]),
        "the announcement mentions the members of GNSO, ALAC and GAC, and nobody else"
    );

    // Each member, and GAC's contact address, gets the request by mail.
    let request_subject = "R-1: for your organization";
    let mut request_mails = BTreeMap::new();
    for address in [
        ana.email(),
        wei.email(),
        aisha.email(),
        thandiwe.email(),
        gac_contact.clone(),
    ] {
        let mails = scene.mails(&address, request_subject, 1).await;
        assert_eq!(mails.len(), 1, "{address} got the request once");
        request_mails.insert(address, mails.into_iter().next().unwrap());
    }

    // Ana answers the mail she received, with the bare word "ack" above the quoted request,
    // as a mail client writes a reply.
    let received = &request_mails[&ana.email()];
    let bot_message_id = received
        .message_id
        .clone()
        .expect("the request mail has a Message-ID");
    let quoted: String = received
        .text
        .lines()
        .map(|line| format!("> {line}\n"))
        .collect();
    let answer_body = format!(
        "ack\n\nOn {}, rapporteur for TEST-CCG <{}> wrote:\n{quoted}",
        Timestamp::now().strftime("%a, %d %b %Y at %H:%M"),
        scene.mail.bot_address
    );
    let answer_id = unique_message_id();
    let raw = OutgoingTestMail {
        from: &ana.email(),
        from_name: &ana.name,
        to: &scene.mail.bot_address,
        subject: &format!("Re: {}", received.subject),
        body: &answer_body,
        message_id: &answer_id,
        in_reply_to: Some(&bot_message_id),
        extra_headers: "",
    }
    .render();
    scene
        .servers
        .send_raw(&ana.email(), &scene.mail.bot_address, &raw)
        .await
        .expect("the relay accepts Ana's answer");
    let replies = scene
        .servers
        .wait_for_replies(&ana.email(), &answer_id, 1, REPLY_TIMEOUT)
        .await;
    assert_eq!(replies.len(), 1, "one reply to Ana's mail");
    assert!(
        replies[0]
            .text
            .contains("Recorded: GNSO acknowledges R-1 \"Budget\""),
        "the bare word was read as GNSO's acknowledgement of R-1: {}",
        replies[0].text
    );

    // Wei responds for ALAC in the room.
    let respond = wei_client.send(&wei_room, "!respond R-1 support").await;
    let responded = body(
        &wei_client
            .wait_for_reply(&scene.room_id, &respond, REPLY_TIMEOUT)
            .await
            .json,
    );
    assert!(
        responded.contains(
            "Recorded: ALAC responds support to R-1 \"Budget\". 1 of 3 organizations have responded."
        ),
        "{responded}"
    );

    // The chair reminds: GNSO owes its response, GAC its acknowledgement, ALAC nothing.
    let summary = scene.chair_says("!remind R-1").await;
    assert!(
        summary.starts_with("Reminder cycle for R-1 \"Budget\": reminded GNSO, GAC.")
            && summary.contains("1 of 3 organizations have responded."),
        "{summary}"
    );
    let reminder = scene.wait_for_announcement("Reminder: R-1").await;
    assert_eq!(reminder.len(), 1, "one reminder in the room");
    assert_eq!(
        mentions(&reminder[0]),
        user_ids(&[ana, thandiwe]),
        "the reminder mentions the members of GNSO and GAC only"
    );
    let reminder_text = body(&reminder[0]);
    assert!(
        reminder_text.contains("GNSO (Ana Lima): response due")
            && reminder_text.contains("GAC (Thandiwe Dlamini): acknowledgement due")
            && !reminder_text.contains("ALAC"),
        "{reminder_text}"
    );
    let reminder_subject = "R-1: reminder";
    for address in [ana.email(), thandiwe.email(), gac_contact.clone()] {
        let mails = scene.mails(&address, reminder_subject, 1).await;
        assert_eq!(mails.len(), 1, "{address} got the reminder once");
    }
    tokio::time::sleep(GRACE).await;
    for address in [wei.email(), aisha.email()] {
        let mails = scene.mails_now(&address, reminder_subject).await;
        assert!(
            mails.is_empty(),
            "{address} is in ALAC, which owes nothing, but got {} reminder(s)",
            mails.len()
        );
    }
    for address in [ana.email(), thandiwe.email(), gac_contact.clone()] {
        let mails = scene.mails_now(&address, reminder_subject).await;
        assert_eq!(mails.len(), 1, "{address} got the reminder exactly once");
    }

    // The record shows both answers, whichever channel they came by.
    let status = scene.chair_says("!status R-1").await;
    assert!(
        status.contains("3 organizations: 2 acknowledged, 1 responded."),
        "{status}"
    );
    let gnso = status_line(&status, "GNSO");
    assert!(
        gnso.contains("acknowledged")
            && gnso.contains("by Ana Lima")
            && !gnso.contains("responded"),
        "{gnso}"
    );
    let alac = status_line(&status, "ALAC");
    assert!(
        alac.contains("responded support") && alac.contains("by Wei Lin"),
        "{alac}"
    );
    let gac = status_line(&status, "GAC");
    assert!(gac.contains("sent, not acknowledged"), "{gac}");

    eprintln!(
        "answered in both channels on {backend}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// --- 2. A reminder cycle cut short by SIGKILL ------------------------------------------------

/// The outbox rows of the mails of R-1's reminder cycle: recipient to (idempotency key, state).
async fn reminder_mail_rows(bot: &BotProcess) -> BTreeMap<String, (String, String)> {
    let store = bot_store(bot).await;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT destination, idempotency_key, state FROM outbox \
         WHERE channel = 'mail' AND about = 'R-1' AND payload LIKE '%R-1: reminder%'",
    )
    .fetch_all(store.pool())
    .await
    .expect("read the outbox");
    store.close().await;
    rows.into_iter()
        .map(|(to, key, state)| (to.to_lowercase(), (key, state)))
        .collect()
}

/// The state of the outbox row of R-1's reminder in the room.
async fn reminder_room_row(bot: &BotProcess) -> Vec<(i64, String)> {
    let store = bot_store(bot).await;
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, state FROM outbox \
         WHERE channel = 'matrix' AND about = 'R-1' AND payload LIKE '%Reminder: R-1%'",
    )
    .fetch_all(store.pool())
    .await
    .expect("read the outbox");
    store.close().await;
    rows
}

/// Waits until no reminder of R-1 is waiting in the outbox (sent, or failed, which the test
/// then reports through the counts).
async fn wait_until_reminders_left_the_outbox(bot: &BotProcess) {
    let deadline = Instant::now() + REPLY_TIMEOUT;
    loop {
        let mail = reminder_mail_rows(bot).await;
        let room = reminder_room_row(bot).await;
        let waiting = mail
            .values()
            .filter(|(_, state)| state == "pending" || state == "sending")
            .count()
            + room
                .iter()
                .filter(|(_, state)| state == "pending" || state == "sending")
                .count();
        if waiting == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} reminder deliveries still pending after {REPLY_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The SMTP pool size `BotProcess::enable_mail` configures: at most this many mails are on their
/// way at once.
const SMTP_POOL_SIZE: usize = 4;

/// The subjects of the request's mail to the organizations and of its reminders.
const ANNOUNCED: &str = "R-1: for your organization";
const REMINDED: &str = "R-1: reminder";

/// How many of the cycle's 32 mails the relay has accepted when the bot is killed.
const KILL_AFTER_RELAYED: usize = 10;

fn now_ns() -> u64 {
    u64::try_from(Timestamp::now().as_nanosecond()).expect("after 1970")
}

/// The mails the relay accepted for a test's recipients: who each was for, its subject, and
/// when the relay had it.
#[derive(Default)]
struct RelayLog {
    known: HashSet<String>,
    copies: Vec<(String, String, u64)>,
}

impl RelayLog {
    /// Adds the relay's new messages for `recipients`.
    fn scan(&mut self, sent_dir: &std::path::Path, recipients: &BTreeSet<String>) {
        for mail in newly_relayed(sent_dir, &mut self.known) {
            let subject = relayed_subject(&mail.raw);
            for to in mail.rcpt_tos.iter().filter(|to| recipients.contains(*to)) {
                self.copies
                    .push((to.clone(), subject.clone(), mail.time_ns));
            }
        }
    }

    /// How many recipients have at least one mail whose subject contains `subject`.
    fn recipients(&self, subject: &str) -> usize {
        self.copies
            .iter()
            .filter(|(_, text, _)| text.contains(subject))
            .map(|(to, _, _)| to)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// When the relay had each copy for `recipient` whose subject contains `subject`, in order.
    fn times(&self, recipient: &str, subject: &str) -> Vec<u64> {
        let mut times: Vec<u64> = self
            .copies
            .iter()
            .filter(|(to, text, _)| to == recipient && text.contains(subject))
            .map(|(_, _, time)| *time)
            .collect();
        times.sort();
        times
    }
}

fn relayed_subject(raw: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(raw)
        .and_then(|message| message.subject().map(str::to_string))
        .unwrap_or_default()
}

/// Eight organizations with three members and a contact address each: one reminder cycle is
/// one room message and 32 mails. The bot is killed with SIGKILL as soon as the relay has
/// accepted ten of the reminder mails, and started again. Afterwards the room has the reminder
/// once and no recipient has it twice. Every mail recorded as sent, or still pending at the
/// kill, arrived once; the attempts under way at the kill (claimed, at most one per connection
/// of the SMTP pool) are held as `uncertain`, never resent: each arrived once if the relay had
/// accepted it before the kill, and not at all otherwise. How many were held is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_cycle_survives_kill_9() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let Some(servers) = mail_servers().await else {
        return;
    };
    let Some(sent_dir) = relay_sent_dir().or_else(|| {
        support::unavailable(
            "the SMTP relay's record of sent mail",
            "RAPPORTEUR_MAIL_SENT_DIR is not set",
        )
    }) else {
        return;
    };
    let started = Instant::now();
    let names = [
        "ccNSO", "GNSO", "ALAC", "GAC", "SSAC", "RSSAC", "ASO", "IETF",
    ];
    let contacts: Vec<String> = names.iter().map(|name| contact_address(name)).collect();
    let organizations: Vec<TestOrganization> = names
        .iter()
        .zip(&contacts)
        .map(|(name, contact)| TestOrganization {
            short_name: name,
            name,
            seats: 3,
            contact: Some(contact),
        })
        .collect();
    let people: Vec<Person> = names
        .iter()
        .flat_map(|name| {
            (1..=3).map(move |index| {
                Person::member(
                    &format!("{name} Member {index}"),
                    &listed_user(&format!("{}m{index}x", name.to_ascii_lowercase())),
                    name,
                )
            })
        })
        .collect();
    let mut recipients: BTreeSet<String> = people.iter().map(Person::email).collect();
    recipients.extend(contacts.iter().cloned());
    let recipients: BTreeSet<String> = recipients.iter().map(|a| a.to_lowercase()).collect();
    assert_eq!(recipients.len(), 32);

    let mut scene = Scene::start(&homeserver, servers, &organizations, &people, &[], None).await;
    let mut relay = RelayLog::default();
    relay.scan(&sent_dir, &recipients);
    let opened = scene
        .chair_says(&format!(
            "!request open \"Budget\" ack {} due {}",
            day_from_today(3),
            day_from_today(10)
        ))
        .await;
    assert!(opened.starts_with("Opened R-1"), "{opened}");

    // The announcement's fan-out is over before the reminder starts, so the kill lands in the
    // reminder's.
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while relay.recipients(ANNOUNCED) < recipients.len() {
        relay.scan(&sent_dir, &recipients);
        assert!(
            Instant::now() < deadline,
            "the request reached {} of 32 recipients",
            relay.recipients(ANNOUNCED)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The reminder, and SIGKILL once the relay has accepted a third of its mails: some are then
    // recorded as sent, some are on their way, most are still waiting in the outbox.
    let remind = scene.chair.send(&scene.room, "!remind R-1 force").await;
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while relay.recipients(REMINDED) < KILL_AFTER_RELAYED {
        relay.scan(&sent_dir, &recipients);
        assert!(
            Instant::now() < deadline,
            "only {} reminder mails reached the relay",
            relay.recipients(REMINDED)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let seen_at_kill = relay.recipients(REMINDED);
    scene.bot.kill();
    let rows_at_kill = reminder_mail_rows(&scene.bot).await;
    let room_at_kill = reminder_room_row(&scene.bot).await;
    assert_eq!(
        rows_at_kill.keys().cloned().collect::<BTreeSet<_>>(),
        recipients,
        "the whole cycle (one mail per recipient) was stored before its first mail went out"
    );
    assert_eq!(room_at_kill.len(), 1, "one room message for the cycle");
    let unsent_at_kill: BTreeSet<String> = rows_at_kill
        .iter()
        .filter(|(_, (_, state))| state == "pending")
        .map(|(to, _)| to.clone())
        .collect();
    assert!(
        !unsent_at_kill.is_empty() && unsent_at_kill.len() < recipients.len(),
        "the kill must land in the middle of the cycle for this test to mean anything \
         ({} of 32 unsent)",
        unsent_at_kill.len()
    );

    let restarted_ns = now_ns();
    scene.bot.start();
    wait_until_reminders_left_the_outbox(&scene.bot).await;
    let rows_after = reminder_mail_rows(&scene.bot).await;
    let held: BTreeSet<String> = rows_after
        .iter()
        .filter(|(_, (_, state))| state == "uncertain")
        .map(|(to, _)| to.clone())
        .collect();
    let in_flight_at_kill: BTreeSet<String> = rows_at_kill
        .iter()
        .filter(|(_, (_, state))| state == "sending")
        .map(|(to, _)| to.clone())
        .collect();
    assert!(
        rows_after
            .values()
            .all(|(_, state)| state == "sent" || state == "uncertain"),
        "every reminder mail was sent or held: {rows_after:?}"
    );
    assert_eq!(
        held, in_flight_at_kill,
        "exactly the attempts under way at the kill are held"
    );
    assert!(
        held.len() <= SMTP_POOL_SIZE,
        "more mails held ({}) than deliveries can be in flight ({SMTP_POOL_SIZE})",
        held.len()
    );

    // Every recipient's inbox: the reminder is there, from the one outbox item meant for them,
    // except for a held mail the relay never had.
    for address in recipients.difference(&held) {
        let mails = scene.mails(address, REMINDED, 1).await;
        assert!(!mails.is_empty(), "{address} never got the reminder");
    }
    tokio::time::sleep(GRACE).await;
    relay.scan(&sent_dir, &recipients);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for address in &recipients {
        let mails = scene.mails_now(address, REMINDED).await;
        let key = &rows_after[address].0;
        let ids: BTreeSet<String> = mails
            .iter()
            .filter_map(|mail| mail.message_id.clone())
            .collect();
        // The bot's Message-ID is its outbox key with the tag of its secret (`<key.tag@domain>`).
        let from_this_item = ids.len() == 1
            && ids.iter().all(|id| {
                id.starts_with(&format!("<{key}.")) && id.ends_with("@rapporteur.localhost>")
            });
        assert!(
            from_this_item || (ids.is_empty() && held.contains(address)),
            "{address}'s reminders all come from the one outbox item of this cycle: {ids:?}"
        );
        assert_eq!(
            mails.len(),
            relay.times(address, REMINDED).len(),
            "{address}: the inbox holds what the relay accepted"
        );
        assert_eq!(
            relay.times(address, ANNOUNCED).len(),
            1,
            "{address}: the request, sent before the kill, was not sent again"
        );
        counts.insert(address.clone(), mails.len());
    }

    // What the design guarantees for mail, which has no transaction IDs: no mail is sent twice.
    // A mail whose attempt was under way at the kill may have reached the relay before the bot
    // could record it; it is held as `uncertain` for an operator, and then it arrived once (the
    // relay had it before the restart) or not at all.
    assert!(
        counts.values().all(|count| *count <= 1),
        "a reminder came twice: {counts:?}"
    );
    for address in &held {
        for time in relay.times(address, REMINDED) {
            assert!(
                time < restarted_ns,
                "{address}'s held reminder was sent again after the restart"
            );
        }
    }
    let relayed_before_restart = recipients
        .iter()
        .filter(|to| {
            relay
                .times(to, REMINDED)
                .first()
                .is_some_and(|first| *first < restarted_ns)
        })
        .count();

    // The room: the reminder once, and the chair's command answered once.
    let in_room = scene.announcements("Reminder: R-1");
    assert_eq!(in_room.len(), 1, "one reminder message in the room");
    let everyone: Vec<&Person> = people.iter().collect();
    assert_eq!(mentions(&in_room[0]), user_ids(&everyone));
    assert_eq!(
        scene.chair.replies_to(&scene.room_id, &remind).len(),
        1,
        "one summary for the chair"
    );

    // The narrowest window for the room message: the homeserver took it but the bot died before
    // recording that. Reproduced exactly by marking it unsent; the resend carries the same
    // transaction ID, and the room still shows it once.
    scene.bot.kill();
    let store = bot_store(&scene.bot).await;
    sqlx::query("UPDATE outbox SET state = 'pending', next_attempt_ms = 0 WHERE id = $1")
        .bind(room_at_kill[0].0)
        .execute(store.pool())
        .await
        .expect("mark the room reminder unsent");
    store.close().await;
    scene.bot.start();
    wait_until_reminders_left_the_outbox(&scene.bot).await;
    let ping = scene.chair_says("!ping").await;
    assert!(!ping.is_empty());
    tokio::time::sleep(GRACE).await;
    assert_eq!(
        scene.announcements("Reminder: R-1").len(),
        1,
        "the resent room reminder was recognised by its transaction ID"
    );

    eprintln!(
        "kill -9 mid-cycle: {seen_at_kill} of 32 reminder mails seen at the relay when the kill \
         was sent, {relayed_before_restart} accepted by the relay before the restart, {} not yet \
         attempted at the kill, the room message {} at the kill; after the restart {} mail(s) \
         held as uncertain ({} of them had reached the relay), none sent twice, the room message \
         once; {:.1} s",
        unsent_at_kill.len(),
        room_at_kill[0].1,
        held.len(),
        held.iter()
            .filter(|address| !relay.times(address, REMINDED).is_empty())
            .count(),
        started.elapsed().as_secs_f64()
    );
}

// --- 3. A reminder timer that fell due while the bot was down --------------------------------

/// The clock's reminder point is a day before the acknowledgement deadline, so a request whose
/// acknowledgement is due one day and a few seconds after opening has its first reminder point a
/// few seconds after opening. The bot is stopped before that point, the point passes, and the
/// stored timer is moved two hours into the past, as if the bot had been down since then. At
/// the next start the timer fires once, late: every member and contact of the owing
/// organizations gets one reminder that says it comes late, the chair one summary, and a
/// further restart sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_due_during_downtime_fires_once_late() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let Some(servers) = mail_servers().await else {
        return;
    };
    let started = Instant::now();
    let ana = Person::member("Ana Lima", &listed_user("ana"), "GNSO");
    let wei = Person::member("Wei Lin", &listed_user("wei"), "ALAC");
    let aisha = Person::member("Aisha Kamara", &listed_user("aisha"), "ALAC");
    let alac_contact = contact_address("ALAC");
    let organizations = [
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
            contact: Some(&alac_contact),
        },
    ];
    let people = [ana, wei, aisha];
    let mut scene = Scene::start(&homeserver, servers, &organizations, &people, &[], None).await;
    let [ana, wei, aisha] = &people;
    let owing = [
        ana.email(),
        wei.email(),
        aisha.email(),
        alac_contact.clone(),
    ];
    let chair_address = email_of(&scene.chair.user.user_id);

    // The acknowledgement is due one calendar day (in the group's zone) after the reminder
    // point, which is 15 seconds from now; written as an exact UTC time with seconds.
    let zone = TimeZone::get(GROUP_ZONE).expect("bundled time zone");
    let point = Timestamp::from_second(Timestamp::now().as_second() + 15).expect("in range");
    let acknowledge_by = point
        .to_zoned_datetime(zone.clone())
        .checked_add(1.day())
        .expect("in range")
        .timestamp();
    let respond_by = acknowledge_by
        .to_zoned_datetime(zone)
        .date()
        .checked_add(7.days())
        .expect("in range");
    let opened = scene
        .chair_says(&format!(
            "!request open \"Budget\" ack {} due {respond_by}",
            acknowledge_by.strftime("%Y-%m-%dT%H:%M:%SZ")
        ))
        .await;
    scene.bot.kill();
    assert!(opened.starts_with("Opened R-1"), "{opened}");

    let store = bot_store(&scene.bot).await;
    let timers = store.timers("test-ccg").await.expect("read the timers");
    let follow_up = timers
        .iter()
        .find(|timer| timer.key == "R-1:follow-up")
        .unwrap_or_else(|| panic!("no follow-up timer: {timers:?}"));
    assert_eq!(
        (follow_up.due_ms, follow_up.state.as_str()),
        (point.as_millisecond(), "pending"),
        "the first reminder point is a day before the acknowledgement deadline"
    );
    // The point has to be in the past for the clock's rule to remind anyone.
    while Timestamp::now() <= point {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let two_hours_ago = Timestamp::now().as_millisecond() - 2 * 3_600_000;
    let moved = sqlx::query(
        "UPDATE timers SET due_ms = $1 WHERE group_id = 'test-ccg' AND timer_key = 'R-1:follow-up'",
    )
    .bind(two_hours_ago)
    .execute(store.pool())
    .await
    .expect("move the timer into the past");
    assert_eq!(moved.rows_affected(), 1);
    store.close().await;

    scene.bot.start();
    let reminder = scene.wait_for_announcement("Reminder: R-1").await;
    assert_eq!(
        mentions(&reminder[0]),
        user_ids(&[ana, wei, aisha]),
        "both organizations owe their acknowledgement"
    );
    assert!(
        body(&reminder[0]).contains("This comes late"),
        "{}",
        body(&reminder[0])
    );
    for address in &owing {
        let mails = scene.mails(address, "R-1: reminder", 1).await;
        assert!(!mails.is_empty(), "{address} never got the late reminder");
        assert!(
            mails[0].text.contains("This comes late"),
            "{address}: {}",
            mails[0].text
        );
    }
    let summary = scene.mails(&chair_address, "R-1: reminders sent", 1).await;
    assert!(
        !summary.is_empty() && summary[0].text.contains("This comes late"),
        "the chair is told about the late cycle"
    );

    // Once more from the start: the timer was replanned to a later point, nothing fires again.
    scene.bot.kill();
    scene.bot.start();
    let ping = scene.chair_says("!ping").await;
    assert!(!ping.is_empty());
    tokio::time::sleep(GRACE).await;
    for address in &owing {
        let mails = scene.mails_now(address, "R-1: reminder").await;
        assert_eq!(
            mails.len(),
            1,
            "{address} got the late reminder exactly once"
        );
    }
    assert_eq!(
        scene
            .mails_now(&chair_address, "R-1: reminders sent")
            .await
            .len(),
        1,
        "the chair got one summary"
    );
    assert_eq!(
        scene.announcements("Reminder: R-1").len(),
        1,
        "one reminder in the room"
    );
    let store = bot_store(&scene.bot).await;
    let fired: Vec<(String,)> =
        // The publication timer (moved by every change) fires too; only the request's counts.
        sqlx::query_as(
            "SELECT external_id FROM inbox WHERE channel = 'clock' AND conversation <> 'record-publish'",
        )
            .fetch_all(store.pool())
            .await
            .expect("read the inbox");
    let timers = store.timers("test-ccg").await.expect("read the timers");
    store.close().await;
    assert_eq!(fired.len(), 1, "the timer fired once: {fired:?}");
    let follow_up = timers
        .iter()
        .find(|timer| timer.key == "R-1:follow-up")
        .expect("the follow-up timer");
    assert!(
        follow_up.state == "pending" && follow_up.due_ms > Timestamp::now().as_millisecond(),
        "the next reminder point is in the future: {follow_up:?}"
    );
    eprintln!(
        "late timer: one late reminder to {} recipients and one summary; {:.1} s",
        owing.len(),
        started.elapsed().as_secs_f64()
    );
}
