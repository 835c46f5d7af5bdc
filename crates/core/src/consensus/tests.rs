//! Tables over calls for consensus and polls, run through the engine as members would type
//! them: tallies by organization (changed answers, one person with several accounts,
//! participants, answers after closing, hidden tallies), reminders and the close through the
//! clock, designations, minority views and the Chair's report, and the bad input the issue
//! names.

use super::model::{AnswerChannel, Stance};
use crate::catalog::Catalog;
use crate::directory::{Group, SenderAddress};
use crate::effects::{Audience, Effect, Timer};
use crate::engine::{Decision, Engine, Input, Message};
use crate::state::{Change, GroupState};
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
/// Gus's second account: the same person.
const GNSO_MEMBER_PHONE: &str = "@gus-phone:example.org";
const PARTICIPANT: &str = "@pat:example.org";

/// The small test group with a second GNSO member (with two accounts) and an ALAC participant.
fn group() -> Group {
    let mut group = crate::directory::test_support::small_group_with_gus_and_pat();
    let gus = group
        .people
        .iter_mut()
        .find(|person| person.id == "gus.gnso")
        .expect("Gus is in the group");
    gus.matrix_ids.push(GNSO_MEMBER_PHONE.into());
    group
}

struct Session {
    group: Group,
    state: GroupState,
    last: Option<Decision>,
}

impl Session {
    fn new() -> Session {
        Session {
            group: group(),
            state: GroupState::default(),
            last: None,
        }
    }

