//! The record entries of a group that met, asked for feedback and designated an outcome, and the
//! hash chain over them: appended once, corrected by new links, and verified byte by byte.

use super::chain::{ChainLink, GENESIS_HASH, entries_to_append, verify_chain};
use super::entries::{EntryKind, record_entries};
use crate::catalog::Catalog;
use crate::directory::{Group, SenderAddress};
use crate::engine::{Engine, Input, Message};
use crate::state::GroupState;
use std::collections::BTreeMap;

const CHAIR: &str = "@ana:example.org";
const MEMBER: &str = "@bea:example.org";

fn run(group: &Group, state: &mut GroupState, sender: &str, body: &str, now: &str) {
    let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
    let sender = SenderAddress::Matrix(sender.into());
    let message = Message::new(&sender, body, crate::engine::Channel::Matrix);
    let decision = engine.decide(
        state,
        group,
        &Input::Message(message),
        now.parse().expect("RFC 3339"),
    );
    for change in &decision.changes {
        state.apply(change);
    }
}

/// A meeting held with minutes, a request answered by one organization, a call designated with
/// a minority view, and an action item.
fn busy_group() -> (Group, GroupState) {
    let group = crate::directory::test_support::small_group_with_gus_and_pat();
    let mut state = GroupState::default();
    let steps = [
        (CHAIR, "!meeting start", "2026-12-01T14:00:00Z"),
        (MEMBER, "!present", "2026-12-01T14:01:00Z"),
        (
            CHAIR,
            "!topic <script>alert(1)</script> budget",
            "2026-12-01T14:02:00Z",
        ),
        (
            CHAIR,
            "!action bea.alac draft the letter",
            "2026-12-01T14:03:00Z",
        ),
        (CHAIR, "!meeting end", "2026-12-01T15:00:00Z"),
        (
            CHAIR,
            "!request open \"Budget 2027\" to GNSO, ALAC ack 2026-12-10 due 2026-12-20",
            "2026-12-02T10:00:00Z",
        ),
        (MEMBER, "!ack R-1", "2026-12-03T10:00:00Z"),
        (
            CHAIR,
            "!consensus call \"Adopt the charter\"",
            "2026-12-04T10:00:00Z",
        ),
        (MEMBER, "!object R-2 too early", "2026-12-05T10:00:00Z"),
        (CHAIR, "!designate R-2 Consensus", "2026-12-06T10:00:00Z"),
        (
            MEMBER,
            "!minority R-2 we need another round",
            "2026-12-06T11:00:00Z",
        ),
    ];
    for (sender, body, now) in steps {
        run(&group, &mut state, sender, body, now);
    }
    (group, state)
}

fn chain_of(group: &str, entries: &[super::entries::RecordEntry]) -> Vec<ChainLink> {
    let mut links = Vec::new();
    let mut prev = GENESIS_HASH.to_string();
    for (index, entry) in entries.iter().enumerate() {
        let link = ChainLink::new(
            index as u64 + 1,
            group,
            entry,
            None,
            &prev,
            "2026-12-07T12:00:00Z".parse().unwrap(),
        );
        prev = link.hash.clone();
        links.push(link);
    }
    links
}

fn jsonl(links: &[ChainLink]) -> String {
    links.iter().map(|link| link.line() + "\n").collect()
}

#[test]
fn a_busy_group_has_an_entry_for_each_thing_it_recorded() {
    let (group, state) = busy_group();
    let entries = record_entries(&group, &state);
    let keys: Vec<(&str, EntryKind)> = entries
        .iter()
        .map(|entry| (entry.key.as_str(), entry.kind))
        .collect();
    assert_eq!(
        keys,
        [
            ("meetings/m-1", EntryKind::Meeting),
            ("requests/r-1", EntryKind::Request),
            ("outcomes/r-2", EntryKind::Outcome),
            ("actions/a-1", EntryKind::Action),
        ]
    );
    let meeting = &entries[0].data;
    assert_eq!(meeting["present"][0]["person"]["name"], "Bea Alac");
    assert!(
        meeting["minutes"]
            .to_string()
            .contains("<script>alert(1)</script> budget")
    );
    let request = &entries[1].data;
    assert_eq!(request["organizations"][1]["organization"], "ALAC");
    assert!(request["organizations"][1]["acknowledged_at"].is_string());
    assert!(request["organizations"][0]["acknowledged_at"].is_null());
    assert_eq!(entries[2].data["designation"], "Consensus");
    assert_eq!(
        entries[2].data["minority_views"][0]["text"],
        "we need another round"
    );
}

