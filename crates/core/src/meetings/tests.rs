//! Tables over whole meetings, run through the engine as members would type them: scheduling
//! and its refusals, the roll call and representation by organization, minutes (snapshots of
//! the text and HTML), reminders through the clock, action items, recurring schedules, and
//! the iCalendar invitation read back by a parser.

use super::policy::{RecurringMeeting, parse_rule};
use super::representation::representation;
use crate::catalog::Catalog;
use crate::directory::{Group, SenderAddress};
use crate::effects::{Audience, Effect, Timer};
use crate::engine::{Decision, Disposition, Engine, Input};
use crate::state::{Change, GroupState};
use icalendar::{Calendar, CalendarComponent, Component, EventLike};
use jiff::Timestamp;

fn engine() -> Engine {
    Engine::new(Catalog::builtin().expect("valid catalog"), "!")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("RFC 3339")
}

const CHAIR: &str = "@ana:example.org";
const STAFF: &str = "@sam:example.org";
const ALAC_MEMBER: &str = "@bea:example.org";
const GNSO_MEMBER: &str = "@gus:example.org";
const PARTICIPANT: &str = "@pat:example.org";

/// The small test group with a second GNSO member and an ALAC participant.
fn group() -> Group {
    crate::directory::test_support::small_group_with_gus_and_pat()
}

/// Runs messages and timers in order against one state.
struct Session {
    group: Group,
    state: GroupState,
    last: Option<Decision>,
}

impl Session {
    fn new() -> Session {
        Session::with_group(group())
    }

    fn with_group(group: Group) -> Session {
        Session {
            group,
            state: GroupState::default(),
            last: None,
        }
    }

    fn say(&mut self, sender: &str, body: &str, now: &str) -> String {
        let decision = engine().decide_command(
            &self.state,
            &self.group,
            &SenderAddress::Matrix(sender.to_string()),
            body,
            at(now),
        );
        for change in &decision.changes {
            self.state.apply(change);
        }
        let text = decision
            .reply()
            .map(|reply| reply.plain_text())
            .unwrap_or_default();
        self.last = Some(decision);
        text
    }

    fn fire(&mut self, key: &str, timer: &Timer, due: Timestamp, now: &str) -> Decision {
        let decision = engine().decide(
            &self.state,
            &self.group,
            &Input::Timer { key, due, timer },
            at(now),
        );
        for change in &decision.changes {
            self.state.apply(change);
        }
        decision
    }

    fn effects(&self) -> &[Effect] {
        &self.last.as_ref().expect("a decision").effects
    }

    /// The timers the last decision scheduled, as (key, due).
    fn scheduled(&self) -> Vec<(String, Timestamp, Timer)> {
        self.effects()
            .iter()
            .filter_map(|effect| match effect {
                Effect::Schedule { key, at, timer } => Some((key.clone(), *at, timer.clone())),
                _ => None,
            })
            .collect()
    }

    fn calendar(&self) -> (String, Calendar) {
        let part = self
            .effects()
            .iter()
            .find_map(|effect| match effect {
                Effect::Invite { calendar, .. } => Some(calendar.clone()),
                _ => None,
            })
            .expect("an invitation");
        let parsed: Calendar = part.text.parse().expect("the invitation parses");
        (part.method, parsed)
    }
}

