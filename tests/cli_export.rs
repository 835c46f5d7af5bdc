//! `rapporteur export` as an operator runs it, against a database whose change log the bot
//! wrote: `response-times` and `attendance` as CSV or JSON for one group or all of them, and
//! `calendar`, a group's iCalendar feed.

use rapporteur::core::feedback::model::{Position, RequestKind};
use rapporteur::core::meetings::model::{AttendanceMode, MeetingMode};
use rapporteur::core::state::Change;
use rapporteur::storage::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rapporteur(arguments: &[&str], config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config)
        .args(arguments)
        .env("RAPPORTEUR_MATRIX_PASSWORD", "not-a-real-password")
        .env("RAPPORTEUR_LOG", "error")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .env_remove("RAPPORTEUR_HOMESERVER_URL")
        .env_remove("RAPPORTEUR_MATRIX_USER_ID")
        .env_remove("RAPPORTEUR_MATRIX_PASSWORD_FILE")
        .output()
        .expect("run the binary")
}

const GROUP: &str = "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"UTC\"\n\
    consensus_designations = [\"Full Consensus\"]\n\n\
    [[organizations]]\nshort_name = \"GNSO\"\nname = \"Generic Names Supporting Organization\"\nseats = 1\n\n\
    [[organizations]]\nshort_name = \"ALAC\"\nname = \"At-Large Advisory Committee\"\nseats = 1\n\n\
    [[organizations]]\nshort_name = \"GAC\"\nname = \"Governmental Advisory Committee\"\nseats = 1\n";

/// A configuration with two groups, `g` and `h`, sharing one group file, and the URL of its
/// SQLite database.
fn write_config(folder: &Path) -> (PathBuf, String) {
    write_config_with(folder, GROUP)
}

/// As [`write_config`], with another group file.
fn write_config_with(folder: &Path, group_file: &str) -> (PathBuf, String) {
    std::fs::write(folder.join("group.toml"), group_file).expect("write group");
    let database_url = format!("sqlite://{}", folder.join("data/rapporteur.db").display());
    let config = folder.join("rapporteur.toml");
    std::fs::write(
        &config,
        format!(
            "[bot]\ndata_dir = \"data\"\n\n[database]\nurl = \"{database_url}\"\n\n\
             [matrix]\nhomeserver_url = \"http://127.0.0.1:9\"\nuser_id = \"@bot:localhost\"\n\n\
             [[groups]]\nid = \"g\"\nroom = \"#g:localhost\"\ngroup_file = \"group.toml\"\n\n\
             [[groups]]\nid = \"h\"\nroom = \"#h:localhost\"\ngroup_file = \"group.toml\"\n"
        ),
    )
    .expect("write config");
    (config, database_url)
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("RFC 3339")
}

/// In group `g`: one request to GNSO and ALAC in 2020 (long past, so the figures do not depend
/// on today's date); GNSO acknowledged after 24 hours and responded after 60, ALAC never
/// answered. In group `h`: a request to GAC only.
fn changes() -> Vec<(&'static str, Change)> {
    vec![
        (
            "g",
            Change::RequestOpened {
                number: 1,
                title: "Budget review".into(),
                kind: RequestKind::Feedback,
                organizations: vec!["GNSO".into(), "ALAC".into()],
                acknowledge_by: at("2020-01-05T00:00:00Z"),
                respond_by: at("2020-01-20T00:00:00Z"),
                document: None,
                opened_by: "chair".into(),
                at: at("2020-01-01T00:00:00Z"),
            },
        ),
        (
            "h",
            Change::RequestOpened {
                number: 1,
                title: "Other group".into(),
                kind: RequestKind::Feedback,
                organizations: vec!["GAC".into()],
                acknowledge_by: at("2020-01-05T00:00:00Z"),
                respond_by: at("2020-01-20T00:00:00Z"),
                document: None,
                opened_by: "chair".into(),
                at: at("2020-01-01T00:00:00Z"),
            },
        ),
        (
            "g",
            Change::Acknowledged {
                number: 1,
                organization: "GNSO".into(),
                by: "member".into(),
                at: at("2020-01-02T00:00:00Z"),
            },
        ),
        (
            "g",
            Change::Responded {
                number: 1,
                organization: "GNSO".into(),
                position: Position::Support,
                text: None,
                by: "member".into(),
                at: at("2020-01-03T12:00:00Z"),
            },
        ),
    ]
}

