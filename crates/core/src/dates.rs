//! Deadlines as people write them in chat commands and mails, such as `2026-12-10`,
//! `2026-12-20 17:00 Europe/Brussels`, `in 30 days` or `friday`, turned into one exact instant.
//!
//! A deadline has to mean the same instant to everyone in a group that spans many time zones, so
//! this module never guesses. A date without a time of day means the end of that day, in the
//! group's zone or Anywhere on Earth (UTC-12) as the group chooses, because a deadline "on the
//! 10th" is met by anything sent on the 10th. A local time that the clocks skip or pass twice
//! when daylight saving time starts or ends is refused with the reason, rather than silently
//! moved, because an hour's difference on a deadline is exactly the kind of dispute a record
//! keeper exists to prevent. Dates in the past are accepted: whether a past deadline makes sense
//! is the caller's decision, not the reader's.
//!
//! All calendar and time zone arithmetic is done by jiff, with its bundled time zone database;
//! this module only reads the text and picks which jiff operation it asks for.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{Span, Timestamp};

/// Where a date without a time of day ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndOfDay {
    /// At 23:59:59 in the group's own time zone.
    GroupZone,
    /// At 23:59:59 Anywhere on Earth (UTC-12), the last place on Earth where the day is still
    /// that day. Many ICANN and IETF deadlines are given this way.
    AnywhereOnEarth,
}

/// What a deadline is read against: the group's time zone, which gives plain dates and times of
/// day their meaning, and where a date without a time of day ends.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineRules<'a> {
    pub zone: &'a TimeZone,
    pub end_of_day: EndOfDay,
}

/// Why a deadline could not be read. Each message says in plain words what was wrong, so it can
/// be shown to the person who wrote the deadline as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateProblem {
    #[error("no date was given")]
    NoDateGiven,
    #[error("\"{text}\" is not a date I can read")]
    Unreadable { text: String },
    #[error("{date_text} is not a day of the calendar")]
    NotACalendarDay { date_text: String },
    #[error("{time_text} is not a time of day")]
    NotATimeOfDay { time_text: String },
    #[error("{offset_text} is not an offset from UTC I can use; write it like +02:00 or -05:00")]
    NotAnOffset { offset_text: String },
    // The closest known name is looked for only when the problem is shown: a reader that tries
    // several runs of words as a date meets many unknown "zones" that nobody sees, and the
    // search over every zone name made one `!extend` with a reason 48 times slower.
    #[error(
        "\"{zone_name}\" is not a time zone I know; {}",
        unknown_time_zone_advice(closest_known_zone_name(.zone_name).as_deref())
    )]
    UnknownTimeZone { zone_name: String },
    #[error(
        "\"{local_time}\" does not exist in {zone_name}: the clocks skip from {clocks_skip_from} \
         to {clocks_skip_to} that night; pick another time"
    )]
    SkippedLocalTime {
        local_time: String,
        zone_name: String,
        clocks_skip_from: String,
        clocks_skip_to: String,
    },
    #[error(
        "\"{local_time}\" happens twice in {zone_name} (the clocks go back at {clocks_go_back_at}); \
         add the offset, such as {first_occurrence} for the first time or {second_occurrence} \
         for the second"
    )]
    RepeatedLocalTime {
        local_time: String,
        zone_name: String,
        clocks_go_back_at: String,
        first_occurrence: String,
        second_occurrence: String,
    },
    #[error(
        "the offset {written_offset} does not fit {zone_name} at {local_time}, where the offset \
         is {offsets_of_zone}"
    )]
    OffsetDoesNotFitZone {
        local_time: String,
        written_offset: String,
        zone_name: String,
        offsets_of_zone: String,
    },
    #[error("\"{text}\" is further away than any date I can compute")]
    TooFarAway { text: String },
}

/// The accepted forms, one per line, for help texts and error replies. Each line lists examples
/// before " - " and what they mean after it; a test reads every example back through
/// [`parse_deadline`], so this list cannot promise a form the parser does not accept.
pub const ACCEPTED_FORMS: &[&str] = &[
    "2026-12-10 - the end of that day",
    "2026-12-10 17:00 or 2026-12-10T17:00 - that time of day in the group's time zone",
    "2026-12-10T17:00Z or 2026-12-10T17:00+02:00 - that exact moment",
    "2026-12-10 17:00 UTC or 2026-12-10 17:00 Europe/Brussels or 2026-12-10 AoE - \
     that time, or the end of that day, in the named time zone",
    "+10d or +2w or in 10 days or in 2 weeks or tomorrow or today - the end of that day",
    "+3h or in 3 hours - exactly that much later than now",
    "friday or fri or next friday - the end of the next Friday after today",
];

/// Reads a deadline written by a person and returns the instant it means.
///
/// `now` anchors the relative forms (`in 10 days`, `friday`, `+3h`); the rules say which zone
/// plain dates and times are in, and where a date without a time ends. The text is read without
/// regard to case, and surrounding whitespace is ignored. Past instants are returned like any
/// other, because only the caller knows whether the past is acceptable.
pub fn parse_deadline(
    text: &str,
    now: Timestamp,
    rules: &DeadlineRules,
) -> Result<Timestamp, DateProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DateProblem::NoDateGiven);
    }
    let written = read_written_deadline(text)?;
    resolve_written_deadline(written, text, now, rules)
}

/// A deadline as written, before the time zone and the current time give it an instant. Reading
/// and resolving are kept apart so that every way of writing ends in the same few resolutions.
#[derive(Debug)]
enum WrittenDeadline {
    /// `+3h`, `in 3 hours`: an exact duration from now.
    HoursFromNow(i64),
    /// `today`, `tomorrow`, `+10d`, `in 10 days`: the end of a day counted from today.
    DaysFromToday(i64),
    /// `+2w`, `in 2 weeks`: the end of a day counted in weeks of seven days from today.
    WeeksFromToday(i64),
    /// `friday`, `next friday`: the end of the next such day strictly after today.
    NextWeekday(Weekday),
    /// `2026-12-10`, `2026-12-10 17:00 Europe/Brussels` and the other calendar forms.
    Calendar(WrittenCalendarTime),
}

/// A calendar date, possibly with a time of day, an offset and a time zone.
#[derive(Debug)]
struct WrittenCalendarTime {
    date: Date,
    time_of_day: Option<WrittenTimeOfDay>,
    zone: Option<WrittenZone>,
}

/// A time of day, possibly with an offset from UTC. An offset is only read after a time of day,
/// since an offset on a bare date does not say when the day ends.
#[derive(Debug)]
struct WrittenTimeOfDay {
    time: Time,
    offset: Option<Offset>,
}

/// A time zone named in the text, with the name to show in problems.
#[derive(Debug)]
struct WrittenZone {
    zone: TimeZone,
    name_to_show: String,
}

