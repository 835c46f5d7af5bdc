//! When a request needs attention again: the reminder points before each organization's due
//! date (by default 7, 3 and 1 days before), every few days while it is overdue, and the day
//! the chairs are told about a long-overdue response. Calendar days are counted in the group's
//! zone with jiff, so "3 days before" keeps its local time across a change of daylight saving.

use super::model::{FeedbackRequest, OrganizationStatus};
use crate::directory::FeedbackPolicy;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// `instant` moved by `days` calendar days in `zone` (negative: earlier).
fn shift_days(instant: Timestamp, days: i64, zone: &TimeZone) -> Option<Timestamp> {
    instant
        .to_zoned_datetime(zone.clone())
        .checked_add(Span::new().try_days(days).ok()?)
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// The reminder points for an answer due at `due`, before it, in time order.
fn points_before(due: Timestamp, policy: &FeedbackPolicy, zone: &TimeZone) -> Vec<Timestamp> {
    let mut points: Vec<Timestamp> = policy
        .reminder_days_before
        .iter()
        .filter_map(|days| shift_days(due, -i64::from(*days), zone))
        .collect();
    points.sort();
    points
}

/// The latest reminder point at or before `now` for an answer due at `due`, if any.
pub fn latest_point(
    due: Timestamp,
    now: Timestamp,
    policy: &FeedbackPolicy,
    zone: &TimeZone,
) -> Option<Timestamp> {
    if now > due && policy.overdue_reminder_every_days > 0 {
        let every = i64::from(policy.overdue_reminder_every_days);
        let days_over = now.since(due).ok()?.get_seconds() / 86_400;
        let periods = days_over / every;
        // Near the boundary the calendar (23- or 25-hour days) may disagree with the division.
        for k in [periods + 1, periods, periods - 1] {
            if k >= 1
                && let Some(point) = shift_days(due, k * every, zone)
                && point <= now
            {
                return Some(point);
            }
        }
    }
    points_before(due, policy, zone)
        .into_iter()
        .rev()
        .find(|point| *point <= now)
}

/// The first reminder point after `now` for an answer due at `due`.
pub fn next_point(
    due: Timestamp,
    now: Timestamp,
    policy: &FeedbackPolicy,
    zone: &TimeZone,
) -> Option<Timestamp> {
    if let Some(point) = points_before(due, policy, zone)
        .into_iter()
        .find(|point| *point > now)
    {
        return Some(point);
    }
    if policy.overdue_reminder_every_days == 0 {
        return None;
    }
    let every = i64::from(policy.overdue_reminder_every_days);
    let days_over = if now > due {
        now.since(due).ok()?.get_seconds() / 86_400
    } else {
        0
    };
    let mut k = (days_over / every).max(1);
    loop {
        let point = shift_days(due, k * every, zone)?;
        if point > now {
            return Some(point);
        }
        k += 1;
    }
}

/// When the chairs are to be told that this organization's response is overdue.
pub fn escalation_point(
    request: &FeedbackRequest,
    status: &OrganizationStatus,
    policy: &FeedbackPolicy,
    zone: &TimeZone,
) -> Option<Timestamp> {
    if policy.escalate_after_days_overdue == 0 || status.escalated.is_some() {
        return None;
    }
    // Escalation is about the response: an organization that has not even acknowledged owes
    // it as well, so either way the point is counted from the response deadline.
    request.owed_by(status)?;
    shift_days(
        request.respond_by_for(status),
        i64::from(policy.escalate_after_days_overdue),
        zone,
    )
}

/// Whether the organization's reminder is due at `now`: it owes an answer, a reminder point for
/// that answer has passed since it was last reminded (or since the request was opened), and it
/// was not reminded within the minimum interval.
pub fn reminder_due(
    request: &FeedbackRequest,
    status: &OrganizationStatus,
    policy: &FeedbackPolicy,
    zone: &TimeZone,
    now: Timestamp,
) -> bool {
    let Some(owed) = request.owed_by(status) else {
        return false;
    };
    let Some(point) = latest_point(owed.due(), now, policy, zone) else {
        return false;
    };
    let since = status.last_reminded.unwrap_or(request.opened.at);
    point > since && !reminded_recently(status, policy, now)
}

/// Whether the organization was reminded within the group's minimum interval.
pub fn reminded_recently(
    status: &OrganizationStatus,
    policy: &FeedbackPolicy,
    now: Timestamp,
) -> bool {
    let interval =
        jiff::SignedDuration::from_hours(i64::from(policy.minimum_reminder_interval_hours));
    status
        .last_reminded
        .is_some_and(|last| now.duration_since(last) < interval)
}

/// When the request next needs the clock: the earliest reminder or escalation point after
/// `now` over the organizations that still owe an answer; `None` once nobody owes one.
pub fn next_follow_up(
    request: &FeedbackRequest,
    policy: &FeedbackPolicy,
    zone: &TimeZone,
    now: Timestamp,
) -> Option<Timestamp> {
    if !request.is_open() {
        return None;
    }
    request
        .organizations
        .values()
        .filter_map(|status| {
            let owed = request.owed_by(status)?;
            let reminder = next_point(owed.due(), now, policy, zone).map(|point| {
                // A point inside the minimum interval is moved to the interval's end.
                match status.last_reminded {
                    Some(last) => point.max(
                        last.checked_add(jiff::SignedDuration::from_hours(i64::from(
                            policy.minimum_reminder_interval_hours,
                        )))
                        .unwrap_or(point),
                    ),
                    None => point,
                }
            });
            let escalation =
                escalation_point(request, status, policy, zone).filter(|point| *point > now);
            [reminder, escalation].into_iter().flatten().min()
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("RFC 3339")
    }

    fn brussels() -> TimeZone {
        TimeZone::get("Europe/Brussels").expect("bundled")
    }

    #[test]
    fn points_before_and_after_a_due_date() {
        let policy = FeedbackPolicy::default();
        let zone = brussels();
        let due = at("2026-12-20T22:59:59Z");
        // (now, latest point at or before now, next point after now)
        let cases = [
            ("2026-12-01T00:00:00Z", None, Some("2026-12-13T22:59:59Z")),
            (
                "2026-12-13T22:59:59Z",
                Some("2026-12-13T22:59:59Z"),
                Some("2026-12-17T22:59:59Z"),
            ),
            (
                "2026-12-19T23:00:00Z",
                Some("2026-12-19T22:59:59Z"),
                Some("2026-12-27T22:59:59Z"),
            ),
            (
                "2026-12-28T10:00:00Z",
                Some("2026-12-27T22:59:59Z"),
                Some("2027-01-03T22:59:59Z"),
            ),
        ];
        for (now, latest, next) in cases {
            assert_eq!(
                latest_point(due, at(now), &policy, &zone),
                latest.map(at),
                "latest at {now}"
            );
            assert_eq!(
                next_point(due, at(now), &policy, &zone),
                next.map(at),
                "next at {now}"
            );
        }
    }

    #[test]
    fn days_before_keep_local_time_across_daylight_saving() {
        let policy = FeedbackPolicy::default();
        let zone = brussels();
        // Due at the end of 2026-04-01 in Brussels (UTC+2); 7 days before is 2026-03-25, when
        // Brussels is still on UTC+1: the same local time, so a different UTC hour.
        let due = at("2026-04-01T21:59:59Z");
        assert_eq!(
            next_point(due, at("2026-03-20T00:00:00Z"), &policy, &zone),
            Some(at("2026-03-25T22:59:59Z"))
        );
    }

    #[test]
    fn no_overdue_reminders_when_the_policy_has_none() {
        let policy = FeedbackPolicy {
            overdue_reminder_every_days: 0,
            ..FeedbackPolicy::default()
        };
        let due = at("2026-12-20T22:59:59Z");
        assert_eq!(
            next_point(due, at("2026-12-20T23:00:00Z"), &policy, &brussels()),
            None
        );
    }
}