fn only_event(calendar: &Calendar) -> &icalendar::Event {
    let events: Vec<&icalendar::Event> = calendar
        .components
        .iter()
        .filter_map(|component| match component {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 1);
    events[0]
}

const SCHEDULE: &str = "!meeting schedule \"Monthly call\" 2026-12-08 14:00 for 90m remote";
const BEFORE: &str = "2026-11-25T16:00:00Z";

#[test]
fn scheduling_refuses_what_it_cannot_keep_and_says_why() {
    let cases = [
        (
            "!meeting schedule \"Call\" 2026-11-20 14:00",
            "is in the past",
        ),
        (
            "!meeting schedule \"Call\" 2027-03-28 02:30",
            "the clocks skip from 02:00 to 03:00",
        ),
        (
            "!meeting schedule \"Call\" 2027-10-31 02:30",
            "happens twice in Europe/Brussels",
        ),
        (
            "!meeting schedule \"Call\" 2026-12-08",
            "has no time of day",
        ),
        (
            "!meeting schedule \"Call\" 2026-12-08 14:00 for ages",
            "is not a meeting length",
        ),
        (
            "!meeting schedule \"Call\" 2026-12-08 14:00 at",
            "The place after \"at\" is missing",
        ),
        (
            "!meeting schedule \"Call\" 2026-12-08 14:00 remote banana",
            "\"banana\" is not understood here",
        ),
        ("!meeting fly", "is not something a meeting can do"),
        ("!meeting move 2026-12-08", "is missing"),
    ];
    for (input, expected) in cases {
        let mut session = Session::new();
        let reply = session.say(CHAIR, input, BEFORE);
        assert!(reply.contains(expected), "{input:?}: {reply}");
        assert!(session.state.meetings.is_empty(), "{input:?}");
    }
}

#[test]
fn times_are_stored_as_instants_whatever_zone_they_were_written_in() {
    let cases = [
        ("2026-12-08 14:00", "2026-12-08T13:00:00Z"),
        ("2026-12-08 13:00 UTC", "2026-12-08T13:00:00Z"),
        ("2026-12-08T13:00Z", "2026-12-08T13:00:00Z"),
        ("2026-12-08 08:00 America/New_York", "2026-12-08T13:00:00Z"),
        // Summer time in Brussels: 14:00 is 12:00 UTC.
        ("2027-06-08 14:00", "2027-06-08T12:00:00Z"),
    ];
    for (when, expected) in cases {
        let mut session = Session::new();
        session.say(CHAIR, &format!("!meeting schedule \"Call\" {when}"), BEFORE);
        let meeting = session.state.meetings.get(&1).expect("scheduled");
        assert_eq!(meeting.start, at(expected), "{when}");
    }
}

#[test]
fn the_invitation_is_one_event_updated_by_sequence_and_cancelled_by_method() {
    let mut session = Session::new();
    session.say(
        CHAIR,
        "!meeting schedule \"Budget; review, part 2\" 2026-12-08 14:00 for 90m remote at \"Room 3, Level 2\"",
        BEFORE,
    );
    let (method, calendar) = session.calendar();
    assert_eq!(method, "REQUEST");
    assert_eq!(calendar.property_value("METHOD"), Some("REQUEST"));
    let event = only_event(&calendar);
    let uid = event.get_uid().expect("a UID").to_string();
    assert_eq!(uid, "test-group-m1@rapporteur");
    assert_eq!(event.get_sequence(), Some(0));
    assert_eq!(event.property_value("DTSTART"), Some("20261208T130000Z"));
    assert_eq!(event.property_value("DTEND"), Some("20261208T143000Z"));
    // Commas and semicolons in the title and place survive the trip through the file.
    assert_eq!(
        event.get_summary(),
        Some("TG: Budget; review, part 2 (M-1)")
    );
    assert_eq!(event.get_location(), Some("Room 3, Level 2"));
    assert_eq!(
        event.property_value("ORGANIZER"),
        Some("mailto:tg@lists.example.org")
    );

    session.say(
        CHAIR,
        "!meeting move M-1 2026-12-10 15:00",
        "2026-11-26T10:00:00Z",
    );
    let (method, calendar) = session.calendar();
    let event = only_event(&calendar);
    assert_eq!(method, "REQUEST");
    assert_eq!(event.get_uid(), Some(uid.as_str()));
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(event.property_value("DTSTART"), Some("20261210T140000Z"));

    session.say(CHAIR, "!meeting cancel 2026-12-10", "2026-11-27T10:00:00Z");
    let (method, calendar) = session.calendar();
    let event = only_event(&calendar);
    assert_eq!(method, "CANCEL");
    assert_eq!(calendar.property_value("METHOD"), Some("CANCEL"));
    assert_eq!(event.get_uid(), Some(uid.as_str()));
    assert_eq!(event.get_sequence(), Some(2));
    assert_eq!(event.property_value("STATUS"), Some("CANCELLED"));
}

#[test]
fn reminders_are_planned_moved_sent_once_and_forgotten_when_cancelled() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    let planned = session.scheduled();
    let keys: Vec<(&str, String)> = planned
        .iter()
        .map(|(key, due, _)| (key.as_str(), due.to_string()))
        .collect();
    assert_eq!(
        keys,
        [
            ("M-1:remind:10080m", "2026-12-01T13:00:00Z".to_string()),
            ("M-1:remind:1440m", "2026-12-07T13:00:00Z".to_string()),
            ("M-1:remind:60m", "2026-12-08T12:00:00Z".to_string()),
        ]
    );
    let (key, due, timer) = planned[1].clone();
    let decision = session.fire(&key, &timer, due, "2026-12-07T13:00:05Z");
    let audiences: Vec<&Audience> = decision
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce { audience, .. } => Some(audience),
            _ => None,
        })
        .collect();
    assert_eq!(audiences, [&Audience::Room, &Audience::List]);
    let text = match &decision.effects[0] {
        Effect::Announce { document, .. } => document.plain_text(),
        _ => unreachable!(),
    };
    assert!(
        text.starts_with("Reminder: meeting M-1 \"Monthly call\""),
        "{text}"
    );
    assert!(text.contains("in 1 day"), "{text}");
    // The same firing handled again (a crash before the commit is replayed as a new input,
    // but a second timer of the same key could also arrive) sends nothing more.
    let again = session.fire(&key, &timer, due, "2026-12-07T13:01:00Z");
    assert!(again.effects.is_empty() && again.changes.is_empty());

    // A move re-plans the same keys; the old due time no longer fits and does nothing.
    session.say(
        CHAIR,
        "!meeting move M-1 2026-12-09 14:00",
        "2026-12-07T14:00:00Z",
    );
    let moved = session.scheduled();
    assert_eq!(
        moved
            .iter()
            .map(|(key, due, _)| (key.as_str(), due.to_string()))
            .collect::<Vec<_>>(),
        [
            ("M-1:remind:1440m", "2026-12-08T13:00:00Z".to_string()),
            ("M-1:remind:60m", "2026-12-09T12:00:00Z".to_string()),
        ]
    );
    let cancels: Vec<&str> = session
        .effects()
        .iter()
        .filter_map(|effect| match effect {
            Effect::Cancel { key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cancels, ["M-1:remind:10080m"]);
    let stale = session.fire(&key, &timer, due, "2026-12-07T14:00:01Z");
    assert!(stale.effects.is_empty());
    // The moved meeting is reminded of again, at its new time.
    let (key, due, timer) = moved[0].clone();
    let decision = session.fire(&key, &timer, due, "2026-12-08T13:00:00Z");
    assert_eq!(decision.effects.len(), 2);

    // Cancelled: every reminder is cancelled, and one that fires anyway says nothing.
    session.say(CHAIR, "!meeting cancel M-1", "2026-12-08T14:00:00Z");
    assert!(session.scheduled().is_empty());
    let (key, due, timer) = moved[1].clone();
    assert!(
        session
            .fire(&key, &timer, due, "2026-12-09T12:00:00Z")
            .effects
            .is_empty()
    );
}

#[test]
fn a_reminder_handled_after_the_start_says_nothing() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    let (key, due, timer) = session.scheduled()[2].clone();
    let late = session.fire(&key, &timer, due, "2026-12-08T13:30:00Z");
    assert!(late.effects.is_empty() && late.changes.is_empty());
}

