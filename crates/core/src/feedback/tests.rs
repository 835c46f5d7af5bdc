//! Tables of scenarios for the per-organization state machine: each scenario is a list of
//! steps (a time, a sender, a command) run through the engine against the state the steps before
//! left, with what each reply must say and what the state must be at the end.

use crate::catalog::Catalog;
use crate::directory::{Answering, Group, Role, SenderAddress};
use crate::effects::{Audience, Effect, Timer};
use crate::engine::{Decision, Disposition, Engine, Input};
use crate::feedback::model::{ExtensionState, Position};
use crate::state::GroupState;
use jiff::Timestamp;

fn at(text: &str) -> Timestamp {
    text.parse().expect("RFC 3339")
}

/// The small test group with a second GNSO member and a participant from ALAC.
fn group() -> Group {
    crate::directory::test_support::small_group_with_gus_and_pat()
}

struct Run {
    engine: Engine,
    group: Group,
    state: GroupState,
}

impl Run {
    fn new(group: Group) -> Run {
        Run {
            engine: Engine::new(Catalog::builtin().expect("valid"), "!"),
            group,
            state: GroupState::default(),
        }
    }

    fn say(&mut self, now: &str, sender: &str, body: &str) -> Decision {
        let decision = self.engine.decide_command(
            &self.state,
            &self.group,
            &SenderAddress::Matrix(sender.into()),
            body,
            at(now),
        );
        for change in &decision.changes {
            self.state.apply(change);
        }
        decision
    }

    fn fire(&mut self, due: &str, now: &str, timer: Timer) -> Decision {
        let decision = self.engine.decide(
            &self.state,
            &self.group,
            &Input::Timer {
                key: "test",
                due: at(due),
                timer: &timer,
            },
            at(now),
        );
        for change in &decision.changes {
            self.state.apply(change);
        }
        decision
    }
}

fn reply_text(decision: &Decision) -> String {
    decision
        .reply()
        .map(|reply| reply.plain_text())
        .unwrap_or_default()
}

const CHAIR: &str = "@ana:example.org";
const GUS: &str = "@gus:example.org";
const BEA: &str = "@bea:example.org";
const SAM: &str = "@sam:example.org";
const PAT: &str = "@pat:example.org";

/// (time, sender, command, a text the reply must contain, whether the state changed)
type Step = (&'static str, &'static str, &'static str, &'static str, bool);