    fn decide(&mut self, message: &Message, now: &str) -> String {
        let decision =
            engine().decide(&self.state, &self.group, &Input::Message(*message), at(now));
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

    fn say(&mut self, sender: &str, body: &str, now: &str) -> String {
        let sender = SenderAddress::Matrix(sender.to_string());
        self.decide(
            &Message::new(&sender, body, crate::engine::Channel::Matrix),
            now,
        )
    }

    fn fire(&mut self, key: &str, timer: &Timer, now: &str) -> Decision {
        let decision = engine().decide(
            &self.state,
            &self.group,
            &Input::Timer {
                key,
                due: at(now),
                timer,
            },
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

    fn announcements(&self) -> Vec<(Audience, String)> {
        self.effects()
            .iter()
            .filter_map(|effect| match effect {
                Effect::Announce {
                    audience, document, ..
                } => Some((audience.clone(), document.plain_text())),
                _ => None,
            })
            .collect()
    }
}

const CALL: &str = "!consensus call \"Adopt the position paper v3\" closes 2026-12-20";
const POLL: &str = "!poll open \"Which date?\" \"9 March\" \"16 March\" closes 2026-12-15";

#[test]
fn a_call_tallies_by_organization_with_the_latest_answer_of_each_person() {
    // (sender, command, what the tally shows afterwards about GNSO, ALAC and the others)
    let steps: &[(&str, &str, &str)] = &[
        (GNSO_MEMBER, "!support R-1", "GNSO: support (Gus Gnso)"),
        (
            CHAIR,
            "!object R-1 the deadline is too short",
            "GNSO: divided (Ana Lima: objection; Gus Gnso: support)",
        ),
        // The same person from another account replaces the answer rather than adding one.
        (
            GNSO_MEMBER_PHONE,
            "!object R-1 agreed with Ana after all",
            "GNSO: objection (Ana Lima, Gus Gnso)",
        ),
        (ALAC_MEMBER, "!abstain R-1", "ALAC: abstention (Bea Alac)"),
        (
            PARTICIPANT,
            "!support R-1",
            "Without a seat (never counted for an organization): Pat Participant (ALAC, participant): support.",
        ),
    ];
    let mut session = Session::new();
    session.say(CHAIR, CALL, "2026-12-06T10:00:00Z");
    for (sender, command, expected) in steps {
        let reply = session.say(sender, command, "2026-12-07T10:00:00Z");
        assert!(reply.starts_with("Recorded:"), "{command}: {reply}");
        let tally = session.say(CHAIR, "!consensus show R-1", "2026-12-07T10:01:00Z");
        assert!(tally.contains(expected), "after {command}:\n{tally}");
    }
    let call = &session.state.calls[&1];
    assert_eq!(call.answers.len(), 4, "four people, five answers");
    assert_eq!(call.replaced.len(), 1);
    assert_eq!(call.answers["gus.gnso"].stance, Stance::Object);
    let tally = session.say(CHAIR, "!consensus show R-1", "2026-12-07T10:02:00Z");
    assert!(
        tally.contains("Members: 0 support, 2 object, 1 abstain; 0 of 2 organizations"),
        "the participant is not counted:\n{tally}"
    );
    assert!(tally.contains("Open objections:\n- Ana Lima (GNSO): the deadline is too short\n- Gus Gnso (GNSO): agreed with Ana after all"), "{tally}");
}

#[test]
fn bad_answers_to_a_call_get_a_clear_answer() {
    let mut session = Session::new();
    session.say(CHAIR, CALL, "2026-12-06T10:00:00Z");
    let cases = [
        (ALAC_MEMBER, "!object R-1", "An objection needs its reason"),
        (
            ALAC_MEMBER,
            "!vote R-1 1",
            "is a call for consensus, not a vote",
        ),
        (
            ALAC_MEMBER,
            "!support R-9",
            "There is no R-9 in TG. Open: R-1",
        ),
        (ALAC_MEMBER, "!support M-1", "\"M-1\" is not an ID"),
        (
            CHAIR,
            "!designate R-1 Rough Consensus",
            "Its charter knows: Full Consensus, Consensus.",
        ),
        (
            ALAC_MEMBER,
            "!designate R-1 Consensus",
            "Only chairs or co-chairs of TG may use",
        ),
        (
            ALAC_MEMBER,
            "!minority R-1 I disagree",
            "the record does not show that you did",
        ),
        (
            CHAIR,
            "!consensus call \"x\" closes 2026-01-01",
            "That closing date is in the past",
        ),
    ];
    for (sender, command, expected) in cases {
        let reply = session.say(sender, command, "2026-12-07T10:00:00Z");
        assert!(reply.contains(expected), "{command}: {reply}");
        assert!(
            session
                .last
                .as_ref()
                .is_some_and(|decision| decision.changes.is_empty()),
            "{command} changed nothing"
        );
    }
}

#[test]
fn a_position_paper_goes_from_call_to_designated_outcome_with_minority_view_and_report() {
    let mut session = Session::new();
    session.say(CHAIR, CALL, "2026-12-06T10:00:00Z");
    // The call is announced to the list (the room saw the reply) and its timers are set.
    let scheduled: Vec<String> = session
        .effects()
        .iter()
        .filter_map(|effect| match effect {
            Effect::Schedule { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        scheduled,
        [
            "R-1:consensus-remind:4320m",
            "R-1:consensus-remind:1440m",
            "R-1:close"
        ]
    );
    assert_eq!(session.announcements()[0].0, Audience::List);
    session.say(GNSO_MEMBER, "!support R-1", "2026-12-07T10:00:00Z");
    session.say(
        ALAC_MEMBER,
        "!object R-1 nothing on oversight",
        "2026-12-07T11:00:00Z",
    );

    // Three days before the close the members who have not answered are reminded: only Ana.
    let reminder = Timer::ConsultationReminder {
        number: 1,
        minutes_before: 4320,
    };
    let decision = session.fire(
        "R-1:consensus-remind:4320m",
        &reminder,
        "2026-12-17T22:59:00Z",
    );
    let people: Vec<&Audience> = decision
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce { audience, .. } => Some(audience),
            _ => None,
        })
        .collect();
    assert_eq!(people, [&Audience::People(vec!["ana.lima".into()])]);
    // The same reminder delivered again (after a crash) reminds nobody twice.
    let again = session.fire(
        "R-1:consensus-remind:4320m",
        &reminder,
        "2026-12-17T22:59:30Z",
    );
    assert!(again.effects.is_empty() && again.changes.is_empty());

    // At the close the tally goes to the room and the list; answers are refused after it.
    let closed = session.fire(
        "R-1:close",
        &Timer::ConsultationClose { number: 1 },
        "2026-12-20T22:59:00Z",
    );
    assert!(matches!(
        closed.changes.as_slice(),
        [Change::ConsultationClosed { by: None, .. }]
    ));
    let late = session.say(CHAIR, "!support R-1", "2026-12-21T09:00:00Z");
    assert!(late.contains("it takes no more answers"), "{late}");

    let designated = session.say(
        CHAIR,
        "!designate R-1 Consensus adopted with the ALAC objection noted",
        "2026-12-21T10:00:00Z",
    );
    assert!(
        designated.contains("Designated R-1 Consensus")
            && designated.contains("To be published by 2026-12-28 10:00 UTC"),
        "{designated}"
    );
    let announced = session.announcements();
    assert_eq!(
        announced
            .iter()
            .map(|(audience, _)| audience.clone())
            .collect::<Vec<_>>(),
        [Audience::Room, Audience::List]
    );
    assert!(
        announced[0]
            .1
            .contains("Designation: Consensus: adopted with the ALAC objection noted"),
        "{}",
        announced[0].1
    );

    let filed = session.say(
        ALAC_MEMBER,
        "!minority R-1 ALAC holds that oversight must stay multistakeholder",
        "2026-12-22T10:00:00Z",
    );
    assert!(
        filed.starts_with("Filed: Bea Alac's minority view"),
        "{filed}"
    );
    let draft = session.say(CHAIR, "!chair-report R-1", "2026-12-22T11:00:00Z");
    for expected in [
        "Question: Adopt the position paper v3",
        "Support:\n      - Gus Gnso (GNSO)",
        "Objections:\n      - Bea Alac (ALAC): nothing on oversight",
        "Minority view of Bea Alac: ALAC holds that oversight must stay multistakeholder",
    ] {
        assert!(draft.contains(expected), "{expected}:\n{draft}");
    }
    session.say(
        CHAIR,
        "!chair-report R-1 adopt The group reached consensus; ALAC's view is attached.",
        "2026-12-22T12:00:00Z",
    );
    let outcome = &session.state.calls[&1].outcome;
    assert_eq!(outcome.designation.as_ref().unwrap().level, "Consensus");
    assert_eq!(outcome.minority_views.len(), 1);
    assert_eq!(
        outcome.chair_report.as_ref().unwrap().0,
        "The group reached consensus; ALAC's view is attached."
    );
    let shown = session.say(GNSO_MEMBER, "!consensus show R-1", "2026-12-23T10:00:00Z");
    assert!(
        shown.contains("Minority views:\n- Bea Alac (ALAC): ALAC holds")
            && shown.contains("Chair's report (adopted by Ana Lima"),
        "{shown}"
    );
}

#[test]
fn poll_answers_count_once_per_person_from_every_channel() {
    let mut session = Session::new();
    let opened = session.say(STAFF, POLL, "2026-12-06T10:00:00Z");
    assert!(opened.starts_with("Opened R-1 poll"), "{opened}");
    assert!(
        session
            .effects()
            .iter()
            .any(|effect| matches!(effect, Effect::StartPoll { poll, .. } if poll.options.len() == 2 && !poll.hidden))
    );
    // A native poll response: recorded without a reply, marked as such.
    let gus = SenderAddress::Matrix(GNSO_MEMBER.into());
    let mut native = Message::new(&gus, "!vote R-1 2", crate::engine::Channel::Matrix);
    native.poll_answer = Some(AnswerChannel::MatrixPoll);
    assert_eq!(session.decide(&native, "2026-12-06T11:00:00Z"), "");
    assert!(session.last.as_ref().unwrap().reply().is_none());
    // The same person reacts from another account: the latest answer replaces the first.
    let phone = SenderAddress::Matrix(GNSO_MEMBER_PHONE.into());
    let mut reaction = Message::new(&phone, "!vote R-1 1", crate::engine::Channel::Matrix);
    reaction.poll_answer = Some(AnswerChannel::Reaction);
    session.decide(&reaction, "2026-12-06T11:30:00Z");
    // By mail: the option's number answering the poll's mail.
    let bea = SenderAddress::Email("bea@example.org".into());
    let mail = Message {
        about: Some("R-1"),
        bare_word: true,
        ..Message::new(&bea, "2", crate::engine::Channel::Mail)
    };
    let by_mail = session.decide(&mail, "2026-12-06T12:00:00Z");
    assert_eq!(by_mail, "Recorded: Bea Alac answers R-1 with 2. 16 March.");
    session.say(PARTICIPANT, "!vote R-1 16 march", "2026-12-06T13:00:00Z");
    let poll = &session.state.polls[&1];
    let channels: Vec<(&str, usize, AnswerChannel)> = poll
        .answers
        .iter()
        .map(|(person, answer)| (person.as_str(), answer.option, answer.channel))
        .collect();
    assert_eq!(
        channels,
        [
            ("bea.alac", 1, AnswerChannel::Mail),
            ("gus.gnso", 0, AnswerChannel::Reaction),
            ("pat.participant", 1, AnswerChannel::Command),
        ]
    );
    let tally = session.say(CHAIR, "!poll show R-1", "2026-12-07T10:00:00Z");
    for expected in [
        "- 1. 9 March: 1 member\n- 2. 16 March: 1 member (and 1 without a seat)",
        "- GNSO: 1. 9 March (Gus Gnso)",
        "- ALAC: 2. 16 March (Bea Alac)",
        "Pat Participant (ALAC, participant): 2. 16 March",
    ] {
        assert!(tally.contains(expected), "{expected}:\n{tally}");
    }
    // The reminder before the close goes to the one member who has not answered, and says
    // what a poll is.
    let reminder = session.fire(
        "R-1:consensus-remind:1440m",
        &Timer::ConsultationReminder {
            number: 1,
            minutes_before: 1440,
        },
        "2026-12-07T22:59:00Z",
    );
    match reminder.effects.as_slice() {
        [
            Effect::Announce {
                audience: Audience::People(people),
                document,
                ..
            },
        ] => {
            assert_eq!(people, &["ana.lima".to_string()]);
            let text = document.plain_text();
            assert!(
                text.contains("it is not a vote") && !text.contains("Silence"),
                "{text}"
            );
        }
        other => panic!("one reminder to the people who owe an answer: {other:?}"),
    }
    // Closing ends the room's poll with the count of every channel, and tells room and list.
    session.say(STAFF, "!poll close R-1", "2026-12-08T10:00:00Z");
    let end = session.effects().iter().find_map(|effect| match effect {
        Effect::EndPoll { number: 1, text } => Some(text.clone()),
        _ => None,
    });
    assert_eq!(
        end.as_deref(),
        Some(
            "The poll R-1 has closed. Members' top answers: 9 March, 16 March (1 of 2 members who \
             answered). Counts from every channel: 9 March 1, 16 March 1 (+1 without a seat)."
        )
    );
    let late = session.say(ALAC_MEMBER, "!vote R-1 1", "2026-12-08T11:00:00Z");
    assert!(
        late.contains("answers given after it closed are not counted"),
        "{late}"
    );
    // A late answer in the room's own poll is told so too (it would otherwise look counted).
    let late_native = session.decide(&native, "2026-12-08T11:05:00Z");
    assert!(late_native.contains("closed"), "{late_native}");
}

#[test]
fn a_hidden_poll_shows_only_how_many_answered_until_it_closes() {
    let mut session = Session::new();
    session.say(
        CHAIR,
        "!poll open \"Chair for 2027?\" \"Ana\" \"Bea\" hidden",
        "2026-12-06T10:00:00Z",
    );
    session.say(GNSO_MEMBER, "!vote R-1 2", "2026-12-06T11:00:00Z");
    let reply = session.say(ALAC_MEMBER, "!vote R-1 Bea", "2026-12-06T11:00:00Z");
    assert!(reply.contains("The tally stays hidden"), "{reply}");
    let hidden = session.say(GNSO_MEMBER, "!poll show R-1", "2026-12-06T12:00:00Z");
    assert!(
        hidden.contains("2 people have answered. The tally is hidden")
            && !hidden.contains("Bea Alac"),
        "{hidden}"
    );
    session.say(CHAIR, "!poll close R-1", "2026-12-07T12:00:00Z");
    let shown = session.say(GNSO_MEMBER, "!poll show R-1", "2026-12-07T13:00:00Z");
    assert!(shown.contains("- 2. Bea: 2 members"), "{shown}");
}

#[test]
fn bad_polls_and_votes_get_a_clear_answer() {
    let mut session = Session::new();
    session.say(STAFF, POLL, "2026-12-06T10:00:00Z");
    let cases = [
        (
            ALAC_MEMBER,
            "!vote R-1 3",
            "has no option \"3\". Its options:\n- 1. 9 March\n- 2. 16 March",
        ),
        (
            ALAC_MEMBER,
            "!vote R-1 30 March",
            "has no option \"30 March\"",
        ),
        (STAFF, "!poll open \"Q?\" \"A\" \"a\"", "is given twice"),
        (
            STAFF,
            "!poll open \"Q?\" \"A\" \"B\" whenever",
            "\"whenever\" is not understood after the options",
        ),
        (
            ALAC_MEMBER,
            "!poll open \"Q?\" \"A\" \"B\"",
            "Only chairs, co-chairs or staff of TG may use",
        ),
        (
            ALAC_MEMBER,
            "!support R-1",
            "R-1 poll \"Which date?\" is a poll; answer it with !vote R-1 <option number>.",
        ),
    ];
    for (sender, command, expected) in cases {
        let reply = session.say(sender, command, "2026-12-07T10:00:00Z");
        assert!(reply.contains(expected), "{command}: {reply}");
    }
    let too_many = format!(
        "!poll open \"Q?\" {}",
        (1..=21)
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let reply = session.say(STAFF, &too_many, "2026-12-07T10:00:00Z");
    assert!(reply.contains("at most 20 options"), "{reply}");
}

#[test]
fn hostile_text_stays_text_in_every_rendering() {
    let mut session = Session::new();
    session.say(
        CHAIR,
        "!consensus call \"<script>alert(1)</script> & <b>bold</b>\"",
        "2026-12-06T10:00:00Z",
    );
    session.say(
        ALAC_MEMBER,
        "!object R-1 <img src=x onerror=alert(1)>",
        "2026-12-06T11:00:00Z",
    );
    let decision = engine().decide_command(
        &session.state,
        &session.group,
        &SenderAddress::Matrix(CHAIR.into()),
        "!consensus show R-1",
        at("2026-12-06T12:00:00Z"),
    );
    let html = decision.reply().unwrap().html();
    assert!(
        !html.contains("<script>") && !html.contains("<img") && html.contains("&lt;script&gt;"),
        "{html}"
    );
}

/// Regression tests of the review of the first version (each names what went wrong).
#[test]
fn a_hidden_poll_leaks_nothing_through_minority_views_or_the_chairs_report() {
    let mut session = Session::new();
    session.say(
        CHAIR,
        "!poll open \"Chair for 2027?\" \"Ana\" \"Bea\" hidden",
        "2026-12-06T10:00:00Z",
    );
    session.say(GNSO_MEMBER, "!vote R-1 2", "2026-12-06T11:00:00Z");
    session.say(ALAC_MEMBER, "!vote R-1 2", "2026-12-06T11:00:00Z");
    session.say(CHAIR, "!vote R-1 1", "2026-12-06T11:00:00Z");
    for (sender, command) in [
        (CHAIR, "!minority R-1 I disagree"),
        (CHAIR, "!chair-report R-1"),
        (CHAIR, "!chair-report R-1 adopt"),
    ] {
        let reply = session.say(sender, command, "2026-12-06T12:00:00Z");
        assert!(
            reply.contains("is hidden until it closes") && !reply.contains("Gus"),
            "{command}: {reply}"
        );
        assert!(session.last.as_ref().unwrap().changes.is_empty());
    }
    session.say(CHAIR, "!poll close R-1", "2026-12-07T12:00:00Z");
    let filed = session.say(CHAIR, "!minority R-1 I disagree", "2026-12-07T13:00:00Z");
    assert!(filed.starts_with("Filed:"), "{filed}");
}

#[test]
fn a_chairs_report_pasted_into_the_room_keeps_its_lines_and_enters_the_record_undesignated() {
    let mut session = Session::new();
    session.say(CHAIR, CALL, "2026-12-06T10:00:00Z");
    session.say(ALAC_MEMBER, "!object R-1 too fast", "2026-12-07T10:00:00Z");
    session.say(
        CHAIR,
        "!chair-report R-1 adopt No consensus was reached.\n\nALAC objects: too fast.\nThe chairs propose a second reading.",
        "2026-12-21T10:00:00Z",
    );
    let report = &session.state.calls[&1]
        .outcome
        .chair_report
        .as_ref()
        .unwrap()
        .0;
    assert_eq!(
        report,
        "No consensus was reached.\nALAC objects: too fast.\nThe chairs propose a second reading."
            .replace("\nALAC", "\n\nALAC")
            .as_str()
    );
    let outcomes = super::record::adopted_outcomes(&session.state);
    assert_eq!(
        outcomes.len(),
        1,
        "a report without designation is a record entry"
    );
    assert_eq!(outcomes[0].designation, None);
    assert_eq!(outcomes[0].adopted_at, at("2026-12-21T10:00:00Z"));
    assert_eq!(outcomes[0].publish_by, at("2026-12-28T10:00:00Z"));
}

#[test]
fn written_forms_that_the_first_version_misread() {
    let mut session = Session::new();
    // "closes" inside the quoted text is the text's.
    let called = session.say(
        CHAIR,
        "!consensus call \"Agree how the review closes next week\" closes 2026-12-20",
        "2026-12-06T10:00:00Z",
    );
    assert!(
        called.contains("Agree how the review closes next week\nCloses 2026-12-20"),
        "{called}"
    );
    assert_eq!(
        session.state.calls[&1].text,
        "Agree how the review closes next week"
    );
    // Options that are numbers are chosen by their text too.
    session.say(
        STAFF,
        "!poll open \"Which year?\" \"2026\" \"2027\"",
        "2026-12-06T10:00:00Z",
    );
    let voted = session.say(ALAC_MEMBER, "!vote R-2 2027", "2026-12-06T11:00:00Z");
    assert_eq!(voted, "Recorded: Bea Alac answers R-2 with 2. 2027.");
    // An unquoted question is pointed out, not split into options.
    let unquoted = session.say(
        STAFF,
        "!poll open Which date? \"9 March\" \"16 March\"",
        "2026-12-06T12:00:00Z",
    );
    assert!(
        unquoted.contains("put the question in quotes"),
        "{unquoted}"
    );
    // A feedback command on a call or poll says what the ID is.
    let respond = session.say(ALAC_MEMBER, "!respond R-1 support", "2026-12-06T12:00:00Z");
    assert!(
        respond.contains("R-1 is a call for consensus, not a feedback request"),
        "{respond}"
    );
    // A mail answering the call whose first line is a number is conversation, not "!2".
    let bea = SenderAddress::Email("bea@example.org".into());
    let mail = Message {
        about: Some("R-1"),
        bare_word: true,
        ..Message::new(&bea, "2", crate::engine::Channel::Mail)
    };
    assert_eq!(session.decide(&mail, "2026-12-06T13:00:00Z"), "");
    assert!(session.last.as_ref().unwrap().effects.is_empty());
}