/// Who is where after a roll call, by organization: (organization, represented by, regrets).
fn rows(session: &Session) -> Vec<(String, Vec<String>, Vec<String>)> {
    let meeting = session.state.meetings.get(&1).expect("meeting");
    representation(&session.group, meeting)
        .organizations
        .into_iter()
        .map(|row| {
            (
                row.short_name,
                row.present.into_iter().map(|(id, _)| id).collect(),
                row.regrets.into_iter().map(|(id, _)| id).collect(),
            )
        })
        .collect()
}

#[test]
fn roll_call_by_organization() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    // Regrets by the GNSO member the day before; the ALAC participant attends, which does not
    // represent ALAC; the chair attends for GNSO.
    let reply = session.say(
        GNSO_MEMBER,
        "!regrets 2026-12-08 travelling",
        "2026-12-07T09:00:00Z",
    );
    assert!(
        reply.starts_with("Recorded your regrets for M-1"),
        "{reply}"
    );
    session.say(CHAIR, "!meeting start", "2026-12-08T13:01:00Z");
    session.say(CHAIR, "present+", "2026-12-08T13:02:00Z");
    let twice = session.say(CHAIR, "!present", "2026-12-08T13:03:00Z");
    assert!(twice.contains("already recorded as present"), "{twice}");
    assert!(session.last.as_ref().expect("decision").changes.is_empty());
    session.say(PARTICIPANT, "present+", "2026-12-08T13:03:00Z");
    session.say(STAFF, "!present", "2026-12-08T13:03:00Z");
    assert_eq!(
        rows(&session),
        [
            (
                "GNSO".to_string(),
                vec!["ana.lima".to_string()],
                vec!["gus.gnso".to_string()]
            ),
            ("ALAC".to_string(), vec![], vec![]),
        ]
    );
    let meeting = session.state.meetings.get(&1).expect("meeting");
    let others: Vec<String> = representation(&session.group, meeting)
        .others
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(others, ["pat.participant", "sam.staff"]);

    // The chair records the ALAC member, who joined by phone; a stranger's name gets the
    // closest names; a member may not record someone else.
    let reply = session.say(CHAIR, "present+ Bea", "2026-12-08T13:05:00Z");
    assert!(reply.starts_with("Recorded: Bea Alac (ALAC)"), "{reply}");
    let reply = session.say(
        CHAIR,
        "!present for Beatrix Alacrity",
        "2026-12-08T13:05:00Z",
    );
    assert!(reply.contains("The closest names: Bea Alac"), "{reply}");
    let reply = session.say(GNSO_MEMBER, "!present for Ana Lima", "2026-12-08T13:05:00Z");
    assert_eq!(
        session.last.as_ref().expect("decision").disposition,
        Disposition::NotPermitted,
        "{reply}"
    );
    assert_eq!(rows(&session)[1].1, ["bea.alac"]);
}