/// The unit of a relative deadline such as `+10d` or `in 3 hours`.
#[derive(Debug, Clone, Copy)]
enum RelativeUnit {
    Hours,
    Days,
    Weeks,
}

fn unreadable(text: &str) -> DateProblem {
    DateProblem::Unreadable {
        text: text.to_string(),
    }
}

fn too_far_away(text: &str) -> DateProblem {
    DateProblem::TooFarAway {
        text: text.to_string(),
    }
}

/// Decides which form the text is written in and reads it. Words are compared in lower case
/// with runs of whitespace made single, so `In  10 Days` reads like `in 10 days`.
fn read_written_deadline(text: &str) -> Result<WrittenDeadline, DateProblem> {
    let normalized = text
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match normalized.as_str() {
        "today" => return Ok(WrittenDeadline::DaysFromToday(0)),
        "tomorrow" => return Ok(WrittenDeadline::DaysFromToday(1)),
        _ => {}
    }
    if let Some(amount_and_unit) = normalized.strip_prefix("in ") {
        return read_amount_and_unit(amount_and_unit, text);
    }
    if let Some(amount_and_unit) = normalized.strip_prefix('+') {
        return read_amount_and_unit(amount_and_unit.trim_start(), text);
    }
    let weekday_name = normalized.strip_prefix("next ").unwrap_or(&normalized);
    if let Some(weekday) = weekday_named(weekday_name) {
        return Ok(WrittenDeadline::NextWeekday(weekday));
    }
    if text.starts_with(|character: char| character.is_ascii_digit()) {
        return read_calendar_time(text).map(WrittenDeadline::Calendar);
    }
    Err(unreadable(text))
}

/// Reads the `10 days` of `in 10 days` or the `10d` of `+10d`. Only digits are accepted for the
/// amount: `in ten days` is refused rather than half understood.
fn read_amount_and_unit(amount_and_unit: &str, text: &str) -> Result<WrittenDeadline, DateProblem> {
    let digits_end = amount_and_unit
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(amount_and_unit.len());
    let (digits, unit_name) = amount_and_unit.split_at(digits_end);
    if digits.is_empty() {
        return Err(unreadable(text));
    }
    let unit = match unit_name.trim_start() {
        "h" | "hr" | "hrs" | "hour" | "hours" => RelativeUnit::Hours,
        "d" | "day" | "days" => RelativeUnit::Days,
        "w" | "wk" | "wks" | "week" | "weeks" => RelativeUnit::Weeks,
        _ => return Err(unreadable(text)),
    };
    // The amount is only digits, so the one way parsing can fail is a number too large to hold.
    let amount: i64 = digits.parse().map_err(|_| too_far_away(text))?;
    Ok(match unit {
        RelativeUnit::Hours => WrittenDeadline::HoursFromNow(amount),
        RelativeUnit::Days => WrittenDeadline::DaysFromToday(amount),
        RelativeUnit::Weeks => WrittenDeadline::WeeksFromToday(amount),
    })
}

/// The weekday a lower-case English name or three-letter abbreviation stands for.
fn weekday_named(name: &str) -> Option<Weekday> {
    let weekday = match name {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" | "tues" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" | "sat" => Weekday::Saturday,
        "sunday" | "sun" => Weekday::Sunday,
        _ => return None,
    };
    Some(weekday)
}

/// A position in ASCII text being read from left to right. Only ASCII bytes are ever stepped
/// over, so every position is a character boundary and slicing cannot panic.
struct TextCursor<'text> {
    text: &'text str,
    position: usize,
}

impl<'text> TextCursor<'text> {
    fn new(text: &'text str) -> Self {
        TextCursor { text, position: 0 }
    }

    fn rest(&self) -> &'text str {
        &self.text[self.position..]
    }

    fn read_so_far(&self) -> &'text str {
        &self.text[..self.position]
    }

    fn is_at_end(&self) -> bool {
        self.position == self.text.len()
    }

    fn next_byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position).copied()
    }

    fn byte_after_next(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position + 1).copied()
    }

    fn previous_byte(&self) -> Option<u8> {
        self.position
            .checked_sub(1)
            .and_then(|previous| self.text.as_bytes().get(previous).copied())
    }

    /// Steps over the next byte if it is one of `wanted`, and says which one it was.
    fn take_one_of(&mut self, wanted: &[u8]) -> Option<u8> {
        let byte = self.next_byte().filter(|byte| wanted.contains(byte))?;
        self.position += 1;
        Some(byte)
    }

    /// Steps over between `fewest` and `most` ASCII digits and returns them, or steps over
    /// nothing when there are fewer than `fewest`.
    fn take_digits(&mut self, fewest: usize, most: usize) -> Option<&'text str> {
        let start = self.position;
        let count = self
            .rest()
            .bytes()
            .take(most)
            .take_while(u8::is_ascii_digit)
            .count();
        if count < fewest {
            return None;
        }
        self.position += count;
        Some(&self.text[start..self.position])
    }

    /// Steps over ASCII whitespace and says whether there was any.
    fn skip_whitespace(&mut self) -> bool {
        let count = self
            .rest()
            .bytes()
            .take_while(u8::is_ascii_whitespace)
            .count();
        self.position += count;
        count > 0
    }
}

/// Parses at most four ASCII digits, which always fit.
fn small_number<Number: std::str::FromStr>(digits: &str) -> Option<Number> {
    digits.parse().ok()
}

/// Reads `2026-12-10`, optionally followed by a time of day (after a space or `T`), an offset
/// (`Z`, `+02:00`, `-0500`) and a time zone (`UTC`, `AoE`, `Europe/Brussels` or
/// `[Europe/Brussels]`). A date or time that has the right shape but names no real day or time,
/// such as `2026-02-30` or `25:00`, gets its own problem, since "not a date I can read" would
/// send the writer looking for a typing mistake that is not there.
fn read_calendar_time(text: &str) -> Result<WrittenCalendarTime, DateProblem> {
    let mut cursor = TextCursor::new(text);
    let year = cursor.take_digits(4, 4).ok_or_else(|| unreadable(text))?;
    cursor.take_one_of(b"-").ok_or_else(|| unreadable(text))?;
    let month = cursor.take_digits(1, 2).ok_or_else(|| unreadable(text))?;
    cursor.take_one_of(b"-").ok_or_else(|| unreadable(text))?;
    let day = cursor.take_digits(1, 2).ok_or_else(|| unreadable(text))?;
    let date_text = cursor.read_so_far();
    let not_a_calendar_day = || DateProblem::NotACalendarDay {
        date_text: date_text.to_string(),
    };
    let date = match (small_number(year), small_number(month), small_number(day)) {
        (Some(year), Some(month), Some(day)) => {
            Date::new(year, month, day).map_err(|_| not_a_calendar_day())?
        }
        _ => return Err(not_a_calendar_day()),
    };
    let mut written = WrittenCalendarTime {
        date,
        time_of_day: None,
        zone: None,
    };
    if cursor.is_at_end() {
        return Ok(written);
    }

    let separated_by_letter_t = cursor.take_one_of(b"Tt").is_some();
    if !separated_by_letter_t && !cursor.skip_whitespace() {
        return Err(unreadable(text));
    }
    if cursor.next_byte().is_some_and(|byte| byte.is_ascii_digit()) {
        let time = read_time_of_day(&mut cursor, text)?;
        cursor.skip_whitespace();
        let offset = read_offset(&mut cursor, text)?;
        written.time_of_day = Some(WrittenTimeOfDay { time, offset });
    } else if separated_by_letter_t {
        return Err(unreadable(text));
    }

    cursor.skip_whitespace();
    if cursor.is_at_end() {
        return Ok(written);
    }
    // A zone name has to stand apart from what comes before it, as in `17:00 UTC` or
    // `17:00[Europe/Brussels]`; `17:00UTC` is more likely a mistake than a zone.
    let zone_stands_apart = cursor.next_byte() == Some(b'[')
        || cursor
            .previous_byte()
            .is_some_and(|byte| byte.is_ascii_whitespace());
    if !zone_stands_apart {
        return Err(unreadable(text));
    }
    written.zone = Some(read_zone(cursor.rest(), text)?);
    Ok(written)
}

