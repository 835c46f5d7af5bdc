//! `rapporteur export response-times` as an operator runs it: against a database whose change
//! log the bot wrote, printing CSV or JSON for one group or all of them.

use rapporteur::core::feedback::model::{Position, RequestKind};
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
    std::fs::write(folder.join("group.toml"), GROUP).expect("write group");
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
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::connect(database_url, 1).await.expect("open database");
        store.migrate().await.expect("migrate");
        for (group_id, change) in changes() {
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