#[test]
fn regrets_without_a_date_are_for_the_next_meeting_and_name_the_scheduled_ones_otherwise() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    session.say(
        CHAIR,
        "!meeting schedule \"Second\" 2027-01-12 14:00",
        BEFORE,
    );
    let reply = session.say(ALAC_MEMBER, "regrets+", BEFORE);
    assert!(reply.contains("M-1 \"Monthly call\""), "{reply}");
    let reply = session.say(ALAC_MEMBER, "!regrets 2026-12-09", BEFORE);
    assert_eq!(
        reply,
        "TG has no meeting on 2026-12-09. Scheduled: 2026-12-08 (M-1, Monthly call), 2027-01-12 \
         (M-2, Second)."
    );
    let reply = session.say(
        ALAC_MEMBER,
        "!regrets M-2 on leave, alternate \"Jane Doe\"",
        BEFORE,
    );
    assert!(
        reply.ends_with(": on leave; alternate: Jane Doe."),
        "{reply}"
    );
    let regrets = &session.state.meetings[&2].regrets["bea.alac"];
    assert_eq!(regrets.reason.as_deref(), Some("on leave"));
    assert_eq!(regrets.alternate.as_deref(), Some("Jane Doe"));
}

#[test]
fn commands_outside_a_meeting_say_which_is_next_and_scribe_chat_stays_chat() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    for input in [
        "!present",
        "!topic Budget",
        "!agreed yes",
        "!undo",
        "!meeting end",
    ] {
        let reply = session.say(CHAIR, input, BEFORE);
        assert!(
            reply.starts_with("No meeting of TG is in progress.\nThe next is M-1"),
            "{input}: {reply}"
        );
    }
    // Outside a meeting "agreed: ..." is somebody talking, not a decision.
    session.say(CHAIR, "agreed: lunch at noon", BEFORE);
    let decision = session.last.as_ref().expect("decision");
    assert_eq!(decision.disposition, Disposition::NotACommand);
    assert!(decision.effects.is_empty());
}