#[test]
fn answers_from_each_kind_of_sender() {
    let open: Step = (
        "2026-11-25T10:00:00Z",
        SAM,
        "!request open \"Budget\" ack 2026-12-01 due 2026-12-15",
        "Opened R-1 \"Budget\" for 2 organizations: GNSO, ALAC.",
        true,
    );
    let scenarios: Vec<(&str, Vec<Step>)> = vec![
        (
            "an acknowledgement, then a response that replaces an earlier one",
            vec![
                open,
                (
                    "2026-11-26T10:00:00Z",
                    GUS,
                    "!ack R-1",
                    "Recorded: GNSO acknowledges R-1",
                    true,
                ),
                (
                    "2026-11-26T11:00:00Z",
                    CHAIR,
                    "!ack r-1",
                    "GNSO already acknowledged R-1",
                    false,
                ),
                (
                    "2026-11-27T10:00:00Z",
                    CHAIR,
                    "!respond R-1 support",
                    "Recorded: GNSO responds support",
                    true,
                ),
                (
                    "2026-11-28T10:00:00Z",
                    GUS,
                    "!respond R-1 abstain We could not agree",
                    "This replaces its response of support",
                    true,
                ),
            ],
        ),
        (
            "who may not answer, and why",
            vec![
                open,
                (
                    "2026-11-26T10:00:00Z",
                    PAT,
                    "!ack R-1",
                    "only a member appointed by an organization answers for it",
                    false,
                ),
                (
                    "2026-11-26T10:00:00Z",
                    SAM,
                    "!ack R-1",
                    "You are Sam Staff (staff)",
                    false,
                ),
                (
                    "2026-11-26T10:00:00Z",
                    "@eve:example.org",
                    "!ack R-1",
                    "does not list @eve:example.org",
                    false,
                ),
                (
                    "2026-11-26T10:00:00Z",
                    BEA,
                    "!ack R-9",
                    "There is no request R-9 in TG. Open requests: R-1 \"Budget\".",
                    false,
                ),
                (
                    "2026-11-26T10:00:00Z",
                    BEA,
                    "!respond R-1 no-support",
                    "must give ALAC's reasons",
                    false,
                ),
                (
                    "2026-11-26T10:00:00Z",
                    BEA,
                    "!respond R-1 maybe",
                    "\"maybe\" is not a position R-1 accepts",
                    false,
                ),
                (
                    "2026-11-26T10:00:00Z",
                    GUS,
                    "!request open \"Mine\"",
                    "Only chairs, co-chairs or staff of TG may use",
                    false,
                ),
            ],
        ),
        (
            "late answers are recorded and say so",
            vec![
                open,
                (
                    "2026-12-02T10:00:00Z",
                    BEA,
                    "!ack R-1",
                    "This is after the deadline of 2026-12-01",
                    true,
                ),
                (
                    "2026-12-16T10:00:00Z",
                    BEA,
                    "!respond R-1 no-support The budget is too small",
                    "This is after the deadline of 2026-12-15",
                    true,
                ),
            ],
        ),
        (
            "an extension asked, granted, and the new deadline applies",
            vec![
                open,
                (
                    "2026-11-26T10:00:00Z",
                    BEA,
                    "!extend R-1 2027-01-10 Our council meets in January",
                    "asks for an extension of R-1 \"Budget\" until 2027-01-10",
                    true,
                ),
                (
                    "2026-11-26T11:00:00Z",
                    CHAIR,
                    "!grant R-1 alac",
                    "Granted: ALAC now responds to R-1 \"Budget\" by 2027-01-10",
                    true,
                ),
                (
                    "2026-12-20T10:00:00Z",
                    BEA,
                    "!respond R-1 support",
                    "Recorded: ALAC responds support",
                    true,
                ),
            ],
        ),
        (
            "an extension refused keeps the deadline",
            vec![
                open,
                (
                    "2026-11-26T10:00:00Z",
                    BEA,
                    "!extend R-1 in 5 weeks",
                    "until 2026-12-31",
                    true,
                ),
                (
                    "2026-11-26T11:00:00Z",
                    CHAIR,
                    "!refuse R-1 ALAC Too late for the board",
                    "stays due by 2026-12-15",
                    true,
                ),
                (
                    "2026-11-26T12:00:00Z",
                    CHAIR,
                    "!refuse R-1 ALAC",
                    "no request for more time on R-1 waiting",
                    false,
                ),
            ],
        ),
        (
            "closing needs every response or force",
            vec![
                open,
                (
                    "2026-11-27T10:00:00Z",
                    CHAIR,
                    "!respond R-1 support",
                    "Recorded",
                    true,
                ),
                (
                    "2026-11-28T10:00:00Z",
                    CHAIR,
                    "!request close R-1",
                    "1 of 2 organizations have not responded (ALAC)",
                    false,
                ),
                (
                    "2026-11-28T10:00:00Z",
                    CHAIR,
                    "!request close R-1 force Adopted",
                    "Did not respond: ALAC.",
                    true,
                ),
                (
                    "2026-11-29T10:00:00Z",
                    BEA,
                    "!respond R-1 support",
                    "R-1 \"Budget\" was closed on 2026-11-28",
                    false,
                ),
            ],
        ),
        (
            "dates that cannot be read or are in the past",
            vec![
                (
                    "2026-11-25T10:00:00Z",
                    SAM,
                    "!request open \"Budget\" due someday",
                    "Write dates in one of these forms",
                    false,
                ),
                (
                    "2026-11-25T10:00:00Z",
                    SAM,
                    "!request open \"Budget\" due 2026-11-01",
                    "is in the past",
                    false,
                ),
                (
                    "2026-11-25T10:00:00Z",
                    SAM,
                    "!request open \"Budget\" ack 2026-12-20 due 2026-12-10",
                    "is after the response deadline",
                    false,
                ),
                (
                    "2026-11-25T10:00:00Z",
                    SAM,
                    "!request open \"Budget\" due 2026-03-29 02:30",
                    "does not exist",
                    false,
                ),
                (
                    "2026-11-25T10:00:00Z",
                    SAM,
                    "!request open Budget review",
                    "\"review\" follows the title",
                    false,
                ),
                (
                    "2026-11-25T10:00:00Z",
                    SAM,
                    "!request open \"Budget\" to GNSO, WIPO",
                    "TG has no organization \"WIPO\"",
                    false,
                ),
            ],
        ),
    ];
    for (name, steps) in scenarios {
        let mut run = Run::new(group());
        for (now, sender, body, expected, changes) in steps {
            let decision = run.say(now, sender, body);
            let text = reply_text(&decision);
            assert!(
                text.contains(expected),
                "{name}: {body:?} by {sender}\nexpected to contain: {expected}\nreply: {text}"
            );
            assert_eq!(
                !decision.changes.is_empty(),
                changes,
                "{name}: {body:?} changed the state? reply: {text}"
            );
        }
    }
}

