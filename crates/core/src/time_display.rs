//! Every time a reply shows is shown twice: in UTC, which everyone in a cross-community group can
//! convert from, and in the group's own zone, which is what its meetings are scheduled in.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// "2026-11-25 16:00 UTC (08:00 PST, America/Los_Angeles)"; the local date is repeated only when
/// it differs from the UTC date.
pub fn utc_and_local(instant: Timestamp, zone: &TimeZone, zone_name: &str) -> String {
    let utc = instant.to_zoned_datetime(TimeZone::UTC);
    let local = instant.to_zoned_datetime(zone.clone());
    let local_text = if local.date() == utc.date() {
        local.strftime("%H:%M %Z").to_string()
    } else {
        local.strftime("%Y-%m-%d %H:%M %Z").to_string()
    };
    format!(
        "{} UTC ({local_text}, {zone_name})",
        utc.strftime("%Y-%m-%d %H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_instants_in_zones() {
        let cases = [
            (
                "2026-11-25T16:00:00Z",
                "America/Los_Angeles",
                "2026-11-25 16:00 UTC (08:00 PST, America/Los_Angeles)",
            ),
            (
                "2026-07-01T16:00:00Z",
                "America/Los_Angeles",
                "2026-07-01 16:00 UTC (09:00 PDT, America/Los_Angeles)",
            ),
            (
                "2026-11-25T23:30:00Z",
                "Europe/Brussels",
                "2026-11-25 23:30 UTC (2026-11-26 00:30 CET, Europe/Brussels)",
            ),
            (
                "2026-03-29T01:30:00Z",
                "Europe/Brussels",
                "2026-03-29 01:30 UTC (03:30 CEST, Europe/Brussels)",
            ),
            (
                "2026-11-25T16:00:00Z",
                "UTC",
                "2026-11-25 16:00 UTC (16:00 UTC, UTC)",
            ),
        ];
        for (instant, zone_name, expected) in cases {
            let instant: Timestamp = instant.parse().expect("valid instant");
            let zone = TimeZone::get(zone_name).expect("known zone");
            assert_eq!(utc_and_local(instant, &zone, zone_name), expected);
        }
    }
}