/// Reads `17:00` or `17:00:30`.
fn read_time_of_day(cursor: &mut TextCursor, text: &str) -> Result<Time, DateProblem> {
    let start = cursor.position;
    let hour = cursor.take_digits(1, 2).ok_or_else(|| unreadable(text))?;
    cursor.take_one_of(b":").ok_or_else(|| unreadable(text))?;
    let minute = cursor.take_digits(2, 2).ok_or_else(|| unreadable(text))?;
    let second = match cursor.take_one_of(b":") {
        Some(_) => cursor.take_digits(2, 2).ok_or_else(|| unreadable(text))?,
        None => "0",
    };
    let not_a_time_of_day = || DateProblem::NotATimeOfDay {
        time_text: text[start..cursor.position].to_string(),
    };
    match (
        small_number(hour),
        small_number(minute),
        small_number(second),
    ) {
        (Some(hour), Some(minute), Some(second)) => {
            Time::new(hour, minute, second, 0).map_err(|_| not_a_time_of_day())
        }
        _ => Err(not_a_time_of_day()),
    }
}

/// Reads an optional offset after a time of day: `Z`, `+02:00`, `+0200`, `+2` or `-05:30`.
/// `Z` only counts as an offset when it stands alone, so that a zone such as `Zulu` is still
/// read as a zone name.
fn read_offset(cursor: &mut TextCursor, text: &str) -> Result<Option<Offset>, DateProblem> {
    let letter_z_stands_alone = matches!(cursor.next_byte(), Some(b'Z' | b'z'))
        && cursor
            .byte_after_next()
            .is_none_or(|byte| byte.is_ascii_whitespace() || byte == b'[');
    if letter_z_stands_alone {
        cursor.take_one_of(b"Zz");
        return Ok(Some(Offset::UTC));
    }
    let start = cursor.position;
    let Some(sign) = cursor.take_one_of(b"+-") else {
        return Ok(None);
    };
    let hours = cursor.take_digits(1, 2).ok_or_else(|| unreadable(text))?;
    let minutes = match cursor.take_one_of(b":") {
        Some(_) => cursor.take_digits(2, 2).ok_or_else(|| unreadable(text))?,
        None => cursor.take_digits(2, 2).unwrap_or("0"),
    };
    if cursor
        .next_byte()
        .is_some_and(|byte| !byte.is_ascii_whitespace() && byte != b'[')
    {
        return Err(unreadable(text));
    }
    let not_an_offset = || DateProblem::NotAnOffset {
        offset_text: text[start..cursor.position].to_string(),
    };
    let (Some(hours), Some(minutes)) = (small_number::<i32>(hours), small_number::<i32>(minutes))
    else {
        return Err(not_an_offset());
    };
    if minutes > 59 {
        return Err(not_an_offset());
    }
    let direction = if sign == b'-' { -1 } else { 1 };
    // Turning hours and minutes into the seconds jiff counts offsets in is a change of unit, not
    // calendar arithmetic; jiff itself checks that the offset is within its range.
    Offset::from_seconds(direction * (hours * 3600 + minutes * 60))
        .map(Some)
        .map_err(|_| not_an_offset())
}

/// The fixed zone of Anywhere on Earth: UTC-12 all year, with no daylight saving time.
fn anywhere_on_earth_zone() -> TimeZone {
    TimeZone::fixed(Offset::constant(-12))
}

/// Reads the time zone at the end of a calendar deadline: `UTC`, `Z`, `AoE`, an IANA name such
/// as `Europe/Brussels`, or any of these in square brackets as RFC 9557 writes them.
fn read_zone(zone_text: &str, text: &str) -> Result<WrittenZone, DateProblem> {
    let zone_name = match zone_text.strip_prefix('[') {
        Some(bracketed) => bracketed
            .strip_suffix(']')
            .ok_or_else(|| unreadable(text))?,
        None => zone_text,
    };
    let looks_like_a_zone_name = zone_name
        .starts_with(|character: char| character.is_ascii_alphabetic())
        && zone_name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'_' | b'-' | b'+'));
    // "5:00 pm" is a twelve-hour clock, which is not accepted; saying that "pm" is an unknown
    // time zone would only confuse.
    let is_twelve_hour_clock_suffix =
        zone_name.eq_ignore_ascii_case("am") || zone_name.eq_ignore_ascii_case("pm");
    if !looks_like_a_zone_name || is_twelve_hour_clock_suffix {
        return Err(unreadable(text));
    }
    if zone_name.eq_ignore_ascii_case("aoe") {
        return Ok(WrittenZone {
            zone: anywhere_on_earth_zone(),
            name_to_show: "AoE (UTC-12)".to_string(),
        });
    }
    if zone_name.eq_ignore_ascii_case("z") {
        return Ok(WrittenZone {
            zone: TimeZone::UTC,
            name_to_show: "UTC".to_string(),
        });
    }
    match TimeZone::get(zone_name) {
        Ok(zone) if !zone.is_unknown() => {
            let name_to_show = zone.iana_name().unwrap_or(zone_name).to_string();
            Ok(WrittenZone { zone, name_to_show })
        }
        _ => Err(DateProblem::UnknownTimeZone {
            zone_name: zone_name.to_string(),
        }),
    }
}