#[test]
fn the_history_keeps_replaced_answers_and_extensions() {
    let mut run = Run::new(group());
    run.say(
        "2026-11-25T10:00:00Z",
        SAM,
        "!request open \"Budget\" ack 2026-12-01 due 2026-12-15",
    );
    run.say("2026-11-26T10:00:00Z", CHAIR, "!respond R-1 support");
    run.say(
        "2026-11-27T10:00:00Z",
        GUS,
        "!respond R-1 no-support Not enough for outreach",
    );
    run.say("2026-11-27T11:00:00Z", BEA, "!extend R-1 2027-01-10");
    run.say("2026-11-27T12:00:00Z", CHAIR, "!grant R-1 ALAC");
    let request = run.state.request(1).expect("opened");
    let gnso = &request.organizations["GNSO"];
    assert_eq!(
        gnso.response.as_ref().map(|r| r.position),
        Some(Position::NoSupport)
    );
    assert_eq!(
        gnso.response.as_ref().map(|r| r.stamp.by.as_str()),
        Some("gus.gnso")
    );
    assert_eq!(gnso.replaced_responses.len(), 1);
    assert_eq!(gnso.replaced_responses[0].stamp.by, "ana.lima");
    assert_eq!(
        gnso.acknowledged.as_ref().map(|s| s.by.as_str()),
        Some("ana.lima")
    );
    let alac = &request.organizations["ALAC"];
    assert!(matches!(
        alac.extension.as_ref().map(|e| &e.state),
        Some(ExtensionState::Granted(_))
    ));
    assert_eq!(request.respond_by_for(alac), at("2027-01-10T22:59:59Z"));
    assert_eq!(
        request.history.len(),
        7,
        "opened; GNSO's acknowledgement and 2 responses; ALAC's acknowledgement (implied by \
         asking for more time), extension asked and granted"
    );
    // The state rebuilt from the changes is the same state.
    let changes = request.history.clone();
    assert_eq!(GroupState::from_changes(&changes), run.state);
}

#[test]
fn designated_answerers_alone_answer_for_their_organization() {
    let mut group = group();
    group.feedback.answering = Answering::Designated;
    group.organizations[0].answerers = vec!["gus.gnso".into()];
    let mut run = Run::new(group);
    run.say("2026-11-25T10:00:00Z", SAM, "!request open \"Budget\"");
    let refused = run.say("2026-11-26T10:00:00Z", CHAIR, "!ack R-1");
    assert!(
        reply_text(&refused).contains("Only Gus Gnso may answer for GNSO"),
        "{}",
        reply_text(&refused)
    );
    let accepted = run.say("2026-11-26T10:00:00Z", GUS, "!ack R-1");
    assert_eq!(accepted.changes.len(), 1);
}

