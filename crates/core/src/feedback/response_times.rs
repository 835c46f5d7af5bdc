//! How quickly each appointing organization answers feedback requests (WS2 recommendation
//! 7.2.2 asks groups to publish timeframes; this measures how they were kept): per organization,
//! the time to acknowledge and to respond, the median and the worst, and the share answered on
//! time. The same rows feed the `!report response-times` reply and the CSV and JSON exports of
//! `rapporteur export response-times`.
//!
//! Every time is measured from when the request was opened. A response without an earlier
//! acknowledgement needs no special case: the state records an acknowledgement with every such
//! response. An organization that has not answered an open request yet is pending: it is left out
//! of the medians, because its time is not known, but once the due date has passed it already
//! counts as not on time. An organization that never answered a request that is now closed counts
//! as not on time if the request closed after the due date, and is left out of the share if the
//! request closed before (it was not given the full time). In an annual continuation silence
//! counts as continuing, so there a missing response is neither pending nor late.

use super::model::{FeedbackRequest, OrganizationStatus, RequestKind, RequestState};
use crate::directory::Group;
use crate::state::GroupState;
use jiff::{SignedDuration, Timestamp, Unit};
use serde::Serialize;

/// One stage of answering (acknowledging or responding) for one organization, over all the
/// requests addressed to it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTimes {
    /// How many requests the organization answered at this stage.
    pub answered: usize,
    /// The median time from a request's opening to the answer; `None` when nothing was answered.
    pub median: Option<SignedDuration>,
    /// The longest time from a request's opening to the answer.
    pub worst: Option<SignedDuration>,
    /// Answers given by the due date.
    pub on_time: usize,
    /// Answers given after the due date, and answers still missing after it.
    pub not_on_time: usize,
    /// Open requests not answered yet at this stage, whether due or overdue (the overdue ones
    /// are also in `not_on_time`).
    pub pending: usize,
    /// `on_time` out of `on_time + not_on_time`, between 0 and 1; `None` when nothing could be
    /// judged yet.
    pub on_time_share: Option<f64>,
}

/// The response times of one appointing organization in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationTimes {
    /// The group's identifier from the configuration (`cceg-ig`), so rows of several groups can
    /// share one export.
    pub group: String,
    /// The organization's short name as the group file spells it.
    pub organization: String,
    /// How many requests were addressed to the organization, open and closed.
    pub requests_addressed: usize,
    pub acknowledgement: StageTimes,
    pub response: StageTimes,
}

/// The response times of every organization of the group that was addressed at least once, in
/// the order of the group file.
pub fn response_times(state: &GroupState, group: &Group, now: Timestamp) -> Vec<OrganizationTimes> {
    group
        .organizations
        .iter()
        .filter_map(|organization| {
            let addressed: Vec<(&FeedbackRequest, &OrganizationStatus)> = state
                .requests
                .values()
                .filter_map(|request| {
                    request
                        .organization(&organization.short_name)
                        .map(|(_, status)| (request, status))
                })
                .collect();
            if addressed.is_empty() {
                return None;
            }
            let mut acknowledgement = StageTally::default();
            let mut response = StageTally::default();
            for (request, status) in &addressed {
                let answering_ended = match &request.state {
                    RequestState::Open => None,
                    RequestState::Closed { at, .. } => Some(*at),
                };
                acknowledgement.count(Answer {
                    opened: request.opened.at,
                    answered: status.acknowledged.as_ref().map(|stamp| stamp.at),
                    due: request.acknowledge_by,
                    answering_ended,
                    now,
                });
                // The first response is the one that answered the request; later ones only
                // changed the organization's position.
                let first_response = status
                    .replaced_responses
                    .first()
                    .or(status.response.as_ref())
                    .map(|response| response.stamp.at);
                // In an annual continuation, silence is an answer (it counts as continuing), so
                // an organization that stays silent is neither late nor pending.
                let silence_answers =
                    request.kind == RequestKind::Continuation && first_response.is_none();
                if !silence_answers {
                    response.count(Answer {
                        opened: request.opened.at,
                        answered: first_response,
                        due: request.respond_by_for(status),
                        answering_ended,
                        now,
                    });
                }
            }
            Some(OrganizationTimes {
                group: group.id.clone(),
                organization: organization.short_name.clone(),
                requests_addressed: addressed.len(),
                acknowledgement: acknowledgement.finish(),
                response: response.finish(),
            })
        })
        .collect()
}

