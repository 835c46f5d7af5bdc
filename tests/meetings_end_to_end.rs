//! A meeting end to end: the real bot binary with its Matrix room and its mailbox, the real
//! homeserver, SMTP relay and dovecot of `scripts/stack.sh`, the chair and a member at Matrix
//! clients, another member by mail only, and the list as an IMAP inbox.
//!
//! The chair schedules the meeting in the room, the invitation (iCalendar, read back with a
//! parser) reaches the list, a member sends regrets by mail before the meeting, the bot is
//! killed before the reminder is due and the reminder goes out once after the restart, the bot
//! is killed again right after it and sends nothing twice; then the meeting runs in the room
//! (presence with the scribe form, a decision, an action item) and the minutes, with
//! representation by organization, arrive on the list. The same on SQLite and PostgreSQL.
//!
//! The list is a real Mailman 3 list of the stack (`scripts/stack.sh mailman-list`), with the
//! bot and Ana as members: what the bot mails to the list reaches Ana's inbox as list mail.

mod support;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use matrix_sdk::Room;
use matrix_sdk::ruma::OwnedRoomId;
use serde_json::Value;
use std::time::{Duration, Instant};
use support::mail::{
    BotMail, MailServers, OutgoingTestMail, REPLY_TIMEOUT, ReceivedMail, email_of, mail_servers,
    unique_message_id,
};
use support::matrix::{
    BotProcess, GroupMember, Homeserver, TestClient, TestOrganization, TestUser, homeserver,
    unique_name,
};

/// The zone `BotProcess::configure_with_organizations` gives the group.
const GROUP_ZONE: &str = "Europe/Brussels";

/// The reminder's lead time in the group file: short, so the test waits for it in earnest.
const REMINDER_LEAD: SignedDuration = SignedDuration::from_mins(1);

/// After the mail that should arrive has arrived, how long one that should not is given.
const GRACE: Duration = Duration::from_secs(3);

struct Scene {
    servers: MailServers,
    /// A member of the list, whose inbox shows what the list delivered.
    list_reader: String,
    bot_user: TestUser,
    chair: TestClient,
    room: Room,
    room_id: OwnedRoomId,
    bot: BotProcess,
    mail: BotMail,
}

impl Scene {
    async fn chair_says(&self, command: &str) -> String {
        self.chair.say(&self.room, command, REPLY_TIMEOUT).await
    }

    /// The bot's messages in the room that answer nobody and contain `needle`.
    fn announcements(&self, needle: &str) -> Vec<Value> {
        self.chair
            .announcements_of(&self.room_id, &self.bot_user.user_id, needle)
    }

    async fn wait_for_announcement(&self, needle: &str) -> Vec<Value> {
        self.chair
            .wait_for_announcement_of(&self.room_id, &self.bot_user.user_id, needle, REPLY_TIMEOUT)
            .await
    }

    /// The list's mails whose subject contains `subject`, waiting for at least `count`.
    async fn list_mails(&self, subject: &str, count: usize) -> Vec<ReceivedMail> {
        let timeout = if count == 0 {
            Duration::ZERO
        } else {
            REPLY_TIMEOUT
        };
        self.servers
            .wait_for_mail(&self.list_reader, count, timeout, |mail| {
                mail.subject.contains(subject) && mail.to == self.mail.list_address
            })
            .await
    }
}

fn body(json: &Value) -> String {
    support::matrix::event_body(json)
}

/// The `text/calendar` part of a mail: its `method` parameter and its text, and whether the
/// same calendar is attached as `invite.ics`.
fn calendar_part(raw: &[u8]) -> (String, String, bool) {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("the invitation parses");
    let mut found = None;
    let mut attached = false;
    for part in &message.parts {
        let Some(content_type) = part.content_type() else {
            continue;
        };
        let is_calendar = content_type.ctype().eq_ignore_ascii_case("text")
            && content_type
                .subtype()
                .is_some_and(|subtype| subtype.eq_ignore_ascii_case("calendar"));
        if is_calendar && found.is_none() {
            found = Some((
                content_type
                    .attribute("method")
                    .unwrap_or_default()
                    .to_string(),
                part.text_contents().unwrap_or_default().to_string(),
            ));
        }
        if part.attachment_name() == Some("invite.ics") {
            attached = true;
        }
    }
    let (method, text) = found.expect("a text/calendar part");
    (method, text, attached)
}