/// The known zone name most like an unknown one, such as `Europe/Brussels` for
/// `Europe/Bruxelles` or for `Brussels`, so the problem can say what was probably meant. The
/// last part of each name is compared too, since people often write just the city.
fn closest_known_zone_name(unknown_zone_name: &str) -> Option<String> {
    let wanted = unknown_zone_name.to_ascii_lowercase();
    jiff::tz::db()
        .available()
        .map(|known_name| {
            let known_name = known_name.as_str().to_string();
            let known_lowercase = known_name.to_ascii_lowercase();
            let known_city = known_lowercase.rsplit('/').next().unwrap_or_default();
            let likeness = strsim::normalized_damerau_levenshtein(&wanted, &known_lowercase)
                .max(strsim::normalized_damerau_levenshtein(&wanted, known_city));
            (likeness, known_name)
        })
        .filter(|(likeness, _)| *likeness >= 0.75)
        .max_by(|(first, _), (second, _)| first.total_cmp(second))
        .map(|(_, known_name)| known_name)
}

fn unknown_time_zone_advice(closest_known_zone_name: Option<&str>) -> String {
    match closest_known_zone_name {
        Some(name) => format!("did you mean {name}?"),
        None => "use a name such as UTC or Europe/Brussels".to_string(),
    }
}

/// Gives a written deadline its instant, using the group's zone for "today" and for times
/// without a zone.
fn resolve_written_deadline(
    written: WrittenDeadline,
    text: &str,
    now: Timestamp,
    rules: &DeadlineRules,
) -> Result<Timestamp, DateProblem> {
    // "Today" is the group's today, whichever end-of-day rule applies: a group in Brussels that
    // ends its days Anywhere on Earth still counts "in 10 days" from its own calendar.
    let today = rules.zone.to_datetime(now).date();
    let day_after_days = |span: Result<Span, jiff::Error>| {
        span.and_then(|span| today.checked_add(span))
            .map_err(|_| too_far_away(text))
    };
    match written {
        WrittenDeadline::HoursFromNow(hours) => Span::new()
            .try_hours(hours)
            .and_then(|span| now.checked_add(span))
            .map_err(|_| too_far_away(text)),
        WrittenDeadline::DaysFromToday(days) => {
            let day = day_after_days(Span::new().try_days(days))?;
            end_of_day_under_rules(day, rules, text)
        }
        WrittenDeadline::WeeksFromToday(weeks) => {
            let day = day_after_days(Span::new().try_weeks(weeks))?;
            end_of_day_under_rules(day, rules, text)
        }
        WrittenDeadline::NextWeekday(weekday) => {
            // `nth_weekday(1, …)` never counts the day it starts from, so a Friday's "friday"
            // is the Friday of next week.
            let day = today
                .nth_weekday(1, weekday)
                .map_err(|_| too_far_away(text))?;
            end_of_day_under_rules(day, rules, text)
        }
        WrittenDeadline::Calendar(calendar) => resolve_calendar_time(calendar, text, rules),
    }
}

fn resolve_calendar_time(
    calendar: WrittenCalendarTime,
    text: &str,
    rules: &DeadlineRules,
) -> Result<Timestamp, DateProblem> {
    let Some(time_of_day) = calendar.time_of_day else {
        // A bare date ends where the group says days end; a date with a zone ends in that zone,
        // because the writer said which zone they meant.
        return match calendar.zone {
            Some(written_zone) => end_of_day_in_zone(calendar.date, &written_zone.zone, text),
            None => end_of_day_under_rules(calendar.date, rules, text),
        };
    };
    let local_time = calendar.date.to_datetime(time_of_day.time);
    match (calendar.zone, time_of_day.offset) {
        (Some(written_zone), offset) => resolve_local_time(
            local_time,
            &written_zone.zone,
            &written_zone.name_to_show,
            offset,
            text,
        ),
        // An offset alone names one exact instant, whatever the group's zone does at that hour.
        (None, Some(offset)) => offset
            .to_timestamp(local_time)
            .map_err(|_| too_far_away(text)),
        (None, None) => resolve_local_time(
            local_time,
            rules.zone,
            &group_zone_name(rules.zone),
            None,
            text,
        ),
    }
}

fn group_zone_name(zone: &TimeZone) -> String {
    zone.iana_name()
        .unwrap_or("the group's time zone")
        .to_string()
}

/// Turns a local time in a zone into an instant, refusing a time the clocks skip or pass twice.
/// An offset written with the time settles a repeated time when it is one of the zone's two
/// offsets there; an offset the zone does not use at that time is refused, since one of the two
/// must then be a mistake.
fn resolve_local_time(
    local_time: DateTime,
    zone: &TimeZone,
    zone_name: &str,
    written_offset: Option<Offset>,
    text: &str,
) -> Result<Timestamp, DateProblem> {
    let offset_does_not_fit =
        |written_offset: Offset, offsets_of_zone: String| DateProblem::OffsetDoesNotFitZone {
            local_time: local_time_text(local_time),
            written_offset: offset_text(written_offset),
            zone_name: zone_name.to_string(),
            offsets_of_zone,
        };
    let chosen_offset = match (
        zone.to_ambiguous_timestamp(local_time).offset(),
        written_offset,
    ) {
        (AmbiguousOffset::Unambiguous { offset }, None) => offset,
        (AmbiguousOffset::Unambiguous { offset }, Some(written_offset)) => {
            if written_offset != offset {
                return Err(offset_does_not_fit(written_offset, offset_text(offset)));
            }
            offset
        }
        (AmbiguousOffset::Gap { before, after }, _) => {
            let (clocks_skip_from, clocks_skip_to) =
                clock_readings_at_change(local_time, zone, before, after);
            return Err(DateProblem::SkippedLocalTime {
                local_time: local_time_text(local_time),
                zone_name: zone_name.to_string(),
                clocks_skip_from,
                clocks_skip_to,
            });
        }
        (AmbiguousOffset::Fold { before, after }, None) => {
            let (clocks_go_back_at, _) = clock_readings_at_change(local_time, zone, before, after);
            return Err(DateProblem::RepeatedLocalTime {
                local_time: local_time_text(local_time),
                zone_name: zone_name.to_string(),
                clocks_go_back_at,
                first_occurrence: local_time_with_offset_text(local_time, before),
                second_occurrence: local_time_with_offset_text(local_time, after),
            });
        }
        (AmbiguousOffset::Fold { before, after }, Some(written_offset)) => {
            if written_offset != before && written_offset != after {
                let offsets_of_zone = format!("{} or {}", offset_text(before), offset_text(after));
                return Err(offset_does_not_fit(written_offset, offsets_of_zone));
            }
            written_offset
        }
    };
    chosen_offset
        .to_timestamp(local_time)
        .map_err(|_| too_far_away(text))
}

