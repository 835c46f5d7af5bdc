//! What an operator runs by hand, as a process: `rapporteur backup` and `restore` (and what
//! each refuses, in words), `publish` into the configured `site_dir`, and `migrate` refusing a
//! database that a newer version made, and `init` from flags and at a terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rapporteur(config: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config)
        .args(arguments)
        .env("RAPPORTEUR_MATRIX_PASSWORD", "not-a-real-password")
        .env("RAPPORTEUR_LOG", "error")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .output()
        .expect("run the binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A configuration with one group, its SQLite database in `data/`, its site in `public/`.
fn write_config(folder: &Path) -> PathBuf {
    std::fs::write(
        folder.join("group.toml"),
        "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"UTC\"\n\
         consensus_designations = [\"Consensus\"]\n",
    )
    .expect("write group");
    let config = folder.join("rapporteur.toml");
    std::fs::write(
        &config,
        "[bot]\ndata_dir = \"data\"\nsite_dir = \"public\"\n\n[matrix]\n\
         homeserver_url = \"http://127.0.0.1:9\"\nuser_id = \"@bot:localhost\"\n\n\
         [[groups]]\nid = \"g\"\nroom = \"#g:localhost\"\ngroup_file = \"group.toml\"\n",
    )
    .expect("write config");
    config
}

#[test]
fn publish_without_out_writes_the_configured_site_dir() {
    // Regression: `publish` wrote <data_dir>/site whatever `[bot] site_dir` said.
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path());
    let published = rapporteur(&config, &["publish"]);
    assert!(published.status.success(), "{published:?}");
    assert!(folder.path().join("public/g/index.html").is_file());
    assert!(!folder.path().join("data/site").exists());
}

#[test]
fn a_backup_is_made_checked_and_restored_and_each_refusal_says_why() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path());
    let migrated = rapporteur(&config, &["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    let backup = folder.path().join("backup.db");
    let backup_arg = backup.to_str().unwrap();

    let made = rapporteur(&config, &["backup", backup_arg]);
    assert!(made.status.success(), "{made:?}");
    assert!(
        text(&made.stdout).contains("backed up the database to"),
        "{made:?}"
    );
    let again = rapporteur(&config, &["backup", backup_arg]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("exists already"), "{again:?}");

    // A running bot (its pid file names a live process: this test's) is not restored under.
    std::fs::write(
        folder.path().join("data/rapporteur.pid"),
        std::process::id().to_string(),
    )
    .unwrap();
    let running = rapporteur(&config, &["restore", backup_arg]);
    assert_eq!(running.status.code(), Some(1));
    assert!(
        text(&running.stderr).contains("the bot is running"),
        "{running:?}"
    );
    std::fs::remove_file(folder.path().join("data/rapporteur.pid")).unwrap();

    let garbage = folder.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a database at all, just some bytes").unwrap();
    let refused = rapporteur(&config, &["restore", garbage.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("is not a rapporteur backup"),
        "{refused:?}"
    );

    let restored = rapporteur(&config, &["restore", backup_arg]);
    assert!(restored.status.success(), "{restored:?}");
    assert!(text(&restored.stdout).contains("restored the database from"));
    let migrated_again = rapporteur(&config, &["migrate"]);
    assert!(migrated_again.status.success(), "{migrated_again:?}");
}

#[tokio::test]
async fn migrate_refuses_a_database_of_a_newer_version() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path());
    assert!(rapporteur(&config, &["migrate"]).status.success());
    let url = format!(
        "sqlite://{}",
        folder.path().join("data/rapporteur.db").display()
    );
    let store = rapporteur::storage::Store::connect(&url, 1)
        .await
        .expect("open");
    let newer = rapporteur::storage::Store::known_schema_version() + 1;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'newer', TRUE, $2, 0)",
    )
    .bind(newer)
    .bind(vec![0u8; 48])
    .execute(store.pool())
    .await
    .expect("a newer migration");
    store.close().await;

    for command in ["migrate", "run"] {
        let refused = rapporteur(&config, &[command]);
        assert_eq!(refused.status.code(), Some(1), "{command}: {refused:?}");
        assert!(
            text(&refused.stderr).contains(&format!(
                "the database has schema version {newer}, made by a newer rapporteur"
            )),
            "{command}: {refused:?}"
        );
    }
}