fn reminded_organizations(decision: &Decision) -> Vec<String> {
    decision
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce {
                audience: Audience::OrganizationsInRoom(names),
                ..
            } => Some(names.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn scheduled(decision: &Decision) -> Option<Timestamp> {
    decision.effects.iter().find_map(|effect| match effect {
        Effect::Schedule { at, .. } => Some(*at),
        _ => None,
    })
}

#[test]
fn reminders_reach_only_those_who_owe_and_not_twice_within_the_interval() {
    let mut run = Run::new(group());
    let opened = run.say(
        "2026-11-25T10:00:00Z",
        SAM,
        "!request open \"Budget\" ack 2026-12-01 due 2026-12-15",
    );
    // The first look: 3 days before the acknowledgement deadline (the 7-day point has passed).
    assert_eq!(scheduled(&opened), Some(at("2026-11-28T22:59:59Z")));
    run.say("2026-11-26T10:00:00Z", GUS, "!respond R-1 support");
    let cycle = run.say("2026-11-27T10:00:00Z", CHAIR, "!remind R-1");
    assert_eq!(reminded_organizations(&cycle), vec!["ALAC".to_string()]);
    assert!(
        reply_text(&cycle).contains("reminded ALAC."),
        "{}",
        reply_text(&cycle)
    );
    let again = run.say("2026-11-27T12:00:00Z", CHAIR, "!remind R-1");
    assert!(reminded_organizations(&again).is_empty());
    assert!(
        reply_text(&again).contains("Not reminded again within 20 hours"),
        "{}",
        reply_text(&again)
    );
    let forced = run.say("2026-11-27T12:00:00Z", CHAIR, "!remind R-1 force");
    assert_eq!(reminded_organizations(&forced), vec!["ALAC".to_string()]);

    // The clock at the 3-day point: ALAC was reminded within 20 hours, so nothing is sent and
    // the next look is planned.
    let clock = run.fire(
        "2026-11-27T22:00:00Z",
        "2026-11-27T22:00:00Z",
        Timer::RequestFollowUp { number: 1 },
    );
    assert!(reminded_organizations(&clock).is_empty());
    // At the 1-day point ALAC still owes its acknowledgement and is reminded.
    let clock = run.fire(
        "2026-11-30T22:59:59Z",
        "2026-11-30T22:59:59Z",
        Timer::RequestFollowUp { number: 1 },
    );
    assert_eq!(reminded_organizations(&clock), vec!["ALAC".to_string()]);
    assert!(clock.effects.iter().any(|effect| matches!(
        effect,
        Effect::Announce {
            audience: Audience::Chairs,
            ..
        }
    )));
}

#[test]
fn a_vacant_organization_cannot_be_reached_and_is_reported() {
    let mut group = group();
    group.people.retain(|person| person.id != "bea.alac");
    let mut run = Run::new(group);
    run.say("2026-11-25T10:00:00Z", SAM, "!request open \"Budget\"");
    let cycle = run.say("2026-11-26T10:00:00Z", CHAIR, "!remind R-1");
    let text = reply_text(&cycle);
    assert!(
        text.contains("Could not be reached: ALAC (vacant seat, no contact address)."),
        "{text}"
    );
    assert_eq!(reminded_organizations(&cycle), vec!["GNSO".to_string()]);
}

#[test]
fn a_late_timer_acts_once_and_says_it_is_late() {
    let mut run = Run::new(group());
    run.say(
        "2026-11-25T10:00:00Z",
        SAM,
        "!request open \"Budget\" ack 2026-12-01 due 2026-12-15",
    );
    // The bot was down from before the 3-day point until after the 1-day point.
    let late = run.fire(
        "2026-11-28T22:59:59Z",
        "2026-12-01T08:00:00Z",
        Timer::RequestFollowUp { number: 1 },
    );
    assert_eq!(
        reminded_organizations(&late),
        vec!["GNSO".to_string(), "ALAC".to_string()]
    );
    let announced = late
        .effects
        .iter()
        .find_map(|effect| match effect {
            Effect::Announce {
                audience: Audience::OrganizationByMail(_),
                document,
                ..
            } => Some(document.plain_text()),
            _ => None,
        })
        .expect("a reminder");
    assert!(
        announced.contains("This comes late: it was due at 2026-11-28 22:59 UTC"),
        "{announced}"
    );
    assert_eq!(late.disposition, Disposition::TimerFired);
    // The same moment handled again (as a duplicate would be) reminds nobody.
    let again = run.fire(
        "2026-11-28T22:59:59Z",
        "2026-12-01T08:00:01Z",
        Timer::RequestFollowUp { number: 1 },
    );
    assert!(reminded_organizations(&again).is_empty());
}

#[test]
fn a_timer_for_a_closed_request_does_nothing() {
    let mut run = Run::new(group());
    run.say("2026-11-25T10:00:00Z", SAM, "!request open \"Budget\"");
    run.say("2026-11-26T10:00:00Z", CHAIR, "!request close R-1 force");
    let fired = run.fire(
        "2026-12-20T00:00:00Z",
        "2026-12-20T00:00:00Z",
        Timer::RequestFollowUp { number: 1 },
    );
    assert!(fired.effects.is_empty() && fired.changes.is_empty());
}

#[test]
fn overdue_responses_are_escalated_to_the_chairs_once() {
    let mut run = Run::new(group());
    run.say(
        "2026-11-25T10:00:00Z",
        SAM,
        "!request open \"Budget\" ack 2026-12-01 due 2026-12-15",
    );
    run.say("2026-11-26T10:00:00Z", GUS, "!respond R-1 support");
    let fired = run.fire(
        "2026-12-29T22:59:59Z",
        "2026-12-29T23:00:00Z",
        Timer::RequestFollowUp { number: 1 },
    );
    let to_chairs: Vec<String> = fired
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Announce {
                audience: Audience::Chairs,
                document,
                ..
            } => Some(document.plain_text()),
            _ => None,
        })
        .collect();
    assert!(
        to_chairs
            .iter()
            .any(|text| text.contains("has had no response from ALAC for 14 days")),
        "{to_chairs:?}"
    );
    let again = run.fire(
        "2027-01-05T22:59:59Z",
        "2027-01-05T23:00:00Z",
        Timer::RequestFollowUp { number: 1 },
    );
    assert!(!again.effects.iter().any(|effect| matches!(
        effect,
        Effect::Announce { subject, .. } if subject.contains("overdue")
    )));
}

