//! Data-driven tests of `load_settings`: every folder under `tests/config/` is one case.
//!
//! A case folder holds:
//!   * `rapporteur.toml`: the main config file that is loaded;
//!   * any group or secret files it names;
//!   * `expected.txt`: the exact problems, one `Display` per line, in the order they are reported,
//!     with paths relative to the case folder (an empty file means the config must load);
//!   * optionally `env.txt`: the whole environment for the case, as `KEY=VALUE` lines (blank lines
//!     and `#` comments are ignored). Without it the environment is
//!     `RAPPORTEUR_MATRIX_PASSWORD=x` and nothing else. The process environment is never read.
//!
//! Adding a case is adding a folder. To write the `expected.txt` of a new case, run the tests with
//! `RAPPORTEUR_BLESS=1`, then read every line it wrote and check it by hand.

use rapporteur::config::{ConfigProblem, Settings, load_settings};
use rapporteur::core::directory::{Answering, DeadlineDayEnd, FeedbackPolicy};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const DEFAULT_PASSWORD: &str = "x";

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config")
}

fn environment_of(pairs: HashMap<String, String>) -> impl Fn(&str) -> Option<String> {
    move |name: &str| pairs.get(name).cloned()
}

fn default_environment() -> HashMap<String, String> {
    HashMap::from([
        (
            "RAPPORTEUR_MATRIX_PASSWORD".to_string(),
            DEFAULT_PASSWORD.to_string(),
        ),
        (
            "RAPPORTEUR_IMAP_PASSWORD".to_string(),
            DEFAULT_PASSWORD.to_string(),
        ),
    ])
}

/// The environment of a case: its `env.txt`, or the default.
fn case_environment(case: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(case.join("env.txt")) else {
        return default_environment();
    };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{}/env.txt: {line:?} is not KEY=VALUE", case.display()));
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// A problem as a line of `expected.txt`: its `Display`, with the case folder removed from every
/// path (in the file name and in messages that quote a path).
fn normalized(problem: &ConfigProblem, case: &Path) -> String {
    let prefix = format!("{}/", case.display());
    problem.to_string().replace(&prefix, "")
}

fn load_case(
    case: &Path,
    environment: HashMap<String, String>,
) -> Result<Settings, Vec<ConfigProblem>> {
    let environment = environment_of(environment);
    load_settings(&case.join("rapporteur.toml"), &environment)
}

fn case_folders() -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/config exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    folders
}