#[test]
fn init_writes_a_configuration_that_checks_and_refuses_to_overwrite_it() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = folder.path().join("etc/rapporteur.toml");
    let arguments = [
        "init",
        "--group-name",
        "Budget Working Group",
        "--short-name",
        "BWG",
        "--homeserver",
        "https://matrix.example.org",
        "--bot-user",
        "@rapporteur:example.org",
        "--room",
        "#bwg:example.org",
        "--list",
        "bwg@lists.example.org",
        "--time-zone",
        "Europe/Brussels",
        "--organization",
        "GNSO=Generic Names Supporting Organization",
        "--organization",
        "ALAC=At-Large Advisory Committee",
    ];
    let made = rapporteur(&config, &arguments);
    assert!(made.status.success(), "{made:?}");
    let said = text(&made.stdout);
    assert!(
        said.contains("wrote") && said.contains("configuration is valid; 1 group(s)"),
        "{said}"
    );
    let group = std::fs::read_to_string(folder.path().join("etc/groups/bwg.toml")).unwrap();
    assert!(group.contains("short_name = \"ALAC\""), "{group}");
    let checked = rapporteur(&config, &["check-config"]);
    assert!(checked.status.success(), "{checked:?}");
    assert!(text(&checked.stdout).contains("bwg (BWG in #bwg:example.org)"));

    let again = rapporteur(&config, &arguments);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("exists already: add --force"));

    // Without a terminal, a missing answer is named with an example of the whole command.
    let other = folder.path().join("other/rapporteur.toml");
    let incomplete = rapporteur(&other, &["init", "--group-name", "X"]);
    assert_eq!(incomplete.status.code(), Some(2));
    let said = text(&incomplete.stderr);
    assert!(
        said.contains("give --short-name, --homeserver, --bot-user, --room")
            && said.contains("such as"),
        "{said}"
    );
    assert!(!other.exists());
}

/// At a terminal, `init` asks for what the flags did not give: a required answer left empty is
/// asked again, an empty answer takes the default shown in brackets, a malformed organization
/// line is explained and the next line read; the answers reach the files as TOML strings, quotes
/// and all. Typed at a real pseudo-terminal (tests/support/at_terminal.py, Python's pty module).
#[test]
fn init_at_a_terminal_asks_for_each_answer_and_writes_what_was_typed() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = folder.path().join("etc/rapporteur.toml");
    // (what the program shows, what the person types)
    let exchange: &[(&str, &str)] = &[
        ("The group's full name: ", ""),
        ("The group's full name: ", "Budget \"Working\" Group"),
        ("Its short name (such as CCEG-IG): ", "BWG"),
        ("The homeserver's address", "https://matrix.example.org"),
        ("The bot's Matrix account", "@rapporteur:example.org"),
        ("The group's room", "#bwg:example.org"),
        ("The group's mailing list address (empty: none): ", ""),
        ("The group's time zone [UTC]: ", "Europe/Brussels"),
        (
            "one per line as SHORT=Full name; an empty line ends:",
            "GNSO=Generic Names Supporting Organization",
        ),
        ("", "ALAC At-Large"),
        ("is not an organization", "ALAC=At-Large Advisory Committee"),
        ("", ""),
    ];
    let exchange_json = serde_json::to_string(exchange).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/at_terminal.py");
    let run = Command::new("python3")
        .arg(&driver)
        .arg(&exchange_json)
        .arg(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(&config)
        .arg("init")
        .env("RAPPORTEUR_MATRIX_PASSWORD", "not-a-real-password")
        .env("RAPPORTEUR_LOG", "error")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .output()
        .expect("run python3 with the pseudo-terminal driver");
    let transcript = text(&run.stdout);
    assert!(run.status.success(), "{transcript}\n{}", text(&run.stderr));
    assert!(
        transcript.contains(
            "\"ALAC At-Large\" is not an organization: write its short name, '=', its full name"
        ),
        "{transcript}"
    );
    assert!(
        transcript.contains("configuration is valid; 1 group(s)"),
        "{transcript}"
    );

    let main: toml::Value =
        toml::from_str(&std::fs::read_to_string(&config).unwrap()).expect("the written TOML");
    assert_eq!(
        main["matrix"]["homeserver_url"].as_str(),
        Some("https://matrix.example.org")
    );
    assert_eq!(main["groups"][0]["room"].as_str(), Some("#bwg:example.org"));
    assert!(
        main["groups"][0].get("mailing_list").is_none(),
        "no list was given"
    );
    let group: toml::Value = toml::from_str(
        &std::fs::read_to_string(folder.path().join("etc/groups/bwg.toml")).unwrap(),
    )
    .expect("the written group file");
    assert_eq!(
        group["group"]["name"].as_str(),
        Some("Budget \"Working\" Group")
    );
    assert_eq!(
        group["group"]["time_zone"].as_str(),
        Some("Europe/Brussels")
    );
    let organizations: Vec<(&str, &str)> = group["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|organization| {
            (
                organization["short_name"].as_str().unwrap(),
                organization["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        organizations,
        [
            ("GNSO", "Generic Names Supporting Organization"),
            ("ALAC", "At-Large Advisory Committee")
        ]
    );
}
