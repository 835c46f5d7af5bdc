//! The group file's `[meetings]` section as the core uses it: when reminders go out, how long a
//! meeting lasts unless its command says otherwise, the quorum, and recurring schedules such as
//! "second Tuesday of every other month at 14:00".
//!
//! A recurring meeting keeps its local time of day across daylight saving changes: the rule is
//! read in its time zone and each occurrence becomes an instant only on its own date, by jiff.

use super::model::MeetingMode;
use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

#[derive(Debug, Clone, PartialEq)]
pub struct MeetingPolicy {
    /// Reminders before each meeting, in minutes before its start (largest first).
    pub reminders_minutes_before: Vec<u32>,
    pub default_minutes_long: u32,
    /// How many organizations must be represented for a quorum, if the group has one.
    pub quorum_organizations: Option<u32>,
    pub recurring: Vec<RecurringMeeting>,
}

impl Default for MeetingPolicy {
    fn default() -> Self {
        MeetingPolicy {
            reminders_minutes_before: vec![7 * 24 * 60, 24 * 60, 60],
            default_minutes_long: 60,
            quorum_organizations: None,
            recurring: Vec::new(),
        }
    }
}

/// One recurring schedule of the group file.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurringMeeting {
    pub id: String,
    pub title: String,
    pub rule: RecurrenceRule,
    /// The rule as written, for replies.
    pub rule_text: String,
    pub zone: TimeZone,
    pub zone_name: String,
    /// The first day the schedule may fall on; months (or weeks) are counted from it.
    pub starting: Date,
    pub until: Option<Date>,
    pub minutes_long: u32,
    pub mode: Option<MeetingMode>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecurrencePattern {
    /// The `nth` (1 to 4, or -1 for the last) weekday of every `every` months.
    Monthly {
        nth: i8,
        weekday: Weekday,
        every: u32,
    },
    /// That weekday every `every` weeks.
    Weekly { weekday: Weekday, every: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecurrenceRule {
    pub pattern: RecurrencePattern,
    pub time: Time,
    /// A zone named at the end of the rule (`at 14:00 Europe/Brussels`), if any.
    pub zone_name: Option<String>,
}

pub const RULE_FORMS: &str = "\"second Tuesday of every other month at 14:00\", \"last Friday of \
every month at 13:00 UTC\", \"first Monday of every 3 months at 09:30 Europe/Brussels\", \
\"every Wednesday at 15:00\" or \"every other Thursday at 16:00\"";

/// Reads a rule such as "second Tuesday of every other month at 14:00 Europe/Brussels".
pub fn parse_rule(text: &str) -> Result<RecurrenceRule, String> {
    let lower = text.trim().to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let at = words.iter().position(|word| *word == "at").ok_or_else(|| {
        format!("the rule has no time of day (\"at 14:00\"); write it like {RULE_FORMS}")
    })?;
    let (pattern_words, time_words) = (&words[..at], &words[at + 1..]);
    let time_text = time_words
        .first()
        .ok_or_else(|| "the time of day after \"at\" is missing".to_string())?;
    let time: Time = time_text
        .parse()
        .map_err(|_| format!("\"{time_text}\" is not a time of day; write it like 14:00"))?;
    let zone_name = match time_words.get(1..) {
        Some([]) | None => None,
        Some([zone]) => {
            // The zone keeps the capitals the user wrote.
            let original = text.split_whitespace().last().unwrap_or(zone).to_string();
            Some(original)
        }
        Some(more) => {
            return Err(format!(
                "\"{}\" follows the time; only a time zone may (such as Europe/Brussels)",
                more.join(" ")
            ));
        }
    };
    let pattern = parse_pattern(pattern_words)?;
    Ok(RecurrenceRule {
        pattern,
        time,
        zone_name,
    })
}

fn parse_pattern(words: &[&str]) -> Result<RecurrencePattern, String> {
    let unreadable = || format!("I cannot read that schedule; write it like {RULE_FORMS}");
    match words {
        ["every", weekday] => Ok(RecurrencePattern::Weekly {
            weekday: parse_weekday(weekday).ok_or_else(unreadable)?,
            every: 1,
        }),
        ["every", "other", weekday] => Ok(RecurrencePattern::Weekly {
            weekday: parse_weekday(weekday).ok_or_else(unreadable)?,
            every: 2,
        }),
        [nth, weekday, "of", "every", rest @ ..] => {
            let nth = match *nth {
                "first" | "1st" => 1,
                "second" | "2nd" => 2,
                "third" | "3rd" => 3,
                "fourth" | "4th" => 4,
                "last" => -1,
                _ => return Err(unreadable()),
            };
            let weekday = parse_weekday(weekday).ok_or_else(unreadable)?;
            let every = match rest {
                ["month"] => 1,
                ["other", "month"] => 2,
                [count, "months"] => count
                    .parse::<u32>()
                    .ok()
                    .filter(|count| (1..=12).contains(count))
                    .ok_or_else(|| "the number of months must be 1 to 12".to_string())?,
                _ => return Err(unreadable()),
            };
            Ok(RecurrencePattern::Monthly {
                nth,
                weekday,
                every,
            })
        }
        _ => Err(unreadable()),
    }
}

fn parse_weekday(word: &str) -> Option<Weekday> {
    let word = word.trim_end_matches('s');
    Some(match word {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" | "sat" => Weekday::Saturday,
        "sunday" | "sun" => Weekday::Sunday,
        _ => return None,
    })
}

impl RecurringMeeting {
    /// The dates the schedule falls on, from its first day, in order (at most `limit`).
    pub fn dates(&self, limit: usize) -> Vec<Date> {
        let mut dates = Vec::new();
        match self.rule.pattern {
            RecurrencePattern::Weekly { weekday, every } => {
                let mut date = self.starting;
                while date.weekday() != weekday {
                    let Ok(next) = date.tomorrow() else {
                        return dates;
                    };
                    date = next;
                }
                while dates.len() < limit && self.until.is_none_or(|until| date <= until) {
                    dates.push(date);
                    match date.checked_add(jiff::Span::new().weeks(i64::from(every))) {
                        Ok(next) => date = next,
                        Err(_) => break,
                    }
                }
            }
            RecurrencePattern::Monthly {
                nth,
                weekday,
                every,
            } => {
                let first_month = self.starting.first_of_month();
                for step in 0.. {
                    if dates.len() >= limit {
                        break;
                    }
                    let Ok(month) =
                        first_month.checked_add(jiff::Span::new().months(i64::from(every) * step))
                    else {
                        break;
                    };
                    let Ok(date) = month.nth_weekday_of_month(nth, weekday) else {
                        continue;
                    };
                    if self.until.is_some_and(|until| date > until) {
                        break;
                    }
                    if date >= self.starting {
                        dates.push(date);
                    }
                    if step > 10_000 {
                        break;
                    }
                }
            }
        }
        dates
    }

    /// The instant a date of the schedule starts at: the rule's local time on that date in its
    /// zone (where the clocks skip that time, the moment after the skip).
    pub fn start_on(&self, date: Date) -> Option<Timestamp> {
        self.zone
            .to_ambiguous_timestamp(date.to_datetime(self.rule.time))
            .compatible()
            .ok()
    }

    /// The first occurrence starting after `after`, with its date.
    pub fn next_after(&self, after: Timestamp) -> Option<(Date, Timestamp)> {
        let after_date = after.to_zoned_datetime(self.zone.clone()).date();
        // Counting from the first day is cheap (a few hundred dates for decades of monthly
        // meetings) and keeps "every other month" anchored to the schedule's first month.
        self.dates(5_000)
            .into_iter()
            .filter(|date| *date >= after_date.yesterday().unwrap_or(after_date))
            .filter_map(|date| Some((date, self.start_on(date)?)))
            .find(|(_, start)| *start > after)
    }

    /// The key that names one occurrence in the record: the schedule's ID and its date.
    pub fn occurrence_key(&self, date: Date) -> String {
        format!("{}@{date}", self.id)
    }
}

/// Reads a length or lead time such as `90m`, `1h30m`, `1h`, `2 hours`, `7d`, `1 day`, in
/// minutes.
pub fn parse_minutes(text: &str) -> Option<u32> {
    let compact: String = text
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("");
    if compact.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = compact.as_str();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let factor = match unit {
            "m" | "min" | "mins" | "minute" | "minutes" => 1,
            "h" | "hr" | "hrs" | "hour" | "hours" => 60,
            "d" | "day" | "days" => 24 * 60,
            "w" | "week" | "weeks" => 7 * 24 * 60,
            _ => return None,
        };
        total = total.checked_add(value.checked_mul(factor)?)?;
    }
    u32::try_from(total).ok().filter(|minutes| *minutes > 0)
}

/// "7 days", "1 day", "1 hour", "90 minutes": a lead time as a reminder says it.
pub fn describe_minutes(minutes: u32) -> String {
    let plural = |count: u32, unit: &str| {
        if count == 1 {
            format!("1 {unit}")
        } else {
            format!("{count} {unit}s")
        }
    };
    if minutes.is_multiple_of(24 * 60) {
        plural(minutes / (24 * 60), "day")
    } else if minutes.is_multiple_of(60) {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(rule: &str, starting: &str) -> RecurringMeeting {
        let rule = parse_rule(rule).expect("a readable rule");
        let zone_name = rule
            .zone_name
            .clone()
            .unwrap_or_else(|| "Europe/Brussels".into());
        RecurringMeeting {
            id: "regular".into(),
            title: "Regular call".into(),
            zone: TimeZone::get(&zone_name).expect("zone"),
            zone_name,
            rule,
            rule_text: String::new(),
            starting: starting.parse().expect("date"),
            until: None,
            minutes_long: 60,
            mode: None,
            location: None,
        }
    }

    #[test]
    fn lengths_and_lead_times() {
        let cases = [
            ("90m", Some(90)),
            ("1h30m", Some(90)),
            ("1h", Some(60)),
            ("2 hours", Some(120)),
            ("7d", Some(10_080)),
            ("1 day", Some(1_440)),
            ("1w", Some(10_080)),
            ("0m", None),
            ("", None),
            ("h", None),
            ("5x", None),
            ("99999999999d", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_minutes(text), expected, "{text:?}");
        }
        assert_eq!(describe_minutes(10_080), "7 days");
        assert_eq!(describe_minutes(60), "1 hour");
        assert_eq!(describe_minutes(90), "90 minutes");
    }

    #[test]
    fn rules_that_cannot_be_read_say_how_to_write_them() {
        for bad in [
            "second Tuesday",
            "second Tuesday of every other month at 25:00",
            "fifth Tuesday of every month at 14:00",
            "second Tuesday of every 13 months at 14:00",
            "every blursday at 10:00",
            "second Tuesday of every month at 14:00 in Brussels",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad:?}");
        }
    }

    /// The second Tuesday of every other month at 14:00 Brussels time: 13:00 UTC in winter,
    /// 12:00 UTC in summer, the local time never moving across the DST changes of March and
    /// October.
    #[test]
    fn every_other_month_keeps_its_local_time_across_dst() {
        let regular = schedule("second Tuesday of every other month at 14:00", "2026-12-01");
        let starts: Vec<String> = regular
            .dates(6)
            .into_iter()
            .map(|date| regular.start_on(date).expect("a start").to_string())
            .collect();
        assert_eq!(
            starts,
            [
                "2026-12-08T13:00:00Z",
                "2027-02-09T13:00:00Z",
                "2027-04-13T12:00:00Z",
                "2027-06-08T12:00:00Z",
                "2027-08-10T12:00:00Z",
                "2027-10-12T12:00:00Z",
            ]
        );
    }

    #[test]
    fn weekly_last_and_named_zones() {
        let weekly = schedule("every other Thursday at 16:00 UTC", "2026-12-01");
        assert_eq!(
            weekly.dates(3),
            ["2026-12-03", "2026-12-17", "2026-12-31"]
                .map(|date| date.parse::<Date>().expect("date"))
        );
        assert_eq!(
            weekly
                .start_on(weekly.dates(1)[0])
                .expect("start")
                .to_string(),
            "2026-12-03T16:00:00Z"
        );
        let last = schedule("last Friday of every month at 13:00", "2027-03-01");
        // 26 March 2027 is before the change (CET), 30 April after (CEST).
        let starts: Vec<String> = last
            .dates(2)
            .into_iter()
            .map(|date| last.start_on(date).expect("start").to_string())
            .collect();
        assert_eq!(starts, ["2027-03-26T12:00:00Z", "2027-04-30T11:00:00Z"]);
        let after: Timestamp = "2027-03-26T12:00:00Z".parse().expect("instant");
        assert_eq!(
            last.next_after(after).map(|(date, _)| date.to_string()),
            Some("2027-04-30".to_string())
        );
    }
}