#[test]
fn every_case_reports_exactly_its_expected_problems() {
    let bless = std::env::var("RAPPORTEUR_BLESS").is_ok_and(|value| value == "1");
    let folders = case_folders();
    assert!(
        folders.len() >= 20,
        "only {} case folders found in {}",
        folders.len(),
        cases_dir().display()
    );
    let mut failures = Vec::new();
    for case in &folders {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let actual: Vec<String> = match load_case(case, case_environment(case)) {
            Ok(_) => Vec::new(),
            Err(problems) => {
                if problems.is_empty() {
                    failures.push(format!("{name}: load_settings failed with no problem"));
                }
                problems.iter().map(|p| normalized(p, case)).collect()
            }
        };
        let expected_path = case.join("expected.txt");
        if bless {
            let mut text = actual.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            std::fs::write(&expected_path, text).expect("write expected.txt");
            continue;
        }
        let expected_text = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|error| panic!("{}: {error}", expected_path.display()));
        let expected: Vec<&str> = expected_text.lines().filter(|l| !l.is_empty()).collect();
        if actual != expected {
            failures.push(format!(
                "{name}:\n--- expected\n{}\n--- actual\n{}\n",
                expected.join("\n"),
                actual.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The problems of one case, for tests that look at a case more closely.
fn problems_of(case: &str) -> Vec<ConfigProblem> {
    let case = cases_dir().join(case);
    match load_case(&case, case_environment(&case)) {
        Ok(_) => panic!("case {} loaded without problems", case.display()),
        Err(problems) => problems,
    }
}

#[test]
fn the_example_config_loads_with_both_example_groups() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let environment = environment_of(default_environment());
    let settings = load_settings(&path, &environment).unwrap_or_else(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("config/example.toml is invalid:\n{}", lines.join("\n"))
    });
    let config_dir = path.parent().unwrap();
    let repository = config_dir.parent().unwrap();
    assert_eq!(settings.config_path, path);
    // "../var/data", resolved against config/ and made absolute without `..`.
    assert_eq!(settings.data_dir, repository.join("var/data"));
    assert_eq!(settings.default_time_zone, "UTC");
    assert_eq!(settings.command_prefix, "!");
    assert_eq!(
        settings.database.url,
        format!(
            "sqlite://{}",
            repository.join("var/data/rapporteur.db").display()
        )
    );
    assert_eq!(settings.database.max_connections, 5);
    assert_eq!(
        settings.matrix.as_ref().unwrap().homeserver_url.as_str(),
        "http://127.0.0.1:8008/"
    );
    assert_eq!(
        settings.matrix.as_ref().unwrap().user_id,
        "@rapporteur:localhost"
    );
    assert_eq!(
        settings.matrix.as_ref().unwrap().device_display_name,
        "rapporteur"
    );
    // The variable wins over the password_file the example names.
    assert_eq!(
        settings
            .matrix
            .as_ref()
            .unwrap()
            .password
            .as_ref()
            .map(|p| p.expose()),
        Some(DEFAULT_PASSWORD)
    );
    assert!(settings.matrix.as_ref().unwrap().access_token.is_none());
    assert!(settings.matrix.as_ref().unwrap().store_passphrase.is_none());

    let summary: Vec<(&str, &str, Option<&str>, &str, &str)> = settings
        .groups
        .iter()
        .map(|group| {
            (
                group.id.as_str(),
                group.room.as_deref().unwrap_or_default(),
                group.mailing_list.as_deref(),
                group.group.short_name.as_str(),
                group.group.time_zone_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "cip-ccg",
                "#cip-ccg:localhost",
                Some("cip-ccg@lists.localhost"),
                "CIP-CCG",
                "America/Los_Angeles"
            ),
            (
                "cceg-ig",
                "#cceg-ig:localhost",
                Some("cceg-ig@lists.localhost"),
                "CCEG-IG",
                "Europe/Brussels"
            ),
        ]
    );
    assert_eq!(
        settings.groups[0].group_file,
        config_dir.join("groups/cip-ccg.toml")
    );
    assert_eq!(settings.group("cceg-ig").unwrap().group.id, "cceg-ig");
    // The group carries where it talks, as the [[groups]] entry gives it.
    let cip_ccg = &settings.groups[0].group;
    assert_eq!(cip_ccg.room.as_deref(), Some("#cip-ccg:localhost"));
    assert_eq!(
        cip_ccg.list_address.as_deref(),
        Some("cip-ccg@lists.localhost")
    );
    // cip-ccg.toml writes out every [feedback] key with its default value.
    assert_eq!(cip_ccg.feedback, FeedbackPolicy::default());
    // The same person has the same id in both example groups.
    let ana_in = |index: usize| {
        settings.groups[index]
            .group
            .find_person("ana.lima@example.org")
            .map(|person| person.id.clone())
    };
    assert_eq!(ana_in(0).as_deref(), Some("ana.lima"));
    assert_eq!(ana_in(0), ana_in(1));
    assert_eq!(
        settings.groups[0].list_id.as_deref(),
        Some("cip-ccg.lists.localhost")
    );
    let mail = settings
        .mail
        .as_ref()
        .expect("the example has a [mail] section");
    assert_eq!(mail.address, "rapporteur@localhost");
    assert_eq!(mail.message_id_domain, "rapporteur.localhost");
    // The example writes out every [limits] key with its default value.
    assert_eq!(
        settings.limits,
        rapporteur::core::rate_limits::RateLimits::default()
    );
    let imap = mail.imap.as_ref().expect("and reads a mailbox");
    assert_eq!((imap.port, imap.idle), (1143, true));
    assert_eq!(imap.password.expose(), DEFAULT_PASSWORD);
    assert!(settings.group("nope").is_none());
}

#[test]
fn the_example_config_documents_every_key_and_override() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml"))
            .expect("config/example.toml");
    for word in [
        "data_dir",
        "default_time_zone",
        "command_prefix",
        "url",
        "max_connections",
        "homeserver_url",
        "user_id",
        "device_display_name",
        "password_file",
        "access_token_file",
        "store_passphrase_file",
        "id",
        "room",
        "mailing_list",
        "group_file",
        "RAPPORTEUR_DATA_DIR",
        "RAPPORTEUR_DEFAULT_TIME_ZONE",
        "RAPPORTEUR_COMMAND_PREFIX",
        "RAPPORTEUR_DATABASE_URL",
        "RAPPORTEUR_HOMESERVER_URL",
        "RAPPORTEUR_MATRIX_USER_ID",
        "RAPPORTEUR_MATRIX_PASSWORD",
        "RAPPORTEUR_MATRIX_PASSWORD_FILE",
        "RAPPORTEUR_MATRIX_ACCESS_TOKEN",
        "RAPPORTEUR_MATRIX_ACCESS_TOKEN_FILE",
        "RAPPORTEUR_MATRIX_STORE_PASSPHRASE",
        "RAPPORTEUR_MATRIX_STORE_PASSPHRASE_FILE",
        "config/groups/cip-ccg.toml",
        "list_id",
        "message_id_domain",
        "size_limit_bytes",
        "trusted_authserv_id",
        "receiving_host",
        "list_server_hosts",
        "list_author_header",
        "pool_size",
        "file_directory",
        "poll_interval_seconds",
        "RAPPORTEUR_SMTP_HOST",
        "RAPPORTEUR_SMTP_PORT",
        "RAPPORTEUR_SMTP_PASSWORD_FILE",
        "RAPPORTEUR_IMAP_HOST",
        "RAPPORTEUR_IMAP_PORT",
        "RAPPORTEUR_IMAP_PASSWORD_FILE",
        "ca_file",
        "allow_plain_on_network",
        "connect_timeout_seconds",
        "command_timeout_seconds",
        "data_timeout_seconds",
        "task_failure_limit_seconds",
        "[limits]",
        "window_minutes",
        "answers_per_sender",
        "mails_per_address",
    ] {
        assert!(
            text.contains(word),
            "config/example.toml does not mention {word}"
        );
    }
}

/// The settings that vouch for a list's delivery are read as written (issue 10, item 1), and
/// addresses keep their local part while their domain is lower-cased (item 4).
#[test]
fn list_trust_settings_are_read() {
    let case = cases_dir().join("valid-list-trust");
    let settings = load_case(&case, default_environment()).unwrap_or_else(|problems| {
        panic!("valid-list-trust is invalid: {problems:?}");
    });
    let mail = settings.mail.expect("[mail]");
    assert_eq!(mail.address, "Rapporteur@localhost");
    assert_eq!(
        mail.list_trust.receiving_host.as_deref(),
        Some("mx.example.org")
    );
    assert_eq!(
        mail.list_trust.list_server_hosts,
        ["mail.lists.example.org", "192.0.2.25", "2001:db8::25"]
    );
    assert_eq!(
        mail.list_trust.author_header,
        rapporteur::mail::ListAuthorHeader::XOriginalFrom
    );
    let people = &settings.groups[0].group.people;
    let ana = rapporteur::core::directory::SenderAddress::Email("Ana.Lima@example.org".into());
    let other_case =
        rapporteur::core::directory::SenderAddress::Email("ana.lima@example.org".into());
    let idn = rapporteur::core::directory::SenderAddress::Email("jo@xn--bcher-kva.example".into());
    let group = &settings.groups[0].group;
    assert_eq!(
        group.identify(&ana).map(|p| p.id.as_str()),
        Some("ana.lima")
    );
    assert_eq!(group.identify(&other_case), None);
    assert_eq!(
        group.identify(&idn).map(|p| p.id.as_str()),
        Some("ana.lima")
    );
    assert_eq!(people.len(), 2);
    // The bot sends to the ASCII form, which every SMTP server takes.
    assert_eq!(
        people[0].emails,
        ["Ana.Lima@example.org", "jo@xn--bcher-kva.example"]
    );
}

#[test]
fn a_minimal_config_takes_the_defaults() {
    let case = cases_dir().join("valid-minimal");
    let settings = load_case(&case, default_environment()).unwrap_or_else(|problems| {
        panic!("valid-minimal is invalid: {problems:?}");
    });
    // The default "../var/data", resolved against the case folder.
    assert_eq!(settings.data_dir, cases_dir().join("var/data"));
    assert_eq!(settings.default_time_zone, "UTC");
    assert_eq!(settings.command_prefix, "!");
    assert_eq!(
        settings.database.url,
        format!(
            "sqlite://{}",
            cases_dir().join("var/data/rapporteur.db").display()
        )
    );
    assert_eq!(settings.database.max_connections, 5);
    assert_eq!(
        settings.matrix.as_ref().unwrap().device_display_name,
        "rapporteur"
    );
    assert_eq!(settings.groups.len(), 1);
    let group = &settings.groups[0];
    assert_eq!(group.id, "test");
    assert_eq!(group.room.as_deref(), Some("#test:localhost"));
    assert_eq!(group.mailing_list, None);
    // The group file names no time zone, so the group takes the default one.
    assert_eq!(group.group.time_zone_name, "UTC");
    assert_eq!(group.group.people.len(), 2);
    assert_eq!(group.group.people[0].id, "ana.lima");
    assert_eq!(group.group.organizations[0].seats, 2);
    assert!(group.group.organizations[0].answerers.is_empty());
    assert_eq!(group.group.room.as_deref(), Some("#test:localhost"));
    assert_eq!(group.group.list_address, None);
    assert_eq!(group.group.feedback, FeedbackPolicy::default());
}

#[test]
fn a_feedback_section_and_answerers_load() {
    let case = cases_dir().join("valid-feedback");
    let settings = load_case(&case, default_environment()).unwrap_or_else(|problems| {
        panic!("valid-feedback is invalid: {problems:?}");
    });
    let group = &settings.groups[0].group;
    let defaults = FeedbackPolicy::default();
    assert_eq!(
        group.feedback,
        FeedbackPolicy {
            acknowledge_within_days: 5,
            respond_within_days: 21,
            // Earliest first, whatever the order in the file.
            reminder_days_before: vec![5, 1],
            deadline_day_end: DeadlineDayEnd::AnywhereOnEarth,
            answering: Answering::Designated,
            ..defaults
        }
    );
    assert_eq!(
        group.list_address.as_deref(),
        Some("test@lists.example.org")
    );
    let gnso = group.organization("GNSO").expect("GNSO");
    let alac = group.organization("ALAC").expect("ALAC");
    assert_eq!(gnso.answerers, ["ana.lima"]);
    let person = |id: &str| group.person_by_id(id).expect("person by id");
    assert!(group.may_answer_for(person("ana.lima"), gnso));
    assert!(!group.may_answer_for(person("pieter.de.vries"), gnso));
    // ALAC names no answerers, so any of its members answers for it.
    assert!(group.may_answer_for(person("bea.alac"), alac));
}

#[test]
fn the_example_meetings_section_and_its_commented_schedule_load() {
    use rapporteur::config::load_group_file;
    use rapporteur::core::meetings::policy::RecurrencePattern;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
    let group = load_group_file(&path, "cip-ccg", "UTC").expect("the example group loads");
    assert_eq!(group.meetings.reminders_minutes_before, [10_080, 1_440, 60]);
    assert_eq!(group.meetings.default_minutes_long, 60);
    assert_eq!(group.meetings.quorum_organizations, Some(12));
    assert!(
        group.meetings.recurring.is_empty(),
        "the schedule is commented out"
    );
    // The commented example is valid as written: uncommented, it loads.
    let text = std::fs::read_to_string(&path).expect("read the example");
    let uncommented = text
        .replace("# [[meetings.recurring]]", "[[meetings.recurring]]")
        .replace("# id = ", "id = ")
        .replace("# title = ", "title = ")
        .replace("# rule = ", "rule = ")
        .replace("# starting = ", "starting = ")
        .replace("# duration = ", "duration = ")
        .replace("# mode = ", "mode = ");
    let folder = tempfile::tempdir().expect("temp dir");
    let copy = folder.path().join("cip-ccg.toml");
    std::fs::write(&copy, uncommented).expect("write the copy");
    // The survey file it names, beside it as in config/groups.
    let surveys = path.parent().expect("the groups folder").join("surveys");
    std::fs::create_dir(folder.path().join("surveys")).expect("surveys folder");
    for entry in std::fs::read_dir(&surveys).expect("config/groups/surveys") {
        let entry = entry.expect("a survey file");
        std::fs::copy(
            entry.path(),
            folder.path().join("surveys").join(entry.file_name()),
        )
        .expect("copy the survey file");
    }
    let group = load_group_file(&copy, "cip-ccg", "UTC").expect("the uncommented example loads");
    let schedule = &group.meetings.recurring[0];
    assert_eq!(schedule.id, "monthly");
    assert_eq!(schedule.minutes_long, 90);
    assert_eq!(schedule.zone_name, "America/Los_Angeles");
    assert!(matches!(
        schedule.rule.pattern,
        RecurrencePattern::Monthly {
            nth: 2,
            every: 1,
            ..
        }
    ));
    // 07:00 in Los Angeles: 15:00 UTC in January, 14:00 UTC in July.
    let starts: Vec<String> = [0, 6]
        .iter()
        .map(|index| {
            let date = schedule.dates(7)[*index];
            schedule.start_on(date).expect("a start").to_string()
        })
        .collect();
    assert_eq!(starts, ["2027-01-12T15:00:00Z", "2027-07-13T14:00:00Z"]);
}

#[test]
fn environment_overrides_replace_file_values() {
    let case = cases_dir().join("valid-minimal");
    let mut environment = default_environment();
    for (key, value) in [
        ("RAPPORTEUR_DATA_DIR", "/srv/rapporteur"),
        ("RAPPORTEUR_DEFAULT_TIME_ZONE", "Asia/Tokyo"),
        ("RAPPORTEUR_COMMAND_PREFIX", "%%"),
        (
            "RAPPORTEUR_DATABASE_URL",
            "postgres://bot:pw@db.example.org/bot",
        ),
        ("RAPPORTEUR_HOMESERVER_URL", "https://matrix.example.org"),
        ("RAPPORTEUR_MATRIX_USER_ID", "@bot:example.org"),
    ] {
        environment.insert(key.to_string(), value.to_string());
    }
    let settings = load_case(&case, environment).expect("overrides are valid");
    assert_eq!(settings.data_dir, Path::new("/srv/rapporteur"));
    assert_eq!(settings.default_time_zone, "Asia/Tokyo");
    assert_eq!(settings.groups[0].group.time_zone_name, "Asia/Tokyo");
    assert_eq!(settings.command_prefix, "%%");
    assert_eq!(
        settings.database.url,
        "postgres://bot:pw@db.example.org/bot"
    );
    assert_eq!(
        settings.matrix.as_ref().unwrap().homeserver_url.as_str(),
        "https://matrix.example.org/"
    );
    assert_eq!(
        settings.matrix.as_ref().unwrap().user_id,
        "@bot:example.org"
    );
}

#[test]
fn several_problems_span_the_main_file_and_a_group_file() {
    let problems = problems_of("several-problems");
    let files: std::collections::BTreeSet<String> = problems
        .iter()
        .map(|p| p.file.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert!(files.contains("rapporteur.toml"), "{files:?}");
    assert!(files.contains("a.toml"), "{files:?}");
    assert!(problems.len() >= 6, "{problems:?}");
}

#[test]
fn secrets_never_appear_in_problems_or_settings() {
    let password = "correct-horse-battery-staple";
    let token = "syt_secret_access_token_value";
    let passphrase = "crypto-store-passphrase-value";

    // Every case, with distinctive secrets in the environment.
    for case in case_folders() {
        let mut environment = case_environment(&case);
        environment.insert("RAPPORTEUR_MATRIX_PASSWORD".into(), password.into());
        environment.insert("RAPPORTEUR_MATRIX_ACCESS_TOKEN".into(), token.into());
        environment.insert(
            "RAPPORTEUR_MATRIX_STORE_PASSPHRASE".into(),
            passphrase.into(),
        );
        let text = match load_case(&case, environment) {
            Ok(settings) => format!("{settings:?}"),
            Err(problems) => problems
                .iter()
                .map(|p| format!("{p} {p:?}"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        for secret in [password, token, passphrase] {
            assert!(
                !text.contains(secret),
                "{} shows a secret: {text}",
                case.display()
            );
        }
    }

    // Secrets read from files named by the config and by *_FILE variables.
    let directory = tempfile::tempdir().expect("temp dir");
    let case = cases_dir().join("valid-minimal");
    let config = std::fs::read_to_string(case.join("rapporteur.toml"))
        .unwrap()
        .replace(
            "[matrix]",
            "[matrix]\npassword_file = \"password\"\nstore_passphrase_file = \"passphrase\"",
        );
    std::fs::write(directory.path().join("rapporteur.toml"), config).unwrap();
    std::fs::create_dir(directory.path().join("groups")).unwrap();
    std::fs::copy(
        case.join("groups/test.toml"),
        directory.path().join("groups/test.toml"),
    )
    .unwrap();
    std::fs::write(directory.path().join("password"), format!("{password}\n")).unwrap();
    std::fs::write(directory.path().join("passphrase"), passphrase).unwrap();
    let token_file = directory.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let environment = environment_of(HashMap::from([(
        "RAPPORTEUR_MATRIX_ACCESS_TOKEN_FILE".to_string(),
        token_file.display().to_string(),
    )]));
    let settings = load_settings(&directory.path().join("rapporteur.toml"), &environment)
        .expect("config with secret files loads");
    assert_eq!(
        settings
            .matrix
            .as_ref()
            .unwrap()
            .password
            .as_ref()
            .unwrap()
            .expose(),
        password
    );
    assert_eq!(
        settings
            .matrix
            .as_ref()
            .unwrap()
            .access_token
            .as_ref()
            .unwrap()
            .expose(),
        token
    );
    assert_eq!(
        settings
            .matrix
            .as_ref()
            .unwrap()
            .store_passphrase
            .as_ref()
            .unwrap()
            .expose(),
        passphrase
    );
    let debug = format!("{settings:?} {settings:#?}");
    for secret in [password, token, passphrase] {
        assert!(!debug.contains(secret), "Debug of Settings shows a secret");
    }
}