/// Writes the change log the way the bot stores it: one row of JSON per change, in order.
fn write_change_log(database_url: &str) {
    write_changes(database_url, changes());
}

fn write_changes(database_url: &str, changes: Vec<(&str, Change)>) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::connect(database_url, 1).await.expect("open database");
        store.migrate().await.expect("migrate");
        for (group_id, change) in changes {
            sqlx::query(
                "INSERT INTO group_changes (group_id, inbox_id, change, created_ms) VALUES ($1, NULL, $2, 0)",
            )
            .bind(group_id)
            .bind(serde_json::to_string(&change).expect("serialize change"))
            .execute(store.pool())
            .await
            .expect("insert change");
        }
        store.close().await;
    });
}

const HEADER: &str = "group,organization,requests_addressed,acknowledged,acknowledgements_pending,\
    median_hours_to_acknowledge,worst_hours_to_acknowledge,acknowledged_on_time,\
    acknowledgements_not_on_time,acknowledged_on_time_share,responded,responses_pending,\
    median_hours_to_respond,worst_hours_to_respond,responded_on_time,responses_not_on_time,\
    responded_on_time_share";

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn csv_of_one_group_has_the_header_and_a_row_per_addressed_organization() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (config, database_url) = write_config(folder.path());
    write_change_log(&database_url);
    let output = rapporteur(
        &[
            "export",
            "response-times",
            "--format",
            "csv",
            "--group",
            "g",
        ],
        &config,
    );
    let text = stdout_of(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            HEADER,
            "g,GNSO,1,1,0,24,24,1,0,1,1,0,60,60,1,0,1",
            "g,ALAC,1,0,1,,,0,1,0,0,1,,,0,1,0",
        ],
        "{text}"
    );
}

#[test]
fn json_of_every_group_holds_the_rows_of_each() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (config, database_url) = write_config(folder.path());
    write_change_log(&database_url);
    let output = rapporteur(&["export", "response-times", "--format", "json"], &config);
    let rows: serde_json::Value = serde_json::from_str(&stdout_of(&output)).expect("valid JSON");
    let rows: Vec<(String, String)> = rows
        .as_array()
        .expect("an array")
        .iter()
        .map(|row| {
            (
                row["group"].as_str().expect("group").to_string(),
                row["organization"]
                    .as_str()
                    .expect("organization")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("g".to_string(), "GNSO".to_string()),
            ("g".to_string(), "ALAC".to_string()),
            ("h".to_string(), "GAC".to_string()),
        ]
    );
}

#[test]
fn an_unknown_group_is_refused_with_the_configured_ones() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (config, _) = write_config(folder.path());
    let output = rapporteur(
        &[
            "export",
            "response-times",
            "--format",
            "csv",
            "--group",
            "x",
        ],
        &config,
    );
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("no group \"x\" in the configuration; the groups are: g, h"),
        "{text}"
    );
    assert!(output.stdout.is_empty());
}

// --- Meetings ---------------------------------------------------------------------------------

const MEETINGS_GROUP: &str = "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"Europe/Brussels\"\n\
    consensus_designations = [\"Full Consensus\"]\n\n\
    [[organizations]]\nshort_name = \"GNSO\"\nname = \"Generic Names Supporting Organization\"\nseats = 1\n\n\
    [[organizations]]\nshort_name = \"ALAC\"\nname = \"At-Large Advisory Committee\"\nseats = 1\n\n\
    [[people]]\nid = \"ana\"\nname = \"Ana Lima\"\nmatrix_ids = [\"@ana:localhost\"]\norganization = \"GNSO\"\nroles = [\"member\", \"chair\"]\n\n\
    [[people]]\nid = \"bea\"\nname = \"Bea, \\\"the\\\" Alac\"\nmatrix_ids = [\"@bea:localhost\"]\norganization = \"ALAC\"\nroles = [\"member\"]\n\n\
    [[people]]\nid = \"pat\"\nname = \"Pat Participant\"\nmatrix_ids = [\"@pat:localhost\"]\norganization = \"ALAC\"\nroles = [\"participant\"]\n";

