//! What the core asks the outside world to do. Adapters carry these out; the core never performs
//! I/O itself. Each effect is stored in the outbox (or, for timers, the timer table) in the same
//! transaction as the state change that produced it, so it is carried out once even across
//! crashes.

use super::reply::ReplyDocument;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Answer the message being handled, on the channel it came from (in a Matrix room as a reply
    /// to the event; by mail to its author, threaded).
    Reply { document: ReplyDocument },
    /// Tell an audience something: the room, the list, organizations, a person or the chairs.
    /// `subject` is the mail subject (the group's tag is added by the mail adapter's caller);
    /// `about` names the record it concerns (`R-3`), so that a reply to the mail inherits it.
    Announce {
        audience: Audience,
        subject: String,
        about: Option<String>,
        document: ReplyDocument,
    },
    /// Mail a calendar invitation (or its update or cancellation) to the group's list: the
    /// document as the mail's text and HTML, the iCalendar text as its `text/calendar` part.
    Invite {
        subject: String,
        about: Option<String>,
        document: ReplyDocument,
        calendar: CalendarPart,
    },
    /// Post a native poll in the group's room (`m.poll.start`, with the document as its text
    /// fallback). Its answers come back as `!vote` commands marked as poll answers.
    StartPoll {
        poll: PollStart,
        fallback: ReplyDocument,
    },
    /// End the room's native poll of record `R-<number>` (`m.poll.end`) with this text.
    EndPoll { number: u32, text: String },
    /// Deliver `timer` to the core at `at`. A timer with the same key is moved, not doubled.
    Schedule {
        key: String,
        at: Timestamp,
        timer: Timer,
    },
    /// Forget the timer with this key, if it has not fired yet.
    Cancel { key: String },
    /// Publish the group's public record (the static site and the chain) from the committed
    /// state. Asked for by the publication timer (`core::record::publication`), so it comes
    /// a few seconds after a burst of changes and survives a crash in between.
    Publish,
}

/// A poll as the room's native poll shows it. Its answers are identified by their numbers
/// (`"1"`, `"2"`, ...), which is how every channel names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollStart {
    pub number: u32,
    pub question: String,
    pub options: Vec<String>,
    /// Clients show no results until the poll ends (an undisclosed poll).
    pub hidden: bool,
}

/// The `text/calendar` part of an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarPart {
    /// `REQUEST` or `CANCEL`, repeated as the part's `method` parameter (RFC 6047).
    pub method: String,
    pub text: String,
}

/// Who an announcement is for. The core's group knows how to reach each (see
/// [`crate::audience::deliveries`]); adapters only carry the deliveries out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "audience", content = "names", rename_all = "snake_case")]
pub enum Audience {
    /// The group's Matrix room, without mentioning anyone.
    Room,
    /// The group's mailing list.
    List,
    /// The members of these organizations: mentioned by user ID in the room (never `@room`),
    /// and by mail at their addresses and the organization's contact address.
    Organizations(Vec<String>),
    /// Only the room part of `Organizations`: one message that mentions their members.
    OrganizationsInRoom(Vec<String>),
    /// Only the mail part of `Organizations`, for one organization: a reminder that speaks to
    /// it alone, rather than the whole list the room sees.
    OrganizationByMail(String),
    /// One person, by person ID.
    Person(String),
    /// These people, by person ID: one room message that mentions those with a Matrix ID, and
    /// a mail to each one's first address.
    People(Vec<String>),
    /// The chairs and co-chairs.
    Chairs,
}

/// Something the core asked to be told about later, through the durable clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum Timer {
    /// Time to look at a request: remind the organizations whose reminder is due, tell the
    /// chairs about long-overdue ones, and plan the next look.
    RequestFollowUp { number: u32 },
    /// The deadline of a continuation request: silence now counts as continuing.
    ContinuationDeadline { number: u32 },
    /// Remind the room and the list of a meeting this many minutes before its start.
    MeetingReminder { number: u32, minutes_before: u32 },
    /// Remind an action item's owner: before it is due, or once it is overdue.
    ActionFollowUp { number: u32, overdue: bool },
    /// Schedule the next meeting of a recurring schedule of the group file.
    MeetingSeries { series: String },
    /// End a meeting nobody ended, hours after its scheduled end, and publish its minutes.
    MeetingAutoEnd { number: u32 },
    /// Remind the members who have not answered a call or poll, this many minutes before it closes.
    ConsultationReminder { number: u32, minutes_before: u32 },
    /// Close a call or poll at its closing date.
    ConsultationClose { number: u32 },
    /// Remind the members and participants who have not answered a survey.
    SurveyReminder { number: u32, minutes_before: u32 },
    /// Close a survey at its closing date, publishing its results if enough people answered.
    SurveyClose { number: u32 },
    /// Remind the chairs that the progress report for the ICANN meeting starting on this date
    /// (`YYYY-MM-DD`) is due in this many days.
    ProgressReportReminder {
        meeting_date: String,
        days_before: u32,
    },
    /// Remind staff that an adopted outcome is to be published, this many hours before the
    /// publication limit (0: the limit is now), unless it was recorded published.
    PublicationReminder { number: u32, hours_before: u32 },
    /// Publish the group's record: the last change is a few seconds old.
    PublishRecord,
}
