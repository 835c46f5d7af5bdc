//! `rapporteur export attendance` and `rapporteur export calendar` as staff run them: against a
//! database whose change log holds a meeting that was held (with presence, regrets and a
//! participant) and one that was scheduled and then cancelled.

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

const GROUP: &str = "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"Europe/Brussels\"\n\
    consensus_designations = [\"Full Consensus\"]\n\n\
    [[organizations]]\nshort_name = \"GNSO\"\nname = \"Generic Names Supporting Organization\"\nseats = 1\n\n\
    [[organizations]]\nshort_name = \"ALAC\"\nname = \"At-Large Advisory Committee\"\nseats = 1\n\n\
    [[people]]\nid = \"ana\"\nname = \"Ana Lima\"\nmatrix_ids = [\"@ana:localhost\"]\norganization = \"GNSO\"\nroles = [\"member\", \"chair\"]\n\n\
    [[people]]\nid = \"bea\"\nname = \"Bea, \\\"the\\\" Alac\"\nmatrix_ids = [\"@bea:localhost\"]\norganization = \"ALAC\"\nroles = [\"member\"]\n\n\
    [[people]]\nid = \"pat\"\nname = \"Pat Participant\"\nmatrix_ids = [\"@pat:localhost\"]\norganization = \"ALAC\"\nroles = [\"participant\"]\n";

fn write_config(folder: &Path) -> (PathBuf, String) {
    std::fs::write(folder.join("group.toml"), GROUP).expect("write group");
    let database_url = format!("sqlite://{}", folder.join("data/rapporteur.db").display());
    let config = folder.join("rapporteur.toml");
    std::fs::write(
        &config,
        format!(
            "[bot]\ndata_dir = \"data\"\n\n[database]\nurl = \"{database_url}\"\n\n\
             [matrix]\nhomeserver_url = \"http://127.0.0.1:9\"\nuser_id = \"@bot:localhost\"\n\n\
             [[groups]]\nid = \"g\"\nroom = \"#g:localhost\"\ngroup_file = \"group.toml\"\n"
        ),
    )
    .expect("write config");
    (config, database_url)
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("RFC 3339")
}

fn changes() -> Vec<Change> {
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
    vec![
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
    ]
}

fn write_change_log(database_url: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::connect(database_url, 1).await.expect("open database");
        store.migrate().await.expect("migrate");
        for change in changes() {
            sqlx::query(
                "INSERT INTO group_changes (group_id, inbox_id, change, created_ms) VALUES ('g', NULL, $1, 0)",
            )
            .bind(serde_json::to_string(&change).expect("serialize change"))
            .execute(store.pool())
            .await
            .expect("insert change");
        }
        store.close().await;
    });
}

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
fn attendance_as_csv_has_a_row_per_person_and_held_meeting() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (config, database_url) = write_config(folder.path());
    write_change_log(&database_url);
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
    let (config, database_url) = write_config(folder.path());
    write_change_log(&database_url);
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
    let (config, database_url) = write_config(folder.path());
    write_change_log(&database_url);
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
