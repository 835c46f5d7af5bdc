//! A whole meeting of the example 22-organization group (`config/groups/cip-ccg.toml`), decided
//! by the engine as the bot decides it: scheduled in the room, regrets by mail (through the
//! same path a received mail takes), the roll call in the room with scribe forms, minutes,
//! and the minutes mailed to the list with one line per organization and the group's quorum.
//! The minutes are kept as snapshots (text and HTML).

use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::effects::{Audience, Effect};
use rapporteur::core::engine::{Decision, Engine};
use rapporteur::core::state::GroupState;
use rapporteur::handling::decide_mail;

fn example_group() -> Group {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
    load_group_file(&path, "cip-ccg", "UTC").expect("the example group loads")
}

struct Meeting {
    engine: Engine,
    group: Group,
    state: GroupState,
}

impl Meeting {
    fn apply(&mut self, decision: Decision) -> Decision {
        for change in &decision.changes {
            self.state.apply(change);
        }
        decision
    }

    fn in_room(&mut self, user_id: &str, body: &str, now: &str) -> Decision {
        let decision = self.engine.decide_command(
            &self.state,
            &self.group,
            &SenderAddress::Matrix(user_id.to_string()),
            body,
            now.parse().expect("RFC 3339"),
        );
        self.apply(decision)
    }

    fn by_mail(&mut self, address: &str, body: &str, now: &str) -> Decision {
        let decision = decide_mail(
            &self.engine,
            &self.state,
            &self.group,
            &SenderAddress::Email(address.to_string()),
            body,
            now.parse().expect("RFC 3339"),
        );
        self.apply(decision)
    }
}

fn reply(decision: &Decision) -> String {
    decision
        .reply()
        .map(|reply| reply.plain_text())
        .unwrap_or_default()
}

#[test]
fn a_meeting_of_the_22_organization_group_from_invitation_to_minutes() {
    let mut meeting = Meeting {
        engine: Engine::new(Catalog::builtin().expect("catalog"), "!"),
        group: example_group(),
        state: GroupState::default(),
    };
    assert_eq!(meeting.group.organizations.len(), 22);
    let chair = "@ana.lima:localhost";

    // The chair schedules the monthly call; the invitation goes to the list with its calendar.
    let scheduled = meeting.in_room(
        chair,
        "!meeting schedule \"Monthly call\" 2026-12-08 07:00 for 90m remote",
        "2026-11-25T16:00:00Z",
    );
    assert!(
        reply(&scheduled).starts_with(
            "Scheduled M-1 \"Monthly call\" on 2026-12-08 15:00 UTC (07:00 PST, America/Los_Angeles)"
        ),
        "{}",
        reply(&scheduled)
    );
    assert!(scheduled.effects.iter().any(
        |effect| matches!(effect, Effect::Invite { calendar, .. } if calendar.method == "REQUEST")
    ));

    // Regrets by mail the day before, from two members; one names an alternate.
    let answer = meeting.by_mail(
        "priya.nair@example.org",
        "!regrets 2026-12-08 at the APRALO general assembly",
        "2026-12-07T18:00:00Z",
    );
    assert!(
        reply(&answer).starts_with("Recorded your regrets for M-1"),
        "{}",
        reply(&answer)
    );
    meeting.by_mail(
        "jurgen.weber@example.org",
        "!regrets 2026-12-08 on leave, alternate \"Anna Schmidt\"",
        "2026-12-07T19:00:00Z",
    );

    // The meeting, in the room: the rapporteur of the group file keeps the minutes.
    meeting.in_room(chair, "!meeting start", "2026-12-08T15:01:00Z");
    let present = [
        "@ana.lima:localhost",
        "@kwame.mensah:localhost",
        "@ingrid.halvorsen:localhost",
        "@rahul.deshpande:localhost",
        "@fatima.benali:localhost",
        "@tomasz.kowalski:localhost",
        "@mei.chen:localhost",
        "@olusegun.adeyemi:localhost",
        "@sophie.martin:localhost",
        "@lucas.moreau:localhost",
        "@aigerim.sadykova:localhost",
        "@hiroshi.tanaka:localhost",
        "@nadia.haddad:localhost",
    ];
    for (index, user_id) in present.iter().enumerate() {
        let body = if index % 2 == 0 {
            "present+"
        } else {
            "!present remote"
        };
        let decision = meeting.in_room(user_id, body, "2026-12-08T15:02:00Z");
        assert!(
            reply(&decision).starts_with("Recorded:"),
            "{user_id}: {}",
            reply(&decision)
        );
    }
    // Someone who joined by phone, recorded by the rapporteur.
    meeting.in_room(
        "@mei.chen:localhost",
        "present+ Moussa Diallo",
        "2026-12-08T15:05:00Z",
    );
    meeting.in_room(
        "@mei.chen:localhost",
        "topic: CIP survey results",
        "2026-12-08T15:10:00Z",
    );
    meeting.in_room(
        "@mei.chen:localhost",
        "!info Response rate 64%; the full results are in the annex",
        "2026-12-08T15:12:00Z",
    );
    meeting.in_room(
        "@mei.chen:localhost",
        "!link https://example.org/cip-survey-2026.pdf survey annex",
        "2026-12-08T15:13:00Z",
    );
    meeting.in_room(
        chair,
        "resolved: the survey report goes to the appointing organizations for feedback",
        "2026-12-08T15:40:00Z",
    );
    meeting.in_room(
        "@mei.chen:localhost",
        "!action Ingrid Halvorsen circulate the survey report due 2026-12-15",
        "2026-12-08T15:45:00Z",
    );
    meeting.in_room("@kwame.mensah:localhost", "!left", "2026-12-08T16:00:00Z");
    let ended = meeting.in_room(chair, "!meeting end", "2026-12-08T16:25:00Z");

    let (subject, minutes) = ended
        .effects
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
    assert_eq!(subject, "[CIP-CCG] Minutes: Monthly call, 2026-12-08 (M-1)");
    let text = minutes.plain_text();
    // One line per organization, whatever its status.
    for organization in &meeting.group.organizations {
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("- {}: ", organization.short_name))),
            "{} has its line:\n{text}",
            organization.short_name
        );
    }
    assert!(
        text.contains("Attendance: 13 of 22 organizations represented; quorum 12: reached."),
        "{text}"
    );
    insta::assert_snapshot!("cip_ccg_minutes_text", text);
    insta::assert_snapshot!("cip_ccg_minutes_html", minutes.html());
    insta::assert_snapshot!("cip_ccg_summary", reply(&ended));
}