fn the_event(text: &str) -> icalendar::Event {
    use icalendar::{Calendar, CalendarComponent};
    let calendar: Calendar = text.parse().expect("the iCalendar text parses");
    let mut events: Vec<icalendar::Event> = calendar
        .components
        .into_iter()
        .filter_map(|component| match component {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 1, "one event: {text}");
    events.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_from_invitation_to_minutes_on_sqlite() {
    a_meeting_from_invitation_to_minutes(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_from_invitation_to_minutes_on_postgres() {
    let Some(url) = support::fresh_postgres_url().await else {
        return;
    };
    a_meeting_from_invitation_to_minutes(Some(url)).await;
}

async fn start_scene(
    homeserver: &Homeserver,
    servers: MailServers,
    wei_user: &TestUser,
    ana_user: &TestUser,
    database_url: Option<&str>,
) -> Scene {
    let bot_user = homeserver.register("bot").await;
    let chair_user = homeserver.register("chair").await;
    let chair = TestClient::login(homeserver, &chair_user).await;
    let room = chair
        .create_room(
            false,
            &[bot_user.user_id.as_str(), wei_user.user_id.as_str()],
        )
        .await;
    let room_id = room.room_id().to_owned();
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
            seats: 1,
            contact: None,
        },
        TestOrganization {
            short_name: "GAC",
            name: "Governmental Advisory Committee",
            seats: 1,
            contact: None,
        },
    ];
    let members = [
        GroupMember {
            name: "Chair Person",
            user: &chair_user,
            organization: None,
            roles: &["chair"],
        },
        GroupMember {
            name: "Ana Lima",
            user: ana_user,
            organization: Some("GNSO"),
            roles: &["member"],
        },
        GroupMember {
            name: "Wei Lin",
            user: wei_user,
            organization: Some("ALAC"),
            roles: &["member"],
        },
    ];
    let mut bot = BotProcess::configure_with_organizations(
        homeserver,
        &bot_user,
        room_id.as_str(),
        &organizations,
        &members,
        database_url,
    );
    // Reminders a minute before each meeting, so the test can wait for one.
    let group_file = bot.folder.path().join("group.toml");
    let mut group = std::fs::read_to_string(&group_file).expect("read the group file");
    group.push_str("\n[meetings]\nreminders = [\"1m\"]\n");
    std::fs::write(&group_file, group).expect("write the group file");
    // Mailman takes members only from domains with a dot.
    let mail = bot.enable_mail_at(&servers, "mail.localhost");
    let list_reader = email_of(&ana_user.user_id);
    support::stack(&[
        "mailman-list",
        &mail.list_address,
        &format!("Ana Lima <{list_reader}>"),
        &mail.bot_address,
    ]);
    bot.start();
    chair
        .wait_for_join(&room_id, &bot_user.user_id, Duration::from_secs(60))
        .await;
    Scene {
        servers,
        list_reader,
        bot_user,
        chair,
        room,
        room_id,
        bot,
        mail,
    }
}

/// Waits until `instant` has passed.
async fn sleep_until(instant: Timestamp) {
    let left = instant.duration_since(Timestamp::now());
    if left.is_positive() {
        tokio::time::sleep(Duration::try_from(left).unwrap_or_default()).await;
    }
}

async fn a_meeting_from_invitation_to_minutes(database_url: Option<String>) {
    if !support::mailman_in_stack() {
        return;
    }
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
    let wei_user = homeserver.register("wei").await;
    // Ana has no Matrix account in this test: she takes part by mail only.
    let ana_localpart = unique_name("ana");
    let ana_user = TestUser {
        user_id: format!("@{ana_localpart}:localhost"),
        localpart: ana_localpart,
        password: String::new(),
    };
    let mut scene = start_scene(
        &homeserver,
        servers,
        &wei_user,
        &ana_user,
        database_url.as_deref(),
    )
    .await;
    let wei = TestClient::login(&homeserver, &wei_user).await;
    let wei_room = wei.join(&scene.room_id).await;

    // The meeting starts on a whole minute at least 100 s away, so the reminder (a minute
    // before) is due 40 s or more from now: time to schedule it and to send regrets first.
    let zone = TimeZone::get(GROUP_ZONE).expect("bundled zone");
    let earliest = Timestamp::now() + SignedDuration::from_secs(100);
    let start = Timestamp::from_second((earliest.as_second() / 60 + 1) * 60).expect("instant");
    let local = start.to_zoned_datetime(zone);
    let date = local.date().to_string();
    let scheduled = scene
        .chair_says(&format!(
            "!meeting schedule \"Monthly call\" {} for 30m remote",
            local.strftime("%Y-%m-%d %H:%M")
        ))
        .await;
    assert!(
        scheduled.starts_with("Scheduled M-1 \"Monthly call\""),
        "{scheduled}"
    );
    // The reply in the room says how to send regrets; the room gets no second notice.
    assert!(
        scheduled.contains(&format!(
            "Cannot attend? Send apologies with `!regrets {date} [reason]`."
        )),
        "{scheduled}"
    );

    // The invitation reaches the list with a text/calendar part, attached as invite.ics too.
    let invitations = scene.list_mails("Invitation: Monthly call", 1).await;
    assert_eq!(invitations.len(), 1, "one invitation on the list");
    let (method, text, attached) = calendar_part(&invitations[0].raw);
    assert_eq!(method, "REQUEST");
    assert!(attached, "the invitation is attached as invite.ics");
    let event = {
        use icalendar::Component;
        let event = the_event(&text);
        assert_eq!(event.get_uid(), Some("test-ccg-m1@rapporteur"));
        assert_eq!(event.get_sequence(), Some(0));
        assert_eq!(
            event.property_value("DTSTART"),
            Some(start.strftime("%Y%m%dT%H%M%SZ").to_string().as_str())
        );
        event
    };
    drop(event);

    // Ana answers the invitation she got from the list, before the meeting, with her regrets
    // and a reason but no date: the thread says which meeting. She is answered by mail.
    let invitation_id = invitations[0]
        .message_id
        .clone()
        .expect("the invitation has a Message-ID");
    let ana_address = email_of(&ana_user.user_id);
    let regrets_id = unique_message_id();
    let raw = OutgoingTestMail {
        from: &ana_address,
        from_name: "Ana Lima",
        to: &scene.mail.bot_address,
        subject: &format!("Re: {}", invitations[0].subject),
        body: "!regrets travelling\n\n-- \nAna",
        message_id: &regrets_id,
        in_reply_to: Some(&invitation_id),
        extra_headers: "",
    }
    .render();
    scene
        .servers
        .send_raw(&ana_address, &scene.mail.bot_address, &raw)
        .await
        .expect("the relay accepts Ana's mail");
    let replies = scene
        .servers
        .wait_for_replies(&ana_address, &regrets_id, 1, REPLY_TIMEOUT)
        .await;
    assert_eq!(replies.len(), 1, "one answer to Ana's regrets");
    assert!(
        replies[0].text.contains("Recorded your regrets for M-1"),
        "{}",
        replies[0].text
    );

    // The bot is killed before the reminder is due and comes back after: the durable clock
    // sends the reminder once, to the room and the list.
    let due = start - REMINDER_LEAD;
    let killed_before_due = Timestamp::now() < due;
    scene.bot.kill();
    sleep_until(due + SignedDuration::from_secs(1)).await;
    scene.bot.start();
    scene.wait_for_announcement("Reminder: meeting M-1").await;
    let reminders = scene.list_mails("Reminder: Monthly call", 1).await;
    assert_eq!(reminders.len(), 1, "one reminder on the list");
    // Killed again right after the reminder: the restarted bot sends nothing twice.
    scene.bot.kill();
    scene.bot.start();

    // The meeting, in the room.
    let reply = scene.chair_says("!meeting start").await;
    assert!(
        reply.starts_with("Meeting M-1 \"Monthly call\" started"),
        "{reply}"
    );
    let present = wei.send(&wei_room, "present+").await;
    let reply = body(
        &wei.wait_for_reply(&scene.room_id, &present, REPLY_TIMEOUT)
            .await
            .json,
    );
    assert!(
        reply.starts_with("Recorded: Wei Lin (ALAC) present at M-1"),
        "{reply}"
    );
    let reply = scene.chair_says("agreed: the budget stands").await;
    assert_eq!(reply, "Agreed M-1: the budget stands");
    let reply = scene
        .chair_says("!action Wei Lin send the figures due +1w")
        .await;
    assert!(
        reply.starts_with("Action A-1: Wei Lin to send the figures, due"),
        "{reply}"
    );
    let summary = scene.chair_says("!meeting end").await;
    assert_eq!(
        summary,
        "Meeting M-1 \"Monthly call\" ended. 1 of 3 organizations represented.\n\
         - Represented: ALAC\n\
         - Regrets: GNSO (Ana Lima)\n\
         - Absent: GAC\n\
         1 item agreed, 1 action item assigned. The full minutes go to the list."
    );

    // The minutes arrive on the list, in text and HTML.
    let minutes = scene.list_mails("Minutes: Monthly call", 1).await;
    assert_eq!(minutes.len(), 1, "the minutes reach the list once");
    let minutes = &minutes[0];
    for line in [
        "Minutes of TEST-CCG meeting M-1 \"Monthly call\"",
        "- GNSO: not represented; regrets from Ana Lima (travelling)",
        "- ALAC: represented by Wei Lin",
        "- GAC: absent",
        "Agreed: the budget stands",
        "A-1: Wei Lin to send the figures, due",
    ] {
        assert!(
            minutes.text.contains(line),
            "{line:?} in the minutes:\n{}",
            minutes.text
        );
    }
    assert!(
        minutes
            .html
            .contains("<strong>ALAC</strong>: represented by Wei Lin"),
        "{}",
        minutes.html
    );

    // Exactly one reminder for the one scheduled time, in the room and on the list, across
    // both kills.
    tokio::time::sleep(GRACE).await;
    assert_eq!(scene.announcements("Reminder: meeting M-1").len(), 1);
    assert_eq!(scene.list_mails("Reminder: Monthly call", 0).await.len(), 1);
    assert_eq!(
        scene.list_mails("Invitation: Monthly call", 0).await.len(),
        1
    );

    // The calendar feed is written where the public record will publish it.
    let feed = std::fs::read_to_string(
        scene
            .bot
            .data_dir()
            .join("data/record/test-ccg/meetings.ics"),
    )
    .expect("the calendar feed is written");
    assert!(feed.contains("UID:test-ccg-m1@rapporteur"), "{feed}");

    println!(
        "meeting end to end on {backend}: {:.1} s (killed before the reminder was due: {killed_before_due})",
        started.elapsed().as_secs_f64()
    );
}