fn run_meeting(session: &mut Session) {
    session.say(CHAIR, SCHEDULE, BEFORE);
    session.say(CHAIR, "!rapporteur Bea Alac", "2026-12-01T09:00:00Z");
    session.say(
        GNSO_MEMBER,
        "!regrets on leave, alternate \"Jane Doe\"",
        "2026-12-07T09:00:00Z",
    );
    // The meeting's rapporteur may start it, though she holds no role for it.
    session.say(ALAC_MEMBER, "!meeting start", "2026-12-08T13:01:00Z");
    session.say(CHAIR, "present+", "2026-12-08T13:02:00Z");
    session.say(ALAC_MEMBER, "!present in-person", "2026-12-08T13:02:00Z");
    session.say(PARTICIPANT, "!present remote", "2026-12-08T13:03:00Z");
    session.say(
        ALAC_MEMBER,
        "topic: Budget <2027> & \"reserves\"",
        "2026-12-08T13:05:00Z",
    );
    session.say(
        CHAIR,
        "!info Figures are in the annex",
        "2026-12-08T13:06:00Z",
    );
    session.say(
        ALAC_MEMBER,
        "resolved: adopt the budget",
        "2026-12-08T13:20:00Z",
    );
    session.say(ALAC_MEMBER, "!agreed a mistake", "2026-12-08T13:21:00Z");
    session.say(ALAC_MEMBER, "!undo", "2026-12-08T13:21:30Z");
    session.say(
        ALAC_MEMBER,
        "!action Ana Lima circulate the budget due 2026-12-15",
        "2026-12-08T13:25:00Z",
    );
    session.say(
        CHAIR,
        "!link https://example.org/budget.pdf the annex",
        "2026-12-08T13:26:00Z",
    );
    session.say(ALAC_MEMBER, "!meeting end", "2026-12-08T14:20:00Z");
}

#[test]
fn the_minutes_in_text_and_html() {
    let mut session = Session::new();
    run_meeting(&mut session);
    let minutes = session
        .effects()
        .iter()
        .find_map(|effect| match effect {
            Effect::Announce {
                audience: Audience::List,
                subject,
                document,
                ..
            } => Some((subject.clone(), document.clone())),
            _ => None,
        })
        .expect("the minutes go to the list");
    assert_eq!(minutes.0, "[TG] Minutes: Monthly call, 2026-12-08 (M-1)");
    insta::assert_snapshot!("minutes_text", minutes.1.plain_text());
    insta::assert_snapshot!("minutes_html", minutes.1.html());
    let summary = session
        .last
        .as_ref()
        .expect("decision")
        .reply()
        .expect("reply");
    insta::assert_snapshot!("summary_text", summary.plain_text());
    // Ended in the room: the reply is the summary, so the room is not told twice.
    assert!(!session.effects().iter().any(|effect| matches!(
        effect,
        Effect::Announce {
            audience: Audience::Room,
            ..
        }
    )));
}

