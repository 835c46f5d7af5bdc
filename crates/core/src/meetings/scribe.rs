//! The lines scribes type without the command prefix, as W3C and IETF scribes have for years:
//! `present+`, `present+ <name>`, `present-`, `regrets+`, and during a meeting `agreed: ...`,
//! `resolved: ...` and `topic: ...`. Each becomes the command it stands for; chat that merely
//! begins with such a word outside a meeting stays chat.

use super::find::meeting_in_progress;
use crate::state::GroupState;

/// The command a scribe line stands for, written with `prefix`, or `None` for ordinary chat.
pub fn scribe_command(body: &str, state: &GroupState, prefix: &str) -> Option<String> {
    let line = body
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('>'))?;
    let lower = line.to_lowercase();
    let rest_after = |word: &str| line.get(word.len()..).map(str::trim);
    for (word, command) in [("present+", "present"), ("regrets+", "regrets")] {
        if lower.starts_with(word) {
            let rest = rest_after(word)?;
            if !line.get(word.len()..)?.is_empty() && !line[word.len()..].starts_with(' ') {
                return None;
            }
            return Some(match (command, rest.is_empty()) {
                (_, true) => format!("{prefix}{command}"),
                ("present", false) => format!("{prefix}present for {rest}"),
                (_, false) => format!("{prefix}{command} {rest}"),
            });
        }
    }
    if lower == "present-" {
        return Some(format!("{prefix}left"));
    }
    meeting_in_progress(state)?;
    for (word, command) in [
        ("agreed:", "agreed"),
        ("resolved:", "agreed"),
        ("resolution:", "agreed"),
        ("topic:", "topic"),
    ] {
        if lower.starts_with(word) {
            let rest = rest_after(word)?;
            if rest.is_empty() {
                return None;
            }
            return Some(format!("{prefix}{command} {rest}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Change;

    fn in_meeting() -> GroupState {
        let at = "2026-12-08T13:00:00Z".parse().expect("instant");
        GroupState::from_changes(&[
            Change::MeetingScheduled {
                number: 1,
                title: "Call".into(),
                start: at,
                minutes_long: 60,
                mode: None,
                location: None,
                series: None,
                by: None,
                at,
            },
            Change::MeetingStarted {
                number: 1,
                by: "ana".into(),
                at,
            },
        ])
    }

    #[test]
    fn scribe_lines_become_commands_and_chat_stays_chat() {
        let meeting = in_meeting();
        let none = GroupState::default();
        let cases: [(&str, &GroupState, Option<&str>); 14] = [
            ("present+", &none, Some("!present")),
            ("Present+", &meeting, Some("!present")),
            ("present+ Ana Lima", &meeting, Some("!present for Ana Lima")),
            ("present+Ana", &meeting, None),
            ("present-", &meeting, Some("!left")),
            ("regrets+", &none, Some("!regrets")),
            (
                "regrets+ 2026-12-08 on leave",
                &none,
                Some("!regrets 2026-12-08 on leave"),
            ),
            ("agreed: ship it", &meeting, Some("!agreed ship it")),
            (
                "RESOLVED: adopt the charter",
                &meeting,
                Some("!agreed adopt the charter"),
            ),
            ("topic: Budget", &meeting, Some("!topic Budget")),
            ("agreed: ship it", &none, None),
            ("agreed:", &meeting, None),
            ("I agreed: yes", &meeting, None),
            (
                "> quoted\nagreed: from a reply",
                &meeting,
                Some("!agreed from a reply"),
            ),
        ];
        for (body, state, expected) in cases {
            assert_eq!(
                scribe_command(body, state, "!").as_deref(),
                expected,
                "{body:?}"
            );
        }
    }
}