#[test]
fn the_chain_appends_new_and_changed_entries_only_and_points_corrections_back() {
    let (group, mut state) = busy_group();
    let entries = record_entries(&group, &state);
    let links = chain_of(&group.id, &entries);
    let latest: BTreeMap<String, (u64, String)> = links
        .iter()
        .zip(&entries)
        .map(|(link, entry)| (link.key.clone(), (link.seq, super::content_hash(entry))))
        .collect();
    assert!(
        entries_to_append(&latest, &entries).is_empty(),
        "nothing new"
    );

    // The action is done: its entry changes and is appended as a correction of link 4.
    run(
        &group,
        &mut state,
        MEMBER,
        "!done A-1",
        "2026-12-07T10:00:00Z",
    );
    let changed = record_entries(&group, &state);
    let appended = entries_to_append(&latest, &changed);
    assert_eq!(appended.len(), 1);
    assert_eq!(appended[0].0.key, "actions/a-1");
    assert_eq!(appended[0].1, Some(4));

    let mut longer = links.clone();
    longer.push(ChainLink::new(
        5,
        &group.id,
        appended[0].0,
        Some(4),
        &links[3].hash,
        "2026-12-07T12:00:00Z".parse().unwrap(),
    ));
    assert_eq!(verify_chain(&jsonl(&longer)), Ok(5));
}

#[test]
fn verification_catches_one_changed_byte_anywhere_in_the_chain() {
    let (group, state) = busy_group();
    let text = jsonl(&chain_of(&group.id, &record_entries(&group, &state)));
    assert_eq!(verify_chain(&text), Ok(4));
    let bytes = text.as_bytes();
    for position in 0..bytes.len() {
        let mut changed = bytes.to_vec();
        // Another printable byte, or a letter where there was a line break.
        changed[position] = match bytes[position] {
            b'a' => b'b',
            b'\n' => b'x',
            _ => b'a',
        };
        let changed = String::from_utf8(changed).expect("ASCII stays UTF-8");
        assert!(
            verify_chain(&changed).is_err(),
            "a change at byte {position} went unnoticed"
        );
    }
    // The error names the first line that does not match.
    let lines: Vec<&str> = text.lines().collect();
    let tampered = text.replacen("Budget 2027", "Budget 2028", 1);
    let error = verify_chain(&tampered).expect_err("tampered");
    assert_eq!(error.line, 2, "{error}");
    assert_eq!(lines.len(), 4);
    // Links out of order, or one left out, break the chain where it happens.
    let reordered = format!("{}\n{}\n{}\n{}\n", lines[0], lines[2], lines[1], lines[3]);
    assert_eq!(verify_chain(&reordered).expect_err("reordered").line, 2);
    let cut = format!("{}\n{}\n{}\n", lines[0], lines[1], lines[3]);
    assert_eq!(verify_chain(&cut).expect_err("cut").line, 3);
}

#[test]
fn summaries_link_to_their_entries_when_the_record_has_an_address() {
    let mut group = crate::directory::test_support::small_group_with_gus_and_pat();
    group.record_url = Some("https://record.example.org/test-group/".into());
    let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
    let mut state = GroupState::default();
    run(
        &group,
        &mut state,
        CHAIR,
        "!meeting start",
        "2026-12-01T14:00:00Z",
    );
    let sender = SenderAddress::Matrix(CHAIR.into());
    let ended = engine.decide(
        &state,
        &group,
        &Input::Message(Message::new(
            &sender,
            "!meeting end",
            crate::engine::Channel::Matrix,
        )),
        "2026-12-01T15:00:00Z".parse().unwrap(),
    );
    let link = "In the public record: https://record.example.org/test-group/meetings/m-1.html";
    let reply = ended.reply().expect("the summary").plain_text();
    assert!(reply.contains(link), "{reply}");
    let minutes = ended
        .effects
        .iter()
        .find_map(|effect| match effect {
            crate::effects::Effect::Announce { document, .. } => Some(document),
            _ => None,
        })
        .expect("the minutes to the list");
    assert!(minutes.plain_text().contains(link));
    assert!(minutes.html().contains("<a href=\"https:"));

    group.record_url = None;
    run(
        &group,
        &mut state,
        CHAIR,
        "!meeting start",
        "2026-12-02T14:00:00Z",
    );
    let unlinked = engine.decide(
        &state,
        &group,
        &Input::Message(Message::new(
            &sender,
            "!meeting end",
            crate::engine::Channel::Matrix,
        )),
        "2026-12-02T15:00:00Z".parse().unwrap(),
    );
    assert!(
        !unlinked
            .reply()
            .unwrap()
            .plain_text()
            .contains("public record")
    );
}