#[test]
fn quorum_counts_organizations_represented_by_appointed_members_only() {
    let cases = [
        (
            vec![CHAIR],
            Some(2),
            "1 of 2 organizations represented; quorum 2: not reached",
        ),
        (
            vec![CHAIR, ALAC_MEMBER],
            Some(2),
            "2 of 2 organizations represented; quorum 2: reached",
        ),
        // The participant from ALAC does not make ALAC represented.
        (
            vec![CHAIR, PARTICIPANT],
            Some(2),
            "1 of 2 organizations represented; quorum 2: not reached",
        ),
        (
            vec![CHAIR, GNSO_MEMBER],
            None,
            "1 of 2 organizations represented",
        ),
    ];
    for (present, quorum, expected) in cases {
        let mut group = group();
        group.meetings.quorum_organizations = quorum;
        let mut session = Session::with_group(group);
        session.say(CHAIR, SCHEDULE, BEFORE);
        session.say(CHAIR, "!meeting start", "2026-12-08T13:01:00Z");
        for sender in &present {
            session.say(sender, "!present", "2026-12-08T13:02:00Z");
        }
        let meeting = &session.state.meetings[&1];
        let headline =
            super::render::representation_headline(&representation(&session.group, meeting));
        assert_eq!(headline, expected, "{present:?}");
    }
}

#[test]
fn action_items_remind_their_owner_only_and_stop_when_done() {
    let mut session = Session::new();
    run_meeting(&mut session);
    let item = &session.state.actions[&1];
    assert_eq!(item.owner, "ana.lima");
    let timer = Timer::ActionFollowUp {
        number: 1,
        overdue: false,
    };
    let due = at("2026-12-14T22:59:59Z");
    let decision = session.fire("A-1:due-soon", &timer, due, "2026-12-14T23:00:00Z");
    assert!(matches!(
        decision.effects.as_slice(),
        [Effect::Announce {
            audience: Audience::Person(owner),
            ..
        }] if owner == "ana.lima"
    ));
    assert!(
        session
            .fire("A-1:due-soon", &timer, due, "2026-12-14T23:05:00Z")
            .effects
            .is_empty()
    );
    // Only its owner, a chair or staff closes it; closing cancels the overdue reminder.
    session.say(GNSO_MEMBER, "!done A-1", "2026-12-15T09:00:00Z");
    assert!(session.state.actions[&1].is_open());
    let reply = session.say(CHAIR, "!done A-1", "2026-12-15T09:00:00Z");
    assert!(reply.starts_with("Done: A-1"), "{reply}");
    assert!(session.effects().contains(&Effect::Cancel {
        key: "A-1:overdue".into()
    }));
    let overdue = Timer::ActionFollowUp {
        number: 1,
        overdue: true,
    };
    assert!(
        session
            .fire(
                "A-1:overdue",
                &overdue,
                at("2026-12-15T22:59:59Z"),
                "2026-12-15T23:00:00Z"
            )
            .effects
            .is_empty()
    );
}

#[test]
fn a_recurring_schedule_adds_one_meeting_at_a_time_with_its_invitation() {
    let mut group = group();
    let rule = parse_rule("second Tuesday of every other month at 14:00").expect("rule");
    group.meetings.recurring.push(RecurringMeeting {
        id: "regular".into(),
        title: "Regular call".into(),
        rule,
        rule_text: String::new(),
        zone: group.time_zone.clone(),
        zone_name: group.time_zone_name.clone(),
        starting: "2026-12-01".parse().expect("date"),
        until: None,
        minutes_long: 60,
        mode: None,
        location: None,
    });
    let mut session = Session::with_group(group);
    let timer = Timer::MeetingSeries {
        series: "regular".into(),
    };
    let first = session.fire("series:regular", &timer, at(BEFORE), BEFORE);
    assert!(matches!(
        first.changes.as_slice(),
        [Change::MeetingScheduled { number: 1, series: Some(series), by: None, .. }]
            if series == "regular@2026-12-08"
    ));
    assert!(
        first
            .effects
            .iter()
            .any(|effect| matches!(effect, Effect::Invite { .. }))
    );
    let again = first
        .effects
        .iter()
        .find_map(|effect| match effect {
            Effect::Schedule { key, at, .. } if key == "series:regular" => Some(*at),
            _ => None,
        })
        .expect("the schedule's timer is set again");
    assert_eq!(again, at("2026-12-08T13:00:00Z"));
    // The same firing again (a restart that set the timer anew) adds nothing.
    let repeated = session.fire("series:regular", &timer, at(BEFORE), BEFORE);
    assert!(repeated.changes.is_empty());
    // At the first meeting's start, the next one (February, still winter time) is added.
    let next = session.fire("series:regular", &timer, again, "2026-12-08T13:00:00Z");
    assert!(matches!(
        next.changes.as_slice(),
        [Change::MeetingScheduled { number: 2, start, .. }] if *start == at("2027-02-09T13:00:00Z")
    ));
}

