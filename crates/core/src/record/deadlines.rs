//! Reporting deadlines of the public record: the group's progress report is due a set number of
//! days (two weeks by default) before each ICANN meeting the group file lists, and the chairs
//! are reminded a week and a day before it is due, through the durable clock.

use crate::directory::{Group, Role};
use crate::effects::{Audience, Effect, Timer};
use crate::feedback::render::when;
use crate::reply::{LineBuilder, ReplyDocument};
use crate::state::Change;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// An ICANN meeting of the group file's `[record]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcannMeeting {
    /// Its first day, in the group's time zone.
    pub date: Date,
    /// Its name, such as "ICANN 85".
    pub name: String,
}

/// The group file's `[record]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPolicy {
    pub icann_meetings: Vec<IcannMeeting>,
    /// How many days before an ICANN meeting the progress report is due (default 14).
    pub progress_report_days_before: u32,
}

impl Default for RecordPolicy {
    fn default() -> Self {
        RecordPolicy {
            icann_meetings: Vec::new(),
            progress_report_days_before: 14,
        }
    }
}

/// The reminders before a progress report is due, in days before the due date.
pub const PROGRESS_REPORT_REMINDER_DAYS: [u32; 2] = [7, 1];

/// When a progress report for `meeting` is due: 09:00 in the group's zone, the policy's number
/// of days before the meeting's first day.
pub fn progress_report_due(group: &Group, meeting: &IcannMeeting) -> Option<Timestamp> {
    let days = i64::from(group.record.progress_report_days_before);
    let day = meeting.date.checked_sub(days.days()).ok()?;
    day.at(9, 0, 0, 0)
        .to_zoned_datetime(group.time_zone.clone())
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// The timer key of a progress-report reminder: one per meeting and lead time, so scheduling
/// them again at every start adds nothing.
pub fn reminder_key(meeting: &IcannMeeting, days_before: u32) -> String {
    format!("icann-{}:progress-report:{days_before}d", meeting.date)
}

/// The reminders still to come for the group's ICANN meetings, as (key, due, timer); one whose
/// time has passed is left out, unless the report itself is still ahead (then it is due now).
pub fn progress_report_reminders(group: &Group, now: Timestamp) -> Vec<(String, Timestamp, Timer)> {
    let mut planned = Vec::new();
    for meeting in &group.record.icann_meetings {
        let Some(due) = progress_report_due(group, meeting) else {
            continue;
        };
        if due <= now {
            continue;
        }
        for days_before in PROGRESS_REPORT_REMINDER_DAYS {
            let at = due - SignedDuration::from_hours(24 * i64::from(days_before));
            // A lead time already passed when the meeting was added: the later reminder, or
            // the one due now, says it.
            if at <= now && days_before != PROGRESS_REPORT_REMINDER_DAYS[1] {
                continue;
            }
            planned.push((
                reminder_key(meeting, days_before),
                at.max(now),
                Timer::ProgressReportReminder {
                    meeting_date: meeting.date.to_string(),
                    days_before,
                },
            ));
        }
    }
    planned
}

/// The chairs' reminder: the meeting, when the report is due, and where the record is.
pub fn on_timer(group: &Group, timer: &Timer) -> (Vec<Change>, Vec<Effect>) {
    let Timer::ProgressReportReminder { meeting_date, .. } = timer else {
        return (Vec::new(), Vec::new());
    };
    // A meeting the group file no longer lists is not reminded of.
    let Some(meeting) = group
        .record
        .icann_meetings
        .iter()
        .find(|meeting| meeting.date.to_string() == *meeting_date)
    else {
        return (Vec::new(), Vec::new());
    };
    let Some(due) = progress_report_due(group, meeting) else {
        return (Vec::new(), Vec::new());
    };
    let chairs: Vec<String> = group
        .people
        .iter()
        .filter(|person| person.has_role(Role::Chair) || person.has_role(Role::CoChair))
        .map(|person| person.id.clone())
        .collect();
    if chairs.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut document = ReplyDocument::new();
    document.push_line(LineBuilder::new().strong(format!(
        "Progress report due {} ({} starts {})",
        when(group, due),
        meeting.name,
        meeting.date
    )));
    document.push_line(LineBuilder::new().text(format!(
        "{}'s progress report is due {} days before each ICANN meeting. The record of \
         meetings, requests and outcomes to report on is published with the group's record.",
        group.short_name, group.record.progress_report_days_before
    )));
    if let Some(url) = &group.record_url {
        document.push_line(
            LineBuilder::new()
                .text("The public record: ")
                .link(format!("{url}index.html")),
        );
    }
    (
        Vec::new(),
        vec![Effect::Announce {
            audience: Audience::People(chairs),
            subject: format!(
                "[{}] Progress report due {} before {}",
                group.short_name,
                crate::meetings::find::local_date(group, due),
                meeting.name
            ),
            about: None,
            document,
        }],
    )
}