/// One organization's answer at one stage of one request.
struct Answer {
    opened: Timestamp,
    answered: Option<Timestamp>,
    due: Timestamp,
    /// When the request closed, or `None` while it is open.
    answering_ended: Option<Timestamp>,
    now: Timestamp,
}

#[derive(Default)]
struct StageTally {
    durations: Vec<SignedDuration>,
    on_time: usize,
    not_on_time: usize,
    pending: usize,
}

impl StageTally {
    fn count(&mut self, answer: Answer) {
        match (answer.answered, answer.answering_ended) {
            (Some(answered), _) => {
                self.durations.push(answered.duration_since(answer.opened));
                if answered <= answer.due {
                    self.on_time += 1;
                } else {
                    self.not_on_time += 1;
                }
            }
            (None, None) => {
                self.pending += 1;
                if answer.now > answer.due {
                    self.not_on_time += 1;
                }
            }
            (None, Some(closed)) => {
                if closed > answer.due {
                    self.not_on_time += 1;
                }
            }
        }
    }

    fn finish(mut self) -> StageTimes {
        self.durations.sort();
        let judged = self.on_time + self.not_on_time;
        StageTimes {
            answered: self.durations.len(),
            median: median_of_sorted(&self.durations),
            worst: self.durations.last().copied(),
            on_time: self.on_time,
            not_on_time: self.not_on_time,
            pending: self.pending,
            on_time_share: (judged > 0).then(|| self.on_time as f64 / judged as f64),
        }
    }
}

/// The middle value, or halfway between the two middle values of an even count.
fn median_of_sorted(sorted: &[SignedDuration]) -> Option<SignedDuration> {
    if sorted.is_empty() {
        return None;
    }
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        Some(sorted[middle])
    } else {
        let (lower, upper) = (sorted[middle - 1], sorted[middle]);
        // Halving the difference rather than the sum keeps the arithmetic far from overflow.
        Some(lower + (upper - lower) / 2)
    }
}

/// A duration in days of 24 hours and hours, rounded to the nearest hour: `2 d 4 h`, or `4 h`
/// under a day.
pub fn days_and_hours(duration: SignedDuration) -> String {
    let hours = duration.round(Unit::Hour).unwrap_or(duration).as_hours();
    let sign = if hours < 0 { "-" } else { "" };
    let hours = hours.unsigned_abs();
    let (days, hours) = (hours / 24, hours % 24);
    if days == 0 {
        format!("{sign}{hours} h")
    } else {
        format!("{sign}{days} d {hours} h")
    }
}

/// One row of the exports: the same columns, in the same order, in CSV and in JSON. Durations
/// are hours with two decimals, which spreadsheets sum and sort, and shares are fractions
/// between 0 and 1 with four decimals.
#[derive(Serialize)]
struct ExportRow<'a> {
    group: &'a str,
    organization: &'a str,
    requests_addressed: usize,
    acknowledged: usize,
    acknowledgements_pending: usize,
    median_hours_to_acknowledge: Option<f64>,
    worst_hours_to_acknowledge: Option<f64>,
    acknowledged_on_time: usize,
    acknowledgements_not_on_time: usize,
    acknowledged_on_time_share: Option<f64>,
    responded: usize,
    responses_pending: usize,
    median_hours_to_respond: Option<f64>,
    worst_hours_to_respond: Option<f64>,
    responded_on_time: usize,
    responses_not_on_time: usize,
    responded_on_time_share: Option<f64>,
}

const EXPORT_COLUMNS: [&str; 17] = [
    "group",
    "organization",
    "requests_addressed",
    "acknowledged",
    "acknowledgements_pending",
    "median_hours_to_acknowledge",
    "worst_hours_to_acknowledge",
    "acknowledged_on_time",
    "acknowledgements_not_on_time",
    "acknowledged_on_time_share",
    "responded",
    "responses_pending",
    "median_hours_to_respond",
    "worst_hours_to_respond",
    "responded_on_time",
    "responses_not_on_time",
    "responded_on_time_share",
];