/// In group `g`: M-1 held on 2026-12-08 (Ana present remotely, Bea sent regrets with an
/// alternate, the ALAC participant Pat present), M-2 scheduled and then cancelled.
fn meeting_changes() -> Vec<(&'static str, Change)> {
    let scheduled = |number: u32, title: &str, start: &str| Change::MeetingScheduled {
        number,
        title: title.into(),
        start: at(start),
        minutes_long: 90,
        mode: Some(MeetingMode::Remote),
        location: None,
        series: None,
        by: Some("ana".into()),
        at: at("2026-11-01T10:00:00Z"),
    };
    let changes = vec![
        scheduled(1, "Monthly call", "2026-12-08T13:00:00Z"),
        scheduled(2, "Extra call", "2026-12-15T13:00:00Z"),
        Change::RegretsSent {
            number: 1,
            person: "bea".into(),
            reason: Some("on leave, back in January".into()),
            alternate: Some("Jane Doe".into()),
            by: "bea".into(),
            at: at("2026-12-07T09:00:00Z"),
        },
        Change::MeetingStarted {
            number: 1,
            by: "ana".into(),
            at: at("2026-12-08T13:01:00Z"),
        },
        Change::Attended {
            number: 1,
            person: "ana".into(),
            mode: Some(AttendanceMode::Remote),
            by: "ana".into(),
            at: at("2026-12-08T13:02:00Z"),
        },
        Change::Attended {
            number: 1,
            person: "pat".into(),
            mode: None,
            by: "pat".into(),
            at: at("2026-12-08T13:02:00Z"),
        },
        Change::MeetingEnded {
            number: 1,
            by: "ana".into(),
            at: at("2026-12-08T14:20:00Z"),
        },
        Change::MeetingCancelled {
            number: 2,
            by: "ana".into(),
            at: at("2026-12-09T10:00:00Z"),
        },
    ];
    changes.into_iter().map(|change| ("g", change)).collect()
}

#[test]
fn attendance_as_csv_has_a_row_per_person_and_held_meeting() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (config, database_url) = write_config_with(folder.path(), MEETINGS_GROUP);
    write_changes(&database_url, meeting_changes());
    let text = stdout_of(&rapporteur(
        &["export", "attendance", "--format", "csv"],
        &config,
    ));
    let lines: Vec<&str> = text.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert_eq!(
        lines,
        [
            "group,meeting,date,title,person_id,person,organization,role,status,mode,reason,alternate",
            "g,M-1,2026-12-08,Monthly call,ana,Ana Lima,GNSO,\"member, chair\",present,remote,,",
            "g,M-1,2026-12-08,Monthly call,bea,\"Bea, \"\"the\"\" Alac\",ALAC,member,regrets,,\"on leave, back in January\",Jane Doe",
            // The participant from ALAC is recorded, with no organization to count for.
            "g,M-1,2026-12-08,Monthly call,pat,Pat Participant,,participant,present,,,",
        ],
        "{text}"
    );
}

#[test]
fn attendance_as_json_has_the_csv_columns_as_keys() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (config, database_url) = write_config_with(folder.path(), MEETINGS_GROUP);
    write_changes(&database_url, meeting_changes());
    let rows: serde_json::Value = serde_json::from_str(&stdout_of(&rapporteur(
        &["export", "attendance", "--format", "json", "--group", "g"],
        &config,
    )))
    .expect("valid JSON");
    let statuses: Vec<(&str, &str)> = rows
        .as_array()
        .expect("an array")
        .iter()
        .map(|row| {
            (
                row["person_id"].as_str().expect("person"),
                row["status"].as_str().expect("status"),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [("ana", "present"), ("bea", "regrets"), ("pat", "present")]
    );
}

#[test]
fn the_calendar_export_is_a_feed_of_every_meeting_with_the_cancelled_one_marked() {
    use icalendar::{Calendar, CalendarComponent, Component};
    let folder = tempfile::tempdir().expect("temp dir");
    let (config, database_url) = write_config_with(folder.path(), MEETINGS_GROUP);
    write_changes(&database_url, meeting_changes());
    let text = stdout_of(&rapporteur(
        &["export", "calendar", "--group", "g"],
        &config,
    ));
    let calendar: Calendar = text.parse().expect("the feed parses");
    assert_eq!(calendar.property_value("METHOD"), Some("PUBLISH"));
    let events: Vec<(String, Option<String>, Option<u32>)> = calendar
        .components
        .iter()
        .filter_map(|component| match component {
            CalendarComponent::Event(event) => Some((
                event.get_uid().unwrap_or_default().to_string(),
                event.property_value("STATUS").map(str::to_string),
                event.get_sequence(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        [
            (
                "g-m1@rapporteur".to_string(),
                Some("CONFIRMED".to_string()),
                Some(0)
            ),
            (
                "g-m2@rapporteur".to_string(),
                Some("CANCELLED".to_string()),
                Some(1)
            ),
        ]
    );
}