#[test]
fn a_continuation_counts_silence_as_continuing() {
    let mut run = Run::new(group());
    run.say(
        "2026-11-25T10:00:00Z",
        SAM,
        "!request continuation \"Annual review\" due 2026-12-15",
    );
    run.say("2026-11-26T10:00:00Z", BEA, "!respond R-1 withdraw");
    let result = run.fire(
        "2026-12-15T22:59:59Z",
        "2026-12-15T23:00:00Z",
        Timer::ContinuationDeadline { number: 1 },
    );
    let text = result
        .effects
        .iter()
        .find_map(|effect| match effect {
            Effect::Announce {
                audience: Audience::Room,
                document,
                ..
            } => Some(document.plain_text()),
            _ => None,
        })
        .expect("a result in the room");
    assert!(
        text.contains("1 organization continues; fewer than two organizations continue"),
        "{text}"
    );
    assert!(
        text.contains("Did not answer, counted as continuing: GNSO"),
        "{text}"
    );
    assert!(!run.state.request(1).expect("exists").is_open());
}

#[test]
fn a_bare_word_answers_the_request_the_mail_was_about() {
    use crate::engine::{Channel, Message};
    let mut run = Run::new(group());
    run.say("2026-11-25T10:00:00Z", SAM, "!request open \"Budget\"");
    let sender = SenderAddress::Email("bea@example.org".into());
    for (word, expected) in [
        ("ack", "Recorded: ALAC acknowledges R-1"),
        ("Support", "Recorded: ALAC responds support"),
    ] {
        let message = Message {
            sender: &sender,
            body: word,
            channel: Channel::Mail,
            about: Some("R-1"),
            bare_word: true,
            poll_answer: None,
            private: false,
        };
        let decision =
            run.engine
                .decide_message(&run.state, &run.group, &message, at("2026-11-26T10:00:00Z"));
        assert!(
            reply_text(&decision).contains(expected),
            "{word}: {}",
            reply_text(&decision)
        );
        for change in &decision.changes {
            run.state.apply(change);
        }
    }
}

#[test]
fn a_long_list_of_requests_is_cut_to_the_newest() {
    use crate::feedback::reports::REQUESTS_LISTED_AT_MOST;
    let mut run = Run::new(group());
    let total = REQUESTS_LISTED_AT_MOST + 5;
    for index in 0..total {
        let decision = run.say(
            "2026-11-25T10:00:00Z",
            SAM,
            &format!("!request open \"Item {index}\""),
        );
        assert_eq!(decision.changes.len(), 1);
    }
    let text = reply_text(&run.say("2026-11-25T11:00:00Z", SAM, "!requests"));
    assert!(
        text.starts_with(&format!("{total} open requests in TG:")),
        "{text}"
    );
    assert!(!text.contains("R-5 \""), "the oldest are left out: {text}");
    assert!(
        text.contains("R-6 \"") && text.contains(&format!("R-{total} \"")),
        "{text}"
    );
    assert!(
        text.contains("The 5 older ones are not listed here"),
        "{text}"
    );
}

#[test]
fn a_vacant_organization_with_a_contact_is_reminded_through_it_and_said_so() {
    // GNSO's seats are empty: the chair holds no seat, and its other member left.
    let mut group = group();
    group.people.retain(|person| person.id != "gus.gnso");
    for person in &mut group.people {
        if person.id == "ana.lima" {
            person.organization = None;
            person.roles = vec![Role::Chair];
        }
    }
    let mut run = Run::new(group);
    run.say("2026-11-25T10:00:00Z", SAM, "!request open \"Budget\"");
    let cycle = run.say("2026-11-26T10:00:00Z", CHAIR, "!remind R-1");
    let text = reply_text(&cycle);
    assert!(text.contains("reminded GNSO, ALAC."), "{text}");
    assert!(
        text.contains("No member holds a seat for GNSO: only the contact address was written to."),
        "{text}"
    );
    assert!(!text.contains("Could not be reached"), "{text}");
}