fn rounded(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn hours(duration: Option<SignedDuration>) -> Option<f64> {
    duration.map(|duration| rounded(duration.as_secs_f64() / 3600.0, 2))
}

fn share(value: Option<f64>) -> Option<f64> {
    value.map(|value| rounded(value, 4))
}

impl<'a> ExportRow<'a> {
    fn from_times(row: &'a OrganizationTimes) -> ExportRow<'a> {
        let (acknowledgement, response) = (&row.acknowledgement, &row.response);
        ExportRow {
            group: &row.group,
            organization: &row.organization,
            requests_addressed: row.requests_addressed,
            acknowledged: acknowledgement.answered,
            acknowledgements_pending: acknowledgement.pending,
            median_hours_to_acknowledge: hours(acknowledgement.median),
            worst_hours_to_acknowledge: hours(acknowledgement.worst),
            acknowledged_on_time: acknowledgement.on_time,
            acknowledgements_not_on_time: acknowledgement.not_on_time,
            acknowledged_on_time_share: share(acknowledgement.on_time_share),
            responded: response.answered,
            responses_pending: response.pending,
            median_hours_to_respond: hours(response.median),
            worst_hours_to_respond: hours(response.worst),
            responded_on_time: response.on_time,
            responses_not_on_time: response.not_on_time,
            responded_on_time_share: share(response.on_time_share),
        }
    }

    /// The cells in the order of [`EXPORT_COLUMNS`]; a value that is not known is empty.
    fn cells(&self) -> [String; 17] {
        let number = |value: Option<f64>| value.map(|value| value.to_string()).unwrap_or_default();
        [
            self.group.to_string(),
            self.organization.to_string(),
            self.requests_addressed.to_string(),
            self.acknowledged.to_string(),
            self.acknowledgements_pending.to_string(),
            number(self.median_hours_to_acknowledge),
            number(self.worst_hours_to_acknowledge),
            self.acknowledged_on_time.to_string(),
            self.acknowledgements_not_on_time.to_string(),
            number(self.acknowledged_on_time_share),
            self.responded.to_string(),
            self.responses_pending.to_string(),
            number(self.median_hours_to_respond),
            number(self.worst_hours_to_respond),
            self.responded_on_time.to_string(),
            self.responses_not_on_time.to_string(),
            number(self.responded_on_time_share),
        ]
    }
}

/// A CSV field as RFC 4180 writes it: quoted, with quotes doubled, when it holds a comma, a
/// quote or a line break (names come from group files, which may hold any of them).
/// One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The rows as CSV with a header line, lines ending in CRLF as RFC 4180 asks.
pub fn to_csv(rows: &[OrganizationTimes]) -> String {
    let mut csv = EXPORT_COLUMNS.join(",");
    csv.push_str("\r\n");
    for row in rows {
        let cells = ExportRow::from_times(row).cells();
        let fields: Vec<String> = cells.iter().map(|cell| csv_field(cell)).collect();
        csv.push_str(&fields.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// The rows as a pretty-printed JSON array of objects with the CSV's columns as keys; a value
/// that is not known is `null`.
pub fn to_json(rows: &[OrganizationTimes]) -> String {
    let rows: Vec<ExportRow> = rows.iter().map(ExportRow::from_times).collect();
    // Serializing plain structs of strings and numbers cannot fail; rounding never makes a
    // number infinite or NaN.
    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::test_support::small_group;
    use crate::feedback::model::{Position, RequestKind};
    use crate::state::Change;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("RFC 3339")
    }

    fn opened(
        number: u32,
        organizations: &[&str],
        at_time: &str,
        ack_by: &str,
        by: &str,
    ) -> Change {
        Change::RequestOpened {
            number,
            title: format!("Request {number}"),
            kind: RequestKind::Feedback,
            organizations: organizations.iter().map(|name| name.to_string()).collect(),
            acknowledge_by: at(ack_by),
            respond_by: at(by),
            document: None,
            opened_by: "ana.lima".into(),
            at: at(at_time),
        }
    }

    fn acknowledged(number: u32, organization: &str, at_time: &str) -> Change {
        Change::Acknowledged {
            number,
            organization: organization.into(),
            by: "someone".into(),
            at: at(at_time),
        }
    }

    fn responded(number: u32, organization: &str, at_time: &str) -> Change {
        Change::Responded {
            number,
            organization: organization.into(),
            position: Position::Support,
            text: None,
            by: "someone".into(),
            at: at(at_time),
        }
    }

    fn granted(number: u32, organization: &str, until: &str, at_time: &str) -> Change {
        Change::ExtensionGranted {
            number,
            organization: organization.into(),
            until: at(until),
            by: "ana.lima".into(),
            at: at(at_time),
        }
    }

    fn closed(number: u32, at_time: &str) -> Change {
        Change::RequestClosed {
            number,
            outcome: None,
            forced: true,
            by: Some("ana.lima".into()),
            at: at(at_time),
        }
    }

    fn hours_of(count: i64) -> SignedDuration {
        SignedDuration::from_hours(count)
    }

    /// The expected figures of one stage: answered, median, worst, on time, not on time,
    /// pending.
    type Expected = (usize, Option<i64>, Option<i64>, usize, usize, usize);

    fn check_stage(scenario: &str, stage: &str, actual: &StageTimes, expected: Expected) {
        let (answered, median, worst, on_time, not_on_time, pending) = expected;
        let actual_figures = (
            actual.answered,
            actual.median,
            actual.worst,
            actual.on_time,
            actual.not_on_time,
            actual.pending,
        );
        let expected_figures = (
            answered,
            median.map(hours_of),
            worst.map(hours_of),
            on_time,
            not_on_time,
            pending,
        );
        assert_eq!(actual_figures, expected_figures, "{scenario}: {stage}");
    }

    #[test]
    fn table_of_scenarios() {
        const NOW: &str = "2026-12-10T12:00:00Z";
        // Each scenario: the changes, then the figures for GNSO's acknowledgements and
        // responses. Requests open on 2026-12-01 at 00:00 with the acknowledgement due 3 days
        // later and the response 10 days later unless a scenario says otherwise.
        let scenarios: Vec<(&str, Vec<Change>, Expected, Expected)> = vec![
            (
                "a continuation where silence is the answer: the response is neither late nor pending",
                vec![
                    Change::RequestOpened {
                        number: 1,
                        title: "Annual review".into(),
                        kind: RequestKind::Continuation,
                        organizations: vec!["GNSO".into()],
                        acknowledge_by: at("2026-12-04T00:00:00Z"),
                        respond_by: at("2026-12-08T00:00:00Z"),
                        document: None,
                        opened_by: "ana.lima".into(),
                        at: at("2026-12-01T00:00:00Z"),
                    },
                    acknowledged(1, "GNSO", "2026-12-02T00:00:00Z"),
                ],
                (1, Some(24), Some(24), 1, 0, 0),
                (0, None, None, 0, 0, 0),
            ),
            (
                "acknowledged late, responded on time",
                vec![
                    opened(
                        1,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-11T00:00:00Z",
                    ),
                    acknowledged(1, "GNSO", "2026-12-05T06:00:00Z"),
                    responded(1, "GNSO", "2026-12-08T00:00:00Z"),
                ],
                (1, Some(4 * 24 + 6), Some(4 * 24 + 6), 0, 1, 0),
                (1, Some(7 * 24), Some(7 * 24), 1, 0, 0),
            ),
            (
                "an extension granted, then a response within it",
                vec![
                    opened(
                        1,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-05T00:00:00Z",
                    ),
                    acknowledged(1, "GNSO", "2026-12-02T00:00:00Z"),
                    granted(1, "GNSO", "2026-12-09T00:00:00Z", "2026-12-03T00:00:00Z"),
                    responded(1, "GNSO", "2026-12-08T12:00:00Z"),
                ],
                (1, Some(24), Some(24), 1, 0, 0),
                (1, Some(7 * 24 + 12), Some(7 * 24 + 12), 1, 0, 0),
            ),
            (
                "pending and not yet due",
                vec![opened(
                    1,
                    &["GNSO"],
                    "2026-12-09T00:00:00Z",
                    "2026-12-12T00:00:00Z",
                    "2026-12-20T00:00:00Z",
                )],
                (0, None, None, 0, 0, 1),
                (0, None, None, 0, 0, 1),
            ),
            (
                "pending and overdue",
                vec![
                    opened(
                        1,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-08T00:00:00Z",
                    ),
                    acknowledged(1, "GNSO", "2026-12-03T00:00:00Z"),
                ],
                (1, Some(2 * 24), Some(2 * 24), 1, 0, 0),
                (0, None, None, 0, 1, 1),
            ),
            (
                "a response without an earlier acknowledgement counts as both",
                vec![
                    opened(
                        1,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-11T00:00:00Z",
                    ),
                    acknowledged(1, "GNSO", "2026-12-06T00:00:00Z"),
                    responded(1, "GNSO", "2026-12-06T00:00:00Z"),
                ],
                (1, Some(5 * 24), Some(5 * 24), 0, 1, 0),
                (1, Some(5 * 24), Some(5 * 24), 1, 0, 0),
            ),
            (
                "a replaced response keeps the time of the first",
                vec![
                    opened(
                        1,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-05T00:00:00Z",
                    ),
                    acknowledged(1, "GNSO", "2026-12-01T01:00:00Z"),
                    responded(1, "GNSO", "2026-12-02T00:00:00Z"),
                    responded(1, "GNSO", "2026-12-09T00:00:00Z"),
                ],
                (1, Some(1), Some(1), 1, 0, 0),
                (1, Some(24), Some(24), 1, 0, 0),
            ),
            (
                "closed after the due date without an answer, and closed before it",
                vec![
                    opened(
                        1,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-02T00:00:00Z",
                        "2026-12-03T00:00:00Z",
                    ),
                    closed(1, "2026-12-04T00:00:00Z"),
                    opened(
                        2,
                        &["GNSO"],
                        "2026-12-05T00:00:00Z",
                        "2026-12-08T00:00:00Z",
                        "2026-12-20T00:00:00Z",
                    ),
                    closed(2, "2026-12-06T00:00:00Z"),
                ],
                (0, None, None, 0, 1, 0),
                (0, None, None, 0, 1, 0),
            ),
            (
                "several requests: the median of an odd and the worst",
                vec![
                    opened(
                        1,
                        &["GNSO", "ALAC"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-20T00:00:00Z",
                    ),
                    opened(
                        2,
                        &["gnso"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-20T00:00:00Z",
                    ),
                    opened(
                        3,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-20T00:00:00Z",
                    ),
                    acknowledged(1, "GNSO", "2026-12-01T02:00:00Z"),
                    acknowledged(2, "gnso", "2026-12-03T00:00:00Z"),
                    acknowledged(3, "GNSO", "2026-12-01T10:00:00Z"),
                ],
                (3, Some(10), Some(48), 3, 0, 0),
                (0, None, None, 0, 0, 3),
            ),
            (
                "several requests: the median of an even count lies halfway",
                vec![
                    opened(
                        1,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-20T00:00:00Z",
                    ),
                    opened(
                        2,
                        &["GNSO"],
                        "2026-12-01T00:00:00Z",
                        "2026-12-04T00:00:00Z",
                        "2026-12-20T00:00:00Z",
                    ),
                    acknowledged(1, "GNSO", "2026-12-01T02:00:00Z"),
                    acknowledged(2, "GNSO", "2026-12-01T12:00:00Z"),
                ],
                (2, Some(7), Some(12), 2, 0, 0),
                (0, None, None, 0, 0, 2),
            ),
        ];
        let group = small_group();
        for (scenario, changes, acknowledgement, response) in scenarios {
            let state = GroupState::from_changes(&changes);
            let rows = response_times(&state, &group, at(NOW));
            let gnso = rows
                .iter()
                .find(|row| row.organization == "GNSO")
                .unwrap_or_else(|| panic!("{scenario}: no GNSO row"));
            check_stage(
                scenario,
                "acknowledgement",
                &gnso.acknowledgement,
                acknowledgement,
            );
            check_stage(scenario, "response", &gnso.response, response);
        }
    }

    #[test]
    fn rows_follow_the_group_file_and_skip_organizations_never_addressed() {
        let group = small_group();
        let state = GroupState::from_changes(&[opened(
            1,
            &["ALAC"],
            "2026-12-01T00:00:00Z",
            "2026-12-04T00:00:00Z",
            "2026-12-20T00:00:00Z",
        )]);
        let rows = response_times(&state, &group, at("2026-12-02T00:00:00Z"));
        let names: Vec<&str> = rows.iter().map(|row| row.organization.as_str()).collect();
        assert_eq!(names, ["ALAC"]);

        let state = GroupState::from_changes(&[
            opened(
                1,
                &["ALAC"],
                "2026-12-01T00:00:00Z",
                "2026-12-04T00:00:00Z",
                "2026-12-20T00:00:00Z",
            ),
            opened(
                2,
                &["ALAC", "GNSO"],
                "2026-12-01T00:00:00Z",
                "2026-12-04T00:00:00Z",
                "2026-12-20T00:00:00Z",
            ),
        ]);
        let rows = response_times(&state, &group, at("2026-12-02T00:00:00Z"));
        let names: Vec<(&str, usize)> = rows
            .iter()
            .map(|row| (row.organization.as_str(), row.requests_addressed))
            .collect();
        assert_eq!(names, [("GNSO", 1), ("ALAC", 2)]);
        assert!(rows.iter().all(|row| row.group == "test-group"));
    }

    #[test]
    fn on_time_share_counts_overdue_pending_answers_against_it() {
        let group = small_group();
        let state = GroupState::from_changes(&[
            opened(
                1,
                &["GNSO"],
                "2026-12-01T00:00:00Z",
                "2026-12-02T00:00:00Z",
                "2026-12-20T00:00:00Z",
            ),
            opened(
                2,
                &["GNSO"],
                "2026-12-01T00:00:00Z",
                "2026-12-02T00:00:00Z",
                "2026-12-20T00:00:00Z",
            ),
            opened(
                3,
                &["GNSO"],
                "2026-12-01T00:00:00Z",
                "2026-12-09T00:00:00Z",
                "2026-12-20T00:00:00Z",
            ),
            acknowledged(1, "GNSO", "2026-12-01T12:00:00Z"),
        ]);
        let rows = response_times(&state, &group, at("2026-12-05T00:00:00Z"));
        let acknowledgement = &rows[0].acknowledgement;
        // Request 1 is on time, request 2 overdue, request 3 not due yet and so not judged.
        assert_eq!(acknowledgement.on_time_share, Some(0.5));
        assert_eq!(acknowledgement.pending, 2);
        assert_eq!(rows[0].response.on_time_share, None);
    }

    #[test]
    fn durations_read_in_days_and_hours() {
        let cases = [
            (SignedDuration::from_hours(52), "2 d 4 h"),
            (SignedDuration::from_hours(24), "1 d 0 h"),
            (SignedDuration::from_hours(5), "5 h"),
            (SignedDuration::from_mins(29), "0 h"),
            (SignedDuration::from_mins(90), "2 h"),
            (SignedDuration::from_mins(-90), "-2 h"),
        ];
        for (duration, expected) in cases {
            assert_eq!(days_and_hours(duration), expected, "{duration:?}");
        }
    }

    fn sample_rows() -> Vec<OrganizationTimes> {
        let mut group = small_group();
        group.organizations[0].short_name = "GNSO, \"Generic\"".into();
        let state = GroupState::from_changes(&[
            opened(
                1,
                &["GNSO, \"Generic\"", "ALAC"],
                "2026-12-01T00:00:00Z",
                "2026-12-04T00:00:00Z",
                "2026-12-20T00:00:00Z",
            ),
            acknowledged(1, "GNSO, \"Generic\"", "2026-12-02T04:00:00Z"),
        ]);
        response_times(&state, &group, at("2026-12-05T00:00:00Z"))
    }

    #[test]
    fn csv_has_a_header_and_quotes_fields_that_need_it() {
        let csv = to_csv(&sample_rows());
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], EXPORT_COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "test-group,\"GNSO, \"\"Generic\"\"\",1,1,0,28,28,1,0,1,0,1,,,0,0,"
        );
        assert_eq!(lines[2], "test-group,ALAC,1,0,1,,,0,1,0,0,1,,,0,0,");
        assert_eq!(lines[3], "");
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn json_has_the_csv_columns_as_keys() {
        let json: serde_json::Value =
            serde_json::from_str(&to_json(&sample_rows())).expect("valid JSON");
        let rows = json.as_array().expect("an array");
        assert_eq!(rows.len(), 2);
        let keys: Vec<&String> = rows[0].as_object().expect("an object").keys().collect();
        let mut columns = EXPORT_COLUMNS.to_vec();
        columns.sort();
        let mut keys: Vec<&str> = keys.iter().map(|key| key.as_str()).collect();
        keys.sort();
        assert_eq!(keys, columns);
        assert_eq!(rows[0]["organization"], "GNSO, \"Generic\"");
        assert_eq!(rows[0]["median_hours_to_acknowledge"], 28.0);
        assert_eq!(rows[1]["acknowledged_on_time_share"], 0.0);
        assert!(rows[1]["median_hours_to_acknowledge"].is_null());
    }
}