#[test]
fn the_writers_own_words_are_kept_as_typed() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    session.say(CHAIR, "!meeting start", "2026-12-08T13:01:00Z");
    let cases = [
        (
            "!agreed We don't meet in August",
            "Agreed M-1: We don't meet in August",
        ),
        (
            "agreed: the \"interim\" text stands",
            "Agreed M-1: the \"interim\" text stands",
        ),
        (
            "!info a \"quote that never ends",
            "Info M-1: a \"quote that never ends",
        ),
        (
            "!action Ana Lima check the chair's note due 2026-12-20",
            "Action A-1: Ana Lima to check the chair's note, due 2026-12-20 22:59 UTC (23:59 \
             CET, Europe/Brussels)",
        ),
        // A last "due" is read as the due date, and one that is not a date is said so
        // rather than taken into the text.
        (
            "!action \"Bea Alac\" decide what is due when",
            "I could not read the due date: \"when\" is not a date I can read. Write it like \
             2026-12-20, +2w or friday.",
        ),
        (
            "!link https://example.org/a?b=c the chair's draft",
            "Link M-1: https://example.org/a?b=c the chair's draft",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            session.say(CHAIR, input, "2026-12-08T13:10:00Z"),
            expected,
            "{input}"
        );
    }
    let reply = session.say(
        GNSO_MEMBER,
        "!regrets M-1 can't stay, alternate Jane O'Neil",
        BEFORE,
    );
    assert!(reply.contains("M-1 \"Monthly call\""), "{reply}");
    let regrets = &session.state.meetings[&1].regrets["gus.gnso"];
    assert_eq!(regrets.reason.as_deref(), Some("can't stay"));
    assert_eq!(regrets.alternate.as_deref(), Some("Jane O'Neil"));
}

#[test]
fn a_meeting_nobody_ended_is_ended_by_the_clock_and_its_minutes_published() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    session.say(CHAIR, "!meeting start", "2026-12-08T13:01:00Z");
    // Scheduled 13:00 for 90 minutes and started at 13:01: the clock ends it three hours after
    // the later of its scheduled end and its start plus its length, 14:31.
    let (key, due, timer) = session.scheduled()[0].clone();
    assert_eq!(
        (key.as_str(), due),
        ("M-1:auto-end", at("2026-12-08T17:31:00Z"))
    );
    session.say(CHAIR, "present+", "2026-12-08T13:02:00Z");
    let ended = session.fire(&key, &timer, due, "2026-12-08T17:31:01Z");
    assert!(session.state.meetings[&1].has_ended());
    let audiences: Vec<&Audience> = ended
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce { audience, .. } => Some(audience),
            _ => None,
        })
        .collect();
    assert_eq!(audiences, [&Audience::List, &Audience::Room]);
    let minutes = match &ended.effects[0] {
        Effect::Announce { document, .. } => document.plain_text(),
        _ => unreachable!(),
    };
    assert!(
        minutes.ends_with(
            "Ended by the bot: nobody said !meeting end within 3 hours of the meeting's end."
        ),
        "{minutes}"
    );
    // The next meeting can start; the timer of the ended one, if it fired again, does nothing.
    let reply = session.say(CHAIR, "!meeting start", "2026-12-09T10:00:00Z");
    assert!(reply.starts_with("Meeting M-2"), "{reply}");
    assert!(
        session
            .fire(&key, &timer, due, "2026-12-09T10:00:01Z")
            .effects
            .is_empty()
    );
    // Ended by a person, the automatic end is cancelled.
    session.say(CHAIR, "!meeting end", "2026-12-09T11:00:00Z");
    assert!(session.effects().contains(&Effect::Cancel {
        key: "M-2:auto-end".into()
    }));
}