#[test]
fn chairs_are_reminded_of_progress_reports_before_icann_meetings() {
    use super::deadlines::{IcannMeeting, progress_report_reminders};
    use crate::effects::{Audience, Effect, Timer};
    let mut group = crate::directory::test_support::small_group_with_gus_and_pat();
    group.record.icann_meetings = vec![IcannMeeting {
        date: "2027-03-06".parse().unwrap(),
        name: "ICANN 85".into(),
    }];
    let at = |text: &str| -> jiff::Timestamp { text.parse().unwrap() };
    // Due 2027-02-20 09:00 Brussels (08:00 UTC): reminded a week and a day before.
    let planned: Vec<(String, jiff::Timestamp)> =
        progress_report_reminders(&group, at("2027-01-01T00:00:00Z"))
            .into_iter()
            .map(|(key, due, _)| (key, due))
            .collect();
    assert_eq!(
        planned,
        [
            (
                "icann-2027-03-06:progress-report:7d".to_string(),
                at("2027-02-13T08:00:00Z")
            ),
            (
                "icann-2027-03-06:progress-report:1d".to_string(),
                at("2027-02-19T08:00:00Z")
            ),
        ]
    );
    // Added late: the day-before reminder comes at once; after the due date, nothing.
    let late = progress_report_reminders(&group, at("2027-02-15T00:00:00Z"));
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].1, at("2027-02-19T08:00:00Z"));
    assert!(progress_report_reminders(&group, at("2027-02-21T00:00:00Z")).is_empty());

    let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
    let timer = Timer::ProgressReportReminder {
        meeting_date: "2027-03-06".into(),
        days_before: 7,
    };
    let decision = engine.decide(
        &GroupState::default(),
        &group,
        &Input::Timer {
            key: "icann-2027-03-06:progress-report:7d",
            due: at("2027-02-13T08:00:00Z"),
            timer: &timer,
        },
        at("2027-02-13T08:00:00Z"),
    );
    match decision.effects.as_slice() {
        [
            Effect::Announce {
                audience: Audience::People(people),
                subject,
                document,
                ..
            },
        ] => {
            assert_eq!(people, &["ana.lima".to_string()], "the chairs only");
            assert!(
                subject.contains("Progress report due 2027-02-20 before ICANN 85"),
                "{subject}"
            );
            assert!(
                document
                    .plain_text()
                    .contains("due 14 days before each ICANN meeting")
            );
        }
        other => panic!("one reminder to the chairs: {other:?}"),
    }
    // A meeting the group file no longer lists is not reminded of.
    group.record.icann_meetings.clear();
    let gone = engine.decide(
        &GroupState::default(),
        &group,
        &Input::Timer {
            key: "icann-2027-03-06:progress-report:7d",
            due: at("2027-02-13T08:00:00Z"),
            timer: &timer,
        },
        at("2027-02-13T08:00:00Z"),
    );
    assert!(gone.effects.is_empty());
}

