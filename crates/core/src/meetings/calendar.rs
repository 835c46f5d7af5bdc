//! iCalendar (RFC 5545) for meetings: the invitation mailed to the list when a meeting is
//! scheduled (METHOD:REQUEST), its update when it moves (the same UID, a higher SEQUENCE), its
//! cancellation (METHOD:CANCEL, STATUS:CANCELLED), and the group's feed of every meeting
//! (METHOD:PUBLISH). Written with the `icalendar` crate, which escapes text values and folds
//! long lines; times are written in UTC (`...Z`), which every calendar client converts to its
//! reader's zone, so no VTIMEZONE table has to be kept in step with the zone database.
//!
//! Nothing here reads the clock: DTSTAMP is the time of the change that produced the
//! invitation, so the same change always yields the same bytes.

use super::model::Meeting;
use crate::directory::Group;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};
use jiff::Timestamp;

/// What a calendar mail asks of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMethod {
    /// A new or changed meeting.
    Request,
    /// A cancelled meeting.
    Cancel,
    /// A feed to subscribe to.
    Publish,
}

impl CalendarMethod {
    pub fn name(self) -> &'static str {
        match self {
            CalendarMethod::Request => "REQUEST",
            CalendarMethod::Cancel => "CANCEL",
            CalendarMethod::Publish => "PUBLISH",
        }
    }
}

const PRODUCT_ID: &str = "-//rapporteur//meetings//EN";

/// The UID of a meeting: stable for its whole life, distinct per group.
pub fn meeting_uid(group: &Group, meeting: &Meeting) -> String {
    format!("{}-m{}@rapporteur", group.id, meeting.number)
}

fn utc(instant: Timestamp) -> String {
    instant.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn event(group: &Group, meeting: &Meeting, stamp: Timestamp) -> Event {
    let mut event = Event::new();
    event
        .uid(&meeting_uid(group, meeting))
        .add_property("DTSTAMP", utc(stamp))
        .add_property("DTSTART", utc(meeting.start))
        .add_property("DTEND", utc(meeting.end()))
        .sequence(meeting.sequence)
        .summary(&format!(
            "{}: {} ({})",
            group.short_name,
            meeting.title,
            meeting.label()
        ));
    let mut description = format!("{} meeting {}", group.name, meeting.label());
    if let Some(mode) = meeting.mode {
        description.push_str(&format!(", {}", mode.name()));
    }
    description.push('.');
    event.description(&description);
    if let Some(location) = &meeting.location {
        event.location(location);
    }
    if let Some(list) = &group.list_address {
        event.add_property("ORGANIZER", format!("mailto:{list}"));
    }
    if meeting.is_cancelled() {
        event.status(EventStatus::Cancelled);
    } else {
        event.status(EventStatus::Confirmed);
    }
    event.done()
}

fn calendar(group: &Group, method: CalendarMethod) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", PRODUCT_ID))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", method.name()))
        .append_property(Property::new("X-WR-CALNAME", &group.short_name))
        .append_property(Property::new("X-WR-TIMEZONE", &group.time_zone_name));
    calendar
}

/// The invitation (or its update, or its cancellation) for one meeting, as of `stamp`.
pub fn invitation(group: &Group, meeting: &Meeting, stamp: Timestamp) -> (CalendarMethod, String) {
    let method = if meeting.is_cancelled() {
        CalendarMethod::Cancel
    } else {
        CalendarMethod::Request
    };
    let mut calendar = calendar(group, method);
    calendar.push(event(group, meeting, stamp));
    (method, calendar.done().to_string())
}

/// The group's feed: every meeting it has scheduled, cancelled ones marked so, stamped with the
/// time of the last change (`stamp`) so that an unchanged record gives an unchanged file.
pub fn feed<'a>(
    group: &Group,
    meetings: impl IntoIterator<Item = &'a Meeting>,
    stamp: Timestamp,
) -> String {
    let mut calendar = calendar(group, CalendarMethod::Publish);
    for meeting in meetings {
        calendar.push(event(group, meeting, stamp));
    }
    calendar.done().to_string()
}