#[test]
fn regrets_answering_a_meeting_mail_are_for_that_meeting() {
    use crate::engine::{Channel, Message};
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    session.say(
        CHAIR,
        "!meeting schedule \"Second\" 2027-01-12 14:00",
        BEFORE,
    );
    let sender = SenderAddress::Email("bea@example.org".into());
    // The bare word "regrets" answering M-2's invitation, and a command without a date
    // answering it: both are for M-2, not for the next meeting.
    for (body, bare_word) in [("regrets", true), ("!regrets travelling", false)] {
        let message = Message {
            sender: &sender,
            body,
            channel: Channel::Mail,
            about: Some("M-2"),
            bare_word,
            poll_answer: None,
            private: false,
        };
        let decision =
            engine().decide_message(&session.state, &session.group, &message, at(BEFORE));
        let reply = decision.reply().expect("a reply").plain_text();
        assert!(reply.contains("for M-2 \"Second\""), "{body}: {reply}");
        for change in &decision.changes {
            session.state.apply(change);
        }
    }
    assert!(session.state.meetings[&1].regrets.is_empty());
    assert_eq!(
        session.state.meetings[&2].regrets["bea.alac"]
            .reason
            .as_deref(),
        Some("travelling")
    );
}

#[test]
fn the_room_hears_of_a_meeting_once_whichever_channel_scheduled_it() {
    let room_notices = |decision: &Decision| {
        decision
            .effects
            .iter()
            .filter(|effect| {
                matches!(
                    effect,
                    Effect::Announce {
                        audience: Audience::Room,
                        ..
                    }
                )
            })
            .count()
    };
    // From the room: the reply is the notice.
    let mut session = Session::new();
    let reply = session.say(CHAIR, SCHEDULE, BEFORE);
    assert!(
        reply.contains("Cannot attend? Send apologies with `!regrets 2026-12-08 [reason]`."),
        "{reply}"
    );
    assert_eq!(room_notices(session.last.as_ref().expect("decision")), 0);
    // By mail: the room is told.
    let decision = crate::engine::Engine::decide_message(
        &engine(),
        &GroupState::default(),
        &session.group,
        &crate::engine::Message::new(
            &SenderAddress::Email("ana.lima@example.org".into()),
            SCHEDULE,
            crate::engine::Channel::Mail,
        ),
        at(BEFORE),
    );
    assert_eq!(room_notices(&decision), 1);
}

#[test]
fn hostile_meeting_input_never_panics() {
    let mut session = Session::new();
    session.say(CHAIR, SCHEDULE, BEFORE);
    session.say(CHAIR, "!meeting start", "2026-12-08T13:01:00Z");
    for input in [
        "!meeting",
        "!meeting schedule",
        "!meeting schedule \"\" 2026-12-08 14:00",
        "!meeting schedule \"x\" for",
        "!meeting move M-99999999999 2027-01-01 10:00",
        "!meeting cancel M-0",
        "!present for",
        "!present for \"\"",
        "present+ \u{0}",
        "!regrets alternate",
        "!action x",
        "!action \"\" \"\"",
        "!action Ana due",
        "!link https://",
        "!done A-",
        "!attendance since",
        "!actions \u{FFFF}",
        "!rapporteur \"\"",
        "agreed: \u{202E}",
    ] {
        let _ = session.say(CHAIR, input, "2026-12-08T13:10:00Z");
    }
}