#[test]
fn staff_are_reminded_to_publish_an_adopted_outcome_until_it_is_recorded_published() {
    use crate::effects::{Audience, Effect, Timer};
    let group = crate::directory::test_support::small_group_with_gus_and_pat();
    let engine = Engine::new(Catalog::builtin().expect("valid catalog"), "!");
    let mut state = GroupState::default();
    run(
        &group,
        &mut state,
        CHAIR,
        "!consensus call \"Adopt the charter\"",
        "2026-12-04T10:00:00Z",
    );
    let sender = SenderAddress::Matrix(CHAIR.into());
    let designated = engine.decide(
        &state,
        &group,
        &Input::Message(Message::new(
            &sender,
            "!designate R-1 Consensus",
            crate::engine::Channel::Matrix,
        )),
        "2026-12-06T10:00:00Z".parse().unwrap(),
    );
    let scheduled: Vec<(&str, String)> = designated
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Schedule {
                key,
                at,
                timer: Timer::PublicationReminder { .. },
            } => Some((key.as_str(), at.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        scheduled,
        [
            ("R-1:publication:48h", "2026-12-11T10:00:00Z".to_string()),
            ("R-1:publication:0h", "2026-12-13T10:00:00Z".to_string()),
        ]
    );
    for change in &designated.changes {
        state.apply(change);
    }
    let timer = Timer::PublicationReminder {
        number: 1,
        hours_before: 48,
    };
    let fire = |state: &GroupState| {
        engine.decide(
            state,
            &group,
            &Input::Timer {
                key: "R-1:publication:48h",
                due: "2026-12-11T10:00:00Z".parse().unwrap(),
                timer: &timer,
            },
            "2026-12-11T10:00:00Z".parse().unwrap(),
        )
    };
    match fire(&state).effects.as_slice() {
        [
            Effect::Announce {
                audience: Audience::People(people),
                document,
                ..
            },
        ] => {
            assert_eq!(people, &["sam.staff".to_string()], "staff");
            let text = document.plain_text();
            assert!(
                text.contains("publication is due by 2026-12-13")
                    && text.contains("!published R-1 <link>"),
                "{text}"
            );
        }
        other => panic!("one reminder to staff: {other:?}"),
    }
    run(
        &group,
        &mut state,
        "@sam:example.org",
        "!published R-1 https://example.org/s/1",
        "2026-12-12T10:00:00Z",
    );
    assert!(fire(&state).effects.is_empty(), "published: no reminder");
    let entry = record_entries(&group, &state)
        .into_iter()
        .find(|entry| entry.kind == EntryKind::Outcome)
        .expect("the outcome");
    assert_eq!(entry.data["published_url"], "https://example.org/s/1");
    assert_eq!(entry.data["published_at"], "2026-12-12T10:00:00Z");
}

#[test]
fn published_tables_never_hold_a_spreadsheet_formula() {
    use super::pages::to_csv;
    let rows = vec![
        vec!["id".to_string(), "title".to_string()],
        vec![
            "R-1".to_string(),
            "=HYPERLINK(\"http://evil\",\"x\")".to_string(),
        ],
        vec!["R-2".to_string(), "+1, and -2".to_string()],
        vec!["R-3".to_string(), "@SUM(A1)".to_string()],
        vec!["R-4".to_string(), "Budget - 2027".to_string()],
    ];
    assert_eq!(
        to_csv(&rows),
        "id,title\r\nR-1,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"\r\n\
         R-2,\"'+1, and -2\"\r\nR-3,'@SUM(A1)\r\nR-4,Budget - 2027\r\n"
    );
}

mod publication_timer {
    use crate::effects::{Effect, Timer};
    use crate::engine::{Decision, Disposition};
    use crate::record::publication::{PUBLICATION_TIMER_KEY, on_timer, schedule_publication};
    use crate::state::Change;

    fn decision_with(changes: Vec<Change>, command: &str) -> Decision {
        Decision {
            command: Some(command.to_string()),
            disposition: Disposition::TimerFired,
            changes,
            effects: Vec::new(),
        }
    }

    fn publication_timers(decision: &Decision) -> Vec<jiff::Timestamp> {
        decision
            .effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::Schedule {
                    key,
                    at,
                    timer: Timer::PublishRecord,
                } if key == PUBLICATION_TIMER_KEY => Some(*at),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_change_moves_the_publication_three_seconds_past_it_and_no_change_leaves_it() {
        let now: jiff::Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
        let change = Change::Acknowledged {
            number: 1,
            organization: "gnso".to_string(),
            by: "alice".to_string(),
            at: now,
        };
        let mut changed = decision_with(vec![change], "!ack R-1");
        schedule_publication(&mut changed, now);
        assert_eq!(
            publication_timers(&changed),
            vec!["2026-12-07T10:00:03Z".parse::<jiff::Timestamp>().unwrap()]
        );

        let mut unchanged = decision_with(Vec::new(), "!ping");
        schedule_publication(&mut unchanged, now);
        assert!(publication_timers(&unchanged).is_empty());
    }

    #[test]
    fn the_publication_timer_asks_for_a_publication_and_never_schedules_itself() {
        assert_eq!(on_timer(), vec![Effect::Publish]);
        let now: jiff::Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
        let mut fired = decision_with(Vec::new(), &format!("timer {PUBLICATION_TIMER_KEY}"));
        fired.effects = on_timer();
        schedule_publication(&mut fired, now);
        assert_eq!(fired.effects, vec![Effect::Publish]);
    }
}

#[test]
fn a_closed_poll_is_on_the_record_with_its_counts_and_an_open_one_is_not() {
    let (group, mut state) = busy_group();
    run(
        &group,
        &mut state,
        CHAIR,
        "!poll open \"Which date?\" \"9 March\" \"16 March\" hidden",
        "2026-12-07T10:00:00Z",
    );
    run(
        &group,
        &mut state,
        MEMBER,
        "!vote R-3 2",
        "2026-12-07T11:00:00Z",
    );
    let polls = |state: &GroupState| -> Vec<super::entries::RecordEntry> {
        record_entries(&group, state)
            .into_iter()
            .filter(|entry| entry.kind == EntryKind::Poll)
            .collect()
    };
    assert!(
        polls(&state).is_empty(),
        "an open poll's tally may be hidden"
    );
    run(
        &group,
        &mut state,
        CHAIR,
        "!poll close R-3",
        "2026-12-08T10:00:00Z",
    );
    let closed = polls(&state);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].key, "polls/r-3");
    assert_eq!(closed[0].title, "Which date?");
    assert_eq!(closed[0].data["counts"], serde_json::json!([0, 1]));
    let rows = super::pages::csv_rows(EntryKind::Poll, &closed.iter().collect::<Vec<_>>());
    assert_eq!(rows[1][5], "1. 9 March: 0; 2. 16 March: 1");
    let page = super::pages::entry_document(
        &group,
        &state,
        &closed[0],
        "2026-12-08T10:00:00Z".parse().unwrap(),
    );
    assert!(
        page.plain_text().contains("16 March"),
        "{}",
        page.plain_text()
    );
}
