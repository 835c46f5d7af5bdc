//! A reminder cycle: the organizations that still owe the answer due next are reminded (through
//! the organization audience: mentions in the room, mail to members and contacts), and whoever
//! started the cycle gets a summary of who was reminded, who was skipped and who could not be
//! reached. The same rule serves `!remind` and the clock.

use super::model::{FeedbackRequest, Owed};
use super::plan::{reminded_recently, reminder_due};
use super::render::{how_to_answer, owed_text, request_title, subject, when};
use crate::audience::{Unreachable, deliveries};
use crate::directory::Group;
use crate::effects::{Audience, Effect};
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use jiff::Timestamp;

/// What started the cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `!remind R-3`, or `!remind R-3 force` to ignore the minimum interval.
    Chair { force: bool },
    /// The clock: only organizations whose reminder point has come.
    Clock,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cycle {
    pub changes: Vec<Change>,
    pub effects: Vec<Effect>,
    pub summary: ReplyDocument,
    /// How many organizations were reminded.
    pub reminded: usize,
}

pub fn reminder_cycle(
    group: &Group,
    request: &FeedbackRequest,
    now: Timestamp,
    trigger: Trigger,
    prefix: &str,
) -> Cycle {
    let policy = &group.feedback;
    let mut to_remind: Vec<(&str, Owed)> = Vec::new();
    let mut skipped: Vec<(&str, Timestamp)> = Vec::new();
    let mut unreachable: Vec<String> = Vec::new();
    // Reminded through the contact address alone: nobody holds the organization's seats.
    let mut contact_only: Vec<&str> = Vec::new();
    let mut answered = 0;
    for (organization, status) in &request.organizations {
        let Some(owed) = request.owed_by(status) else {
            answered += 1;
            continue;
        };
        let wanted = match trigger {
            Trigger::Chair { force } => force || !reminded_recently(status, policy, now),
            Trigger::Clock => reminder_due(request, status, policy, &group.time_zone, now),
        };
        if !wanted {
            if let (Trigger::Chair { .. }, Some(last)) = (trigger, status.last_reminded) {
                skipped.push((organization, last));
            }
            continue;
        }
        let resolution = deliveries(group, &Audience::Organizations(vec![organization.clone()]));
        match resolution.unreachable.first() {
            Some(Unreachable::VacantSeats { .. }) if resolution.deliveries.is_empty() => {
                unreachable.push(format!("{organization} (vacant seat, no contact address)"));
                continue;
            }
            Some(Unreachable::VacantSeats { .. }) => contact_only.push(organization),
            Some(Unreachable::NoAddress { .. }) => {
                unreachable.push(format!("{organization} (no address for its members)"));
                continue;
            }
            None => {}
        }
        to_remind.push((organization, owed));
    }

    let mut cycle = Cycle::default();
    if !to_remind.is_empty() {
        let mut document = ReplyDocument::new();
        document.push_line(
            LineBuilder::new()
                .strong(format!("Reminder: {}", request_title(request)))
                .text(" is waiting for an answer from:"),
        );
        document.push_list(
            to_remind
                .iter()
                .map(|(organization, owed)| {
                    let members: Vec<String> = group
                        .members_of(organization)
                        .map(|person| person.name.clone())
                        .collect();
                    let who = if members.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", members.join(", "))
                    };
                    LineBuilder::new()
                        .strong(organization.to_string())
                        .text(format!("{who}: {}", owed_text(group, *owed, now)))
                })
                .collect(),
        );
        how_to_answer(&mut document, request, prefix);
        // The room sees the whole list once, mentioning everyone on it; each organization gets
        // a mail about itself alone (a list of 250 organizations in 750 mails was 49 MiB).
        cycle.effects.push(Effect::Announce {
            audience: Audience::OrganizationsInRoom(
                to_remind.iter().map(|(name, _)| name.to_string()).collect(),
            ),
            subject: subject(group, request, "reminder"),
            about: Some(request.label()),
            document,
        });
        for (organization, owed) in &to_remind {
            let mut letter = ReplyDocument::new();
            letter.push_line(
                LineBuilder::new()
                    .strong(format!("Reminder: {}", request_title(request)))
                    .text(format!(
                        " is waiting for {organization}'s {}.",
                        owed_text(group, *owed, now)
                    )),
            );
            how_to_answer(&mut letter, request, prefix);
            cycle.effects.push(Effect::Announce {
                audience: Audience::OrganizationByMail(organization.to_string()),
                subject: subject(group, request, "reminder"),
                about: Some(request.label()),
                document: letter,
            });
        }
        for (organization, _) in &to_remind {
            cycle.changes.push(Change::Reminded {
                number: request.number,
                organization: organization.to_string(),
                at: now,
            });
        }
    }
    cycle.reminded = to_remind.len();

    let summary = &mut cycle.summary;
    summary.push_line(LineBuilder::new().text(format!(
        "Reminder cycle for {}: {}",
        request_title(request),
        if to_remind.is_empty() {
            "nobody was reminded.".to_string()
        } else {
            format!(
                "reminded {}.",
                to_remind
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    )));
    if !skipped.is_empty() {
        summary.push_line(
            LineBuilder::new()
                .text(format!(
                    "Not reminded again within {} hours of the last reminder: {}. Use ",
                    group.feedback.minimum_reminder_interval_hours,
                    skipped
                        .iter()
                        .map(|(name, last)| format!("{name} (reminded {})", when(group, *last)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .code(format!("{prefix}remind {} force", request.label()))
                .text(" to remind them anyway."),
        );
    }
    if !contact_only.is_empty() {
        summary.push_line(LineBuilder::new().text(format!(
            "No member holds a seat for {}: only the contact address was written to.",
            contact_only.join(", ")
        )));
    }
    if !unreachable.is_empty() {
        summary.push_line(
            LineBuilder::new().text(format!("Could not be reached: {}.", unreachable.join(", "))),
        );
    }
    summary.push_line(LineBuilder::new().text(format!(
        "{answered} of {} organizations have responded.",
        request.organizations.len()
    )));
    cycle
}