/// What the clocks read just before and just after the change that skips or repeats
/// `local_time`, such as ("02:00", "03:00") for a spring-forward night in Brussels.
///
/// The change is the zone's first transition after the earlier of the two instants the local
/// time could mean, which is the local time read with the larger of the two offsets.
fn clock_readings_at_change(
    local_time: DateTime,
    zone: &TimeZone,
    offset_before: Offset,
    offset_after: Offset,
) -> (String, String) {
    let transition = offset_before
        .max(offset_after)
        .to_timestamp(local_time)
        .ok()
        .and_then(|earlier_instant| zone.following(earlier_instant).next())
        .map(|transition| transition.timestamp());
    match transition {
        Some(transition) => (
            clock_reading_text(offset_before.to_datetime(transition)),
            clock_reading_text(offset_after.to_datetime(transition)),
        ),
        // jiff reports gaps and folds from the same transitions this looks up, so there is
        // always one; should there not be, the written time is the best remaining description.
        None => (
            clock_reading_text(local_time),
            clock_reading_text(local_time),
        ),
    }
}

/// `17:00`, or `17:00:30` when the seconds matter.
fn clock_reading_text(datetime: DateTime) -> String {
    if datetime.second() == 0 {
        datetime.strftime("%H:%M").to_string()
    } else {
        datetime.strftime("%H:%M:%S").to_string()
    }
}

/// `2026-10-25 02:30`, the way people write a local time in commands.
fn local_time_text(datetime: DateTime) -> String {
    format!(
        "{} {}",
        datetime.date().strftime("%Y-%m-%d"),
        clock_reading_text(datetime)
    )
}

/// `2026-10-25T02:30+02:00`, a local time with the offset that makes it one instant, written the
/// way this module reads it back.
fn local_time_with_offset_text(datetime: DateTime, offset: Offset) -> String {
    format!(
        "{}T{}{}",
        datetime.date().strftime("%Y-%m-%d"),
        clock_reading_text(datetime),
        offset_text(offset)
    )
}

/// `+02:00`. jiff's own display of an offset drops zero minutes (`+02`), which people reading
/// a problem would then copy into an offset of a different shape.
fn offset_text(offset: Offset) -> String {
    Timestamp::UNIX_EPOCH
        .to_zoned_datetime(TimeZone::fixed(offset))
        .strftime("%:z")
        .to_string()
}

/// The last second of `day` under the group's end-of-day rule.
fn end_of_day_under_rules(
    day: Date,
    rules: &DeadlineRules,
    text: &str,
) -> Result<Timestamp, DateProblem> {
    match rules.end_of_day {
        EndOfDay::GroupZone => end_of_day_in_zone(day, rules.zone, text),
        EndOfDay::AnywhereOnEarth => end_of_day_in_zone(day, &anywhere_on_earth_zone(), text),
    }
}

