//! The command line as an operator uses it: `--version`, `check-config`, `migrate`, and `run`
//! refusing a broken configuration with the same problems `check-config` reports.

use std::process::Command;

fn rapporteur(arguments: &[&str], config: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config)
        .args(arguments)
        .env("RAPPORTEUR_MATRIX_PASSWORD", "not-a-real-password")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .env_remove("RAPPORTEUR_HOMESERVER_URL")
        .env_remove("RAPPORTEUR_MATRIX_USER_ID")
        .env_remove("RAPPORTEUR_MATRIX_PASSWORD_FILE")
        .output()
        .expect("run the binary")
}

fn write_config(folder: &std::path::Path, group_file_body: &str) -> std::path::PathBuf {
    std::fs::write(folder.join("group.toml"), group_file_body).expect("write group");
    let config = folder.join("rapporteur.toml");
    std::fs::write(
        &config,
        "[bot]\ndata_dir = \"data\"\n\n[matrix]\nhomeserver_url = \"http://127.0.0.1:9\"\n\
         user_id = \"@bot:localhost\"\n\n[[groups]]\nid = \"g\"\nroom = \"#g:localhost\"\ngroup_file = \"group.toml\"\n",
    )
    .expect("write config");
    config
}

const GOOD_GROUP: &str = "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"UTC\"\n\
    consensus_designations = [\"Full Consensus\"]\n\n[[organizations]]\nshort_name = \"GNSO\"\n\
    name = \"Generic Names Supporting Organization\"\nseats = 1\n";

#[test]
fn version_is_printed() {
    let output = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--version")
        .output()
        .expect("run");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("rapporteur {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_valid_configuration_is_accepted() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), GOOD_GROUP);
    let output = rapporteur(&["check-config"], &config);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("configuration is valid; 1 group: g (G in #g:localhost)"),
        "{text}"
    );
}

#[test]
fn run_refuses_a_broken_configuration_with_the_problems_check_config_reports() {
    let folder = tempfile::tempdir().expect("temp dir");
    let broken = format!(
        "{GOOD_GROUP}\n[[people]]\nid = \"a\"\nname = \"A\"\nmatrix_ids = [\"not-an-id\"]\norganization = \"XYZ\"\nroles = [\"member\"]\n"
    );
    let config = write_config(folder.path(), &broken);
    let checked = rapporteur(&["check-config"], &config);
    let refused = rapporteur(&["run"], &config);
    assert_eq!(checked.status.code(), Some(2));
    assert_eq!(refused.status.code(), Some(2));
    let checked_text = String::from_utf8_lossy(&checked.stderr).to_string();
    let refused_text = String::from_utf8_lossy(&refused.stderr).to_string();
    for expected in [
        "group.toml:15:15: \"not-an-id\" is not a Matrix user ID",
        "group.toml:16:16: unknown organization \"XYZ\"",
        "2 problems in the configuration",
    ] {
        assert!(
            checked_text.contains(expected),
            "check-config: {checked_text}"
        );
        assert!(refused_text.contains(expected), "run: {refused_text}");
    }
    assert!(
        !folder.path().join("data").exists(),
        "run must not start anything"
    );
}

#[test]
fn migrate_creates_the_sqlite_database_and_can_run_twice() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), GOOD_GROUP);
    for _ in 0..2 {
        let output = rapporteur(&["migrate"], &config);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(folder.path().join("data/rapporteur.db").exists());
}

#[test]
fn an_unreachable_database_is_a_clear_error_without_the_password() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), GOOD_GROUP);
    let output = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(&config)
        .arg("migrate")
        .env("RAPPORTEUR_MATRIX_PASSWORD", "x")
        .env(
            "RAPPORTEUR_DATABASE_URL",
            "postgres://bot:hunter2@127.0.0.1:1/rapporteur",
        )
        .output()
        .expect("run");
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("cannot connect to the database postgres://bot:***@127.0.0.1:1/rapporteur"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}