/// The last second of `day` in `zone`: 23:59:59 local time, computed by jiff, so days of 23 or
/// 25 hours end at the right instant.
///
/// 23:59:59 exists once in every real zone today. Should a zone ever skip or repeat it, the
/// instant is chosen the way jiff's own end of day chooses it: in a skip, the instant before the
/// skip, which is still in the day; in a repeat, the second instant, which is the later one.
fn end_of_day_in_zone(day: Date, zone: &TimeZone, text: &str) -> Result<Timestamp, DateProblem> {
    let last_second = day.at(23, 59, 59, 0);
    let offset = match zone.to_ambiguous_timestamp(last_second).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { after, .. } | AmbiguousOffset::Fold { after, .. } => after,
    };
    offset
        .to_timestamp(last_second)
        .map_err(|_| too_far_away(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a case expects: the instant in RFC 3339, or a piece of the problem's message.
    enum Expected {
        Instant(&'static str),
        Problem(&'static str),
    }
    use Expected::{Instant, Problem};

    /// One row of a table: the text as written, the current time, the group's zone, where the
    /// group's days end, and what should come out.
    struct Case {
        text: &'static str,
        now: &'static str,
        zone: &'static str,
        end_of_day: EndOfDay,
        expected: Expected,
    }

    const BRUSSELS: &str = "Europe/Brussels";
    const LOS_ANGELES: &str = "America/Los_Angeles";
    /// A Tuesday, 11:00 in Brussels and 02:00 in Los Angeles.
    const TUESDAY_1_DECEMBER: &str = "2026-12-01T10:00:00Z";
    /// A Friday, 11:00 in Brussels and 02:00 in Los Angeles.
    const FRIDAY_4_DECEMBER: &str = "2026-12-04T10:00:00Z";

    /// A case read on Tuesday 1 December 2026, with days ending in the group's zone.
    fn case(text: &'static str, zone: &'static str, expected: Expected) -> Case {
        Case {
            text,
            now: TUESDAY_1_DECEMBER,
            zone,
            end_of_day: EndOfDay::GroupZone,
            expected,
        }
    }

    /// A case read at another moment.
    fn case_at(
        text: &'static str,
        now: &'static str,
        zone: &'static str,
        expected: Expected,
    ) -> Case {
        Case {
            now,
            ..case(text, zone, expected)
        }
    }

    /// A case for a group whose days end Anywhere on Earth.
    fn case_anywhere_on_earth(text: &'static str, zone: &'static str, expected: Expected) -> Case {
        Case {
            end_of_day: EndOfDay::AnywhereOnEarth,
            ..case(text, zone, expected)
        }
    }

    /// Runs every case and reports all that fail at once, so one wrong row does not hide others.
    fn check_table(cases: &[Case]) {
        let mut failures = Vec::new();
        for case in cases {
            let zone = TimeZone::get(case.zone).expect("the test's zone exists");
            let now: Timestamp = case.now.parse().expect("the test's now is an instant");
            let rules = DeadlineRules {
                zone: &zone,
                end_of_day: case.end_of_day,
            };
            let result = parse_deadline(case.text, now, &rules);
            let matches = match (&case.expected, &result) {
                (Instant(expected), Ok(instant)) => {
                    let expected: Timestamp = expected.parse().expect("expected is an instant");
                    *instant == expected
                }
                (Problem(expected), Err(problem)) => problem.to_string().contains(expected),
                _ => false,
            };
            if !matches {
                let expected = match case.expected {
                    Instant(instant) => format!("the instant {instant}"),
                    Problem(problem) => format!("a problem containing {problem:?}"),
                };
                let got = match result {
                    Ok(instant) => format!("the instant {instant}"),
                    Err(problem) => format!("the problem {:?}", problem.to_string()),
                };
                failures.push(format!(
                    "{:?} at {} in {} ({:?}): expected {expected}, got {got}",
                    case.text, case.now, case.zone, case.end_of_day
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "failing cases:\n{}",
            failures.join("\n")
        );
    }

    // The tables below keep one case to a line, which rustfmt would otherwise spread over five.

    #[test]
    #[rustfmt::skip]
    fn dates_end_at_the_end_of_the_day() {
        check_table(&[
            case("2026-12-10", BRUSSELS, Instant("2026-12-10T22:59:59Z")),
            case("  2026-12-10\t", BRUSSELS, Instant("2026-12-10T22:59:59Z")),
            case("2026-2-3", BRUSSELS, Instant("2026-02-03T22:59:59Z")),
            case("2026-07-10", BRUSSELS, Instant("2026-07-10T21:59:59Z")),
            case("2026-12-10", LOS_ANGELES, Instant("2026-12-11T07:59:59Z")),
            case("2026-07-10", LOS_ANGELES, Instant("2026-07-11T06:59:59Z")),
            case("2026-12-10", "UTC", Instant("2026-12-10T23:59:59Z")),
            // The last day of summer time in Brussels has 25 hours and the first has 23; both
            // still end at 23:59:59 local.
            case("2026-10-25", BRUSSELS, Instant("2026-10-25T22:59:59Z")),
            case("2026-03-29", BRUSSELS, Instant("2026-03-29T21:59:59Z")),
            // Anywhere on Earth is UTC-12, so its 23:59:59 is 11:59:59 UTC the next day.
            case_anywhere_on_earth("2026-12-10", BRUSSELS, Instant("2026-12-11T11:59:59Z")),
            case_anywhere_on_earth("2026-12-10", LOS_ANGELES, Instant("2026-12-11T11:59:59Z")),
            // Past dates are the caller's business.
            case("2020-01-01", BRUSSELS, Instant("2020-01-01T22:59:59Z")),
            case("2024-02-29", BRUSSELS, Instant("2024-02-29T22:59:59Z")),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn dates_with_times_are_local_to_the_group() {
        check_table(&[
            case("2026-12-10 17:00", BRUSSELS, Instant("2026-12-10T16:00:00Z")),
            case("2026-12-10T17:00", BRUSSELS, Instant("2026-12-10T16:00:00Z")),
            case("2026-12-10t17:00:30", BRUSSELS, Instant("2026-12-10T16:00:30Z")),
            case("2026-12-10   9:05", BRUSSELS, Instant("2026-12-10T08:05:00Z")),
            case("2026-07-10 17:00", BRUSSELS, Instant("2026-07-10T15:00:00Z")),
            case("2026-12-10 17:00", LOS_ANGELES, Instant("2026-12-11T01:00:00Z")),
            case("2026-07-10 17:00", LOS_ANGELES, Instant("2026-07-11T00:00:00Z")),
            // A time of day is exact, so the end-of-day rule does not touch it.
            case_anywhere_on_earth("2026-12-10 17:00", BRUSSELS, Instant("2026-12-10T16:00:00Z")),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn offsets_and_named_zones_are_honoured() {
        check_table(&[
            case("2026-12-10T17:00Z", BRUSSELS, Instant("2026-12-10T17:00:00Z")),
            case("2026-12-10 17:00 z", LOS_ANGELES, Instant("2026-12-10T17:00:00Z")),
            case("2026-12-10T17:00+02:00", BRUSSELS, Instant("2026-12-10T15:00:00Z")),
            // An offset alone is one exact instant, whatever the group's zone.
            case("2026-12-10T17:00+02:00", LOS_ANGELES, Instant("2026-12-10T15:00:00Z")),
            case("2026-12-10T17:00+0530", BRUSSELS, Instant("2026-12-10T11:30:00Z")),
            case("2026-12-10 17:00 -05:00", BRUSSELS, Instant("2026-12-10T22:00:00Z")),
            case("2026-12-10 17:00 UTC", BRUSSELS, Instant("2026-12-10T17:00:00Z")),
            case("2026-12-10 17:00 utc", LOS_ANGELES, Instant("2026-12-10T17:00:00Z")),
            case("2026-12-10 17:00 Europe/Brussels", LOS_ANGELES, Instant("2026-12-10T16:00:00Z")),
            case("2026-12-10 17:00 EUROPE/BRUSSELS", "UTC", Instant("2026-12-10T16:00:00Z")),
            case("2026-12-10 17:00 America/Los_Angeles", BRUSSELS, Instant("2026-12-11T01:00:00Z")),
            case("2026-12-10T17:00[Europe/Brussels]", "UTC", Instant("2026-12-10T16:00:00Z")),
            case("2026-12-10T17:00+01:00[Europe/Brussels]", "UTC", Instant("2026-12-10T16:00:00Z")),
            case("2026-12-10 17:00 AoE", BRUSSELS, Instant("2026-12-11T05:00:00Z")),
            // A date with a zone ends in that zone, whatever the group's rule.
            case("2026-12-10 AoE", BRUSSELS, Instant("2026-12-11T11:59:59Z")),
            case("2026-12-10 Europe/Brussels", LOS_ANGELES, Instant("2026-12-10T22:59:59Z")),
            case_anywhere_on_earth("2026-12-10 UTC", BRUSSELS, Instant("2026-12-10T23:59:59Z")),
            // A zone and an offset that disagree cannot both be right.
            case("2026-12-10T17:00+02:00[Europe/Brussels]", "UTC", Problem("the offset +02:00 does not fit Europe/Brussels at 2026-12-10 17:00, where the offset is +01:00")),
            case("2026-12-10 17:00 Europe/Bruxelles", BRUSSELS, Problem("\"Europe/Bruxelles\" is not a time zone I know; did you mean Europe/Brussels?")),
            case("2026-12-10 17:00 Brussels", BRUSSELS, Problem("did you mean Europe/Brussels?")),
            case("2026-12-10 17:00 Mars/Olympus_Mons", BRUSSELS, Problem("\"Mars/Olympus_Mons\" is not a time zone I know")),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn times_the_clocks_skip_or_repeat_are_refused() {
        check_table(&[
            // Brussels springs forward from 02:00 to 03:00 on 29 March 2026.
            case("2026-03-29 02:30", BRUSSELS, Problem("\"2026-03-29 02:30\" does not exist in Europe/Brussels")),
            case("2026-03-29T02:30 Europe/Brussels", LOS_ANGELES, Problem("does not exist in Europe/Brussels")),
            case("2026-03-29T02:30+02:00[Europe/Brussels]", "UTC", Problem("does not exist in Europe/Brussels")),
            case("2026-03-29 01:59:59", BRUSSELS, Instant("2026-03-29T00:59:59Z")),
            case("2026-03-29 03:00", BRUSSELS, Instant("2026-03-29T01:00:00Z")),
            // And falls back from 03:00 to 02:00 on 25 October 2026.
            case("2026-10-25 02:30", BRUSSELS, Problem("\"2026-10-25 02:30\" happens twice in Europe/Brussels")),
            case("2026-10-25T02:30+02:00", BRUSSELS, Instant("2026-10-25T00:30:00Z")),
            case("2026-10-25T02:30+01:00", BRUSSELS, Instant("2026-10-25T01:30:00Z")),
            case("2026-10-25T02:30+02:00[Europe/Brussels]", "UTC", Instant("2026-10-25T00:30:00Z")),
            case("2026-10-25T02:30+01:00 Europe/Brussels", "UTC", Instant("2026-10-25T01:30:00Z")),
            case("2026-10-25T02:30+05:00[Europe/Brussels]", "UTC", Problem("where the offset is +02:00 or +01:00")),
            case("2026-10-25 01:59", BRUSSELS, Instant("2026-10-24T23:59:00Z")),
            case("2026-10-25 03:00", BRUSSELS, Instant("2026-10-25T02:00:00Z")),
            // Los Angeles changes at 02:00 local on 8 March and 1 November 2026.
            case("2026-03-08 02:30", LOS_ANGELES, Problem("the clocks skip from 02:00 to 03:00")),
            case("2026-11-01 01:30", LOS_ANGELES, Problem("(the clocks go back at 02:00); add the offset, such as 2026-11-01T01:30-07:00")),
            case("2026-11-01T01:30-08:00", LOS_ANGELES, Instant("2026-11-01T09:30:00Z")),
            // A zone given by offset has no skipped or repeated hours.
            case("2026-03-29 02:30 UTC", BRUSSELS, Instant("2026-03-29T02:30:00Z")),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn relative_deadlines_count_from_now_in_the_group_zone() {
        check_table(&[
            case("+10d", BRUSSELS, Instant("2026-12-11T22:59:59Z")),
            case("in 10 days", BRUSSELS, Instant("2026-12-11T22:59:59Z")),
            case("  IN  10   Days ", BRUSSELS, Instant("2026-12-11T22:59:59Z")),
            case("+ 10 days", BRUSSELS, Instant("2026-12-11T22:59:59Z")),
            case("+2w", BRUSSELS, Instant("2026-12-15T22:59:59Z")),
            case("in 2 weeks", BRUSSELS, Instant("2026-12-15T22:59:59Z")),
            case("in 1 day", BRUSSELS, Instant("2026-12-02T22:59:59Z")),
            case("in 0 days", BRUSSELS, Instant("2026-12-01T22:59:59Z")),
            case("tomorrow", BRUSSELS, Instant("2026-12-02T22:59:59Z")),
            case("Today", BRUSSELS, Instant("2026-12-01T22:59:59Z")),
            case("+10d", LOS_ANGELES, Instant("2026-12-12T07:59:59Z")),
            // Hours are exact durations, not local clock readings, even across a change.
            case("+3h", BRUSSELS, Instant("2026-12-01T13:00:00Z")),
            case("in 3 hours", LOS_ANGELES, Instant("2026-12-01T13:00:00Z")),
            case("in 1 hour", BRUSSELS, Instant("2026-12-01T11:00:00Z")),
            case_at("+3h", "2026-03-29T00:30:00Z", BRUSSELS, Instant("2026-03-29T03:30:00Z")),
            // "Today" is the group's date: 00:30 on the 2nd in Brussels is the 1st in Los Angeles.
            case_at("today", "2026-12-01T23:30:00Z", BRUSSELS, Instant("2026-12-02T22:59:59Z")),
            case_at("today", "2026-12-01T23:30:00Z", LOS_ANGELES, Instant("2026-12-02T07:59:59Z")),
            // Across the autumn and spring changes the deadline still ends at 23:59:59 local.
            case_at("in 10 days", "2026-10-20T10:00:00Z", BRUSSELS, Instant("2026-10-30T22:59:59Z")),
            case_at("+1w", "2026-03-25T10:00:00Z", BRUSSELS, Instant("2026-04-01T21:59:59Z")),
            case_at("in 10 days", "2026-03-01T20:00:00Z", LOS_ANGELES, Instant("2026-03-12T06:59:59Z")),
            case_anywhere_on_earth("+10d", BRUSSELS, Instant("2026-12-12T11:59:59Z")),
            case_anywhere_on_earth("today", BRUSSELS, Instant("2026-12-02T11:59:59Z")),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn weekdays_mean_the_next_such_day_after_today() {
        check_table(&[
            case("friday", BRUSSELS, Instant("2026-12-04T22:59:59Z")),
            case("Fri", BRUSSELS, Instant("2026-12-04T22:59:59Z")),
            case("next friday", BRUSSELS, Instant("2026-12-04T22:59:59Z")),
            case("monday", BRUSSELS, Instant("2026-12-07T22:59:59Z")),
            case("wed", BRUSSELS, Instant("2026-12-02T22:59:59Z")),
            // Today is Tuesday, so "tuesday" is next week's.
            case("tuesday", BRUSSELS, Instant("2026-12-08T22:59:59Z")),
            case_at("friday", FRIDAY_4_DECEMBER, BRUSSELS, Instant("2026-12-11T22:59:59Z")),
            case_at("next Friday", FRIDAY_4_DECEMBER, BRUSSELS, Instant("2026-12-11T22:59:59Z")),
            // 07:30 UTC on Friday is still Thursday evening in Los Angeles.
            case_at("friday", "2026-12-04T07:30:00Z", LOS_ANGELES, Instant("2026-12-05T07:59:59Z")),
            case_at("friday", "2026-12-04T07:30:00Z", BRUSSELS, Instant("2026-12-11T22:59:59Z")),
            Case { now: FRIDAY_4_DECEMBER, ..case_anywhere_on_earth("sat", BRUSSELS, Instant("2026-12-06T11:59:59Z")) },
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn unreadable_text_gives_a_problem() {
        check_table(&[
            case("", BRUSSELS, Problem("no date was given")),
            case("   ", BRUSSELS, Problem("no date was given")),
            case("someday", BRUSSELS, Problem("\"someday\" is not a date I can read")),
            case("2026-13-01", BRUSSELS, Problem("2026-13-01 is not a day of the calendar")),
            case("2026-02-30", BRUSSELS, Problem("2026-02-30 is not a day of the calendar")),
            case("2026-00-10", BRUSSELS, Problem("2026-00-10 is not a day of the calendar")),
            case("2025-02-29", BRUSSELS, Problem("2025-02-29 is not a day of the calendar")),
            case("+5x", BRUSSELS, Problem("\"+5x\" is not a date I can read")),
            case("+d", BRUSSELS, Problem("is not a date I can read")),
            case("-3d", BRUSSELS, Problem("is not a date I can read")),
            case("in ten days", BRUSSELS, Problem("\"in ten days\" is not a date I can read")),
            case("in", BRUSSELS, Problem("is not a date I can read")),
            case("next", BRUSSELS, Problem("is not a date I can read")),
            case("next next friday", BRUSSELS, Problem("is not a date I can read")),
            case("friday 17:00", BRUSSELS, Problem("is not a date I can read")),
            case("10/12/2026", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12", BRUSSELS, Problem("is not a date I can read")),
            case("20261210", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10T", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10x", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-100", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 17", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 17:0", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 5:00 pm", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 17:00UTC", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 17:00 +02:00:00", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 17:00 [Europe/Brussels", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 +02:00", BRUSSELS, Problem("is not a date I can read")),
            case("2026-12-10 25:00", BRUSSELS, Problem("25:00 is not a time of day")),
            case("2026-12-10 17:60", BRUSSELS, Problem("17:60 is not a time of day")),
            case("2026-12-10T17:00+30:00", BRUSSELS, Problem("+30:00 is not an offset from UTC")),
            case("2026-12-10T17:00+02:75", BRUSSELS, Problem("+02:75 is not an offset from UTC")),
            case("+99999999999999999999999d", BRUSSELS, Problem("is further away than any date")),
            case("+9999999999h", BRUSSELS, Problem("is further away than any date")),
            case("in 99999999 weeks", BRUSSELS, Problem("is further away than any date")),
            case_anywhere_on_earth("9999-12-31", BRUSSELS, Problem("is further away than any date")),
        ]);
    }

    #[test]
    fn problem_messages_read_as_plain_sentences() {
        let brussels = TimeZone::get(BRUSSELS).unwrap();
        let rules = DeadlineRules {
            zone: &brussels,
            end_of_day: EndOfDay::GroupZone,
        };
        let now: Timestamp = TUESDAY_1_DECEMBER.parse().unwrap();
        let message = |text: &str| parse_deadline(text, now, &rules).unwrap_err().to_string();
        assert_eq!(
            message("2026-03-29 02:30"),
            "\"2026-03-29 02:30\" does not exist in Europe/Brussels: the clocks skip from 02:00 \
             to 03:00 that night; pick another time"
        );
        assert_eq!(
            message("2026-10-25 02:30"),
            "\"2026-10-25 02:30\" happens twice in Europe/Brussels (the clocks go back at 03:00); \
             add the offset, such as 2026-10-25T02:30+02:00 for the first time or \
             2026-10-25T02:30+01:00 for the second"
        );
        assert_eq!(
            message("2026-10-25T02:30+05:00 Europe/Brussels"),
            "the offset +05:00 does not fit Europe/Brussels at 2026-10-25 02:30, where the offset \
             is +02:00 or +01:00"
        );
        assert_eq!(message("someday"), "\"someday\" is not a date I can read");
        assert_eq!(
            message("2026-02-30"),
            "2026-02-30 is not a day of the calendar"
        );
        assert_eq!(message("2026-12-10 24:00"), "24:00 is not a time of day");
        assert_eq!(
            message("2026-12-10 17:00 Europe/Bruxelles"),
            "\"Europe/Bruxelles\" is not a time zone I know; did you mean Europe/Brussels?"
        );
        assert_eq!(
            message("2026-12-10 17:00 Mars/Olympus_Mons"),
            "\"Mars/Olympus_Mons\" is not a time zone I know; use a name such as UTC or \
             Europe/Brussels"
        );
        assert_eq!(message(" \n"), "no date was given");
    }

    /// The offsets a repeated-time problem suggests must themselves be accepted, and mean the
    /// first and the second time the clocks show that time.
    #[test]
    fn the_offsets_suggested_for_a_repeated_time_are_accepted() {
        let brussels = TimeZone::get(BRUSSELS).unwrap();
        let rules = DeadlineRules {
            zone: &brussels,
            end_of_day: EndOfDay::GroupZone,
        };
        let now: Timestamp = TUESDAY_1_DECEMBER.parse().unwrap();
        let Err(DateProblem::RepeatedLocalTime {
            first_occurrence,
            second_occurrence,
            ..
        }) = parse_deadline("2026-10-25 02:30", now, &rules)
        else {
            panic!("2026-10-25 02:30 should be refused as repeated in Brussels");
        };
        assert_eq!(
            parse_deadline(&first_occurrence, now, &rules),
            Ok("2026-10-25T00:30:00Z".parse().unwrap())
        );
        assert_eq!(
            parse_deadline(&second_occurrence, now, &rules),
            Ok("2026-10-25T01:30:00Z".parse().unwrap())
        );
    }

    /// Every example the help text shows is accepted, so the help cannot promise a form that is
    /// refused.
    #[test]
    fn every_accepted_form_example_is_accepted() {
        let brussels = TimeZone::get(BRUSSELS).unwrap();
        let now: Timestamp = TUESDAY_1_DECEMBER.parse().unwrap();
        for end_of_day in [EndOfDay::GroupZone, EndOfDay::AnywhereOnEarth] {
            let rules = DeadlineRules {
                zone: &brussels,
                end_of_day,
            };
            for line in ACCEPTED_FORMS {
                let (examples, meaning) = line
                    .split_once(" - ")
                    .expect("each line is examples - meaning");
                assert!(!meaning.is_empty());
                for example in examples.split(" or ") {
                    assert!(
                        parse_deadline(example, now, &rules).is_ok(),
                        "{example:?} from the help text is refused"
                    );
                }
            }
        }
    }

    /// A few zones with unusual rules: Kiritimati at UTC+14, Lord Howe with a half-hour change.
    fn any_group_rules() -> impl Strategy<Value = (TimeZone, EndOfDay)> {
        let zones = prop::sample::select(vec![
            BRUSSELS,
            LOS_ANGELES,
            "UTC",
            "Pacific/Kiritimati",
            "Australia/Lord_Howe",
        ]);
        let end_of_day = prop::sample::select(vec![EndOfDay::GroupZone, EndOfDay::AnywhereOnEarth]);
        (zones, end_of_day)
            .prop_map(|(zone, end_of_day)| (TimeZone::get(zone).unwrap(), end_of_day))
    }

    /// Any instant jiff can represent, so the edges of its range are tried too.
    fn any_now() -> impl Strategy<Value = Timestamp> {
        (Timestamp::MIN.as_second()..=Timestamp::MAX.as_second())
            .prop_map(|second| Timestamp::from_second(second).unwrap())
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(
            text in any::<String>(),
            now in any_now(),
            (zone, end_of_day) in any_group_rules(),
        ) {
            let rules = DeadlineRules { zone: &zone, end_of_day };
            let _ = parse_deadline(&text, now, &rules);
        }

        /// Random text rarely gets past the first character; text made of the pieces deadlines
        /// are written with reaches the deeper parts of the reader.
        #[test]
        fn deadline_like_text_never_panics(
            text in concat!(
                "[0-9+:\\-Tt Zz\\[\\]/a-zA-Z]{0,28}",
                "|[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}([Tt ][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?)?",
                "[+\\-Z ]?[0-9:]{0,6}( ?[A-Za-z/_\\[\\]]{0,20})?",
                "|(in |\\+)[0-9]{0,25} ?[a-z]{0,6}",
                "|(next )?[a-z]{0,9}",
            ),
            now in any_now(),
            (zone, end_of_day) in any_group_rules(),
        ) {
            let rules = DeadlineRules { zone: &zone, end_of_day };
            let _ = parse_deadline(&text, now, &rules);
        }
    }
}
