//! The `rapporteur` binary: command-line parsing, logging, and turning errors into exit codes.
//! The only place that uses `anyhow`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use rapporteur::config::{DEFAULT_CONFIG_PATH, load_settings, process_environment};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rapporteur",
    version,
    about = "Record-keeping bot for cross-community coordination groups"
)]
struct Arguments {
    /// The main configuration file.
    #[arg(long, global = true, default_value = DEFAULT_CONFIG_PATH, env = "RAPPORTEUR_CONFIG")]
    config: PathBuf,
    /// How log lines are written to standard error: `human` (one readable line each) or
    /// `json` (one JSON object a line, every field apart, for a log collector).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human, env = "RAPPORTEUR_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: apply migrations, connect to the homeserver, answer commands until stopped.
    Run,
    /// Validate the configuration and every group file; print each problem at file:line:column.
    CheckConfig,
    /// Ask the running bot to read its group files again (it is sent SIGHUP). The files are
    /// checked first: with problems, they are printed and the bot is left as it is.
    Reload,
    /// Apply the database migrations and exit.
    Migrate,
    /// Write a commented starter configuration (at --config) and a group file for a new group
    /// (groups/<id>.toml beside it), then check them as check-config does. Values not given as
    /// flags are asked for at a terminal.
    Init {
        /// The group's full name.
        #[arg(long)]
        group_name: Option<String>,
        /// The group's short name, such as CCEG-IG (its id is made from it).
        #[arg(long)]
        short_name: Option<String>,
        /// The homeserver's address, such as https://matrix.example.org.
        #[arg(long)]
        homeserver: Option<String>,
        /// The bot's Matrix account, such as @rapporteur:example.org.
        #[arg(long)]
        bot_user: Option<String>,
        /// The group's room, by alias (#group:example.org) or ID.
        #[arg(long)]
        room: Option<String>,
        /// The group's mailing list address (optional).
        #[arg(long)]
        list: Option<String>,
        /// The group's time zone (IANA name, such as Europe/Brussels).
        #[arg(long)]
        time_zone: Option<String>,
        /// An appointing organization, as SHORT=Full name; repeat for each.
        #[arg(long = "organization", value_parser = rapporteur::init::parse_organization)]
        organizations: Vec<(String, String)>,
        /// Replace files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Check everything the bot depends on, in order, one line each with what was found and
    /// what to do: the configuration, the database, the homeserver and rooms, SMTP, IMAP and the
    /// mail authentication settings. Changes nothing. Exits 0 only when every check passed.
    Doctor,
    /// Read one mail (RFC 5322) from standard input and record it, for an MTA pipe or a list
    /// server's hook. Exits 0 once it is durably stored (or quarantined), 75 (try again later)
    /// if it could not be for a reason that may pass, 65 if it never can be (the MTA bounces it).
    IngestMail,
    /// Mail that could not be handled (too large, not mail, no group): list it, or try it again
    /// with the current configuration.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// Mail that got no answer on purpose (the bot's own, automatic replies, bounces, list
    /// traffic without a command): how many for each reason, and the latest.
    IgnoredMail {
        /// Only mail ignored for this reason (own-message, automatic, bulk, mailer-daemon,
        /// bounce, no-command).
        #[arg(long)]
        reason: Option<String>,
        /// How many of the latest to list.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// The secret that tags the bot's Message-IDs, so that it knows its own mail exactly.
    MailSecret {
        #[command(subcommand)]
        action: MailSecretAction,
    },
    /// What the bot has to send: how many items are in each state, the items it gave up on,
    /// and putting them back in the queue once the cause is fixed.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Publish the public record: append each group's new and changed entries to its hash
    /// chain and write the static site (index, a page per entry, JSON and CSV tables, Atom
    /// feed, calendar, record.jsonl), switched to atomically. The running bot does this after
    /// every change, into <data_dir>/site.
    Publish {
        /// The site's folder (a symbolic link to the latest build); default `[bot] site_dir`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import a historic list archive (an mbox file, or a Maildir folder) into a group's list
    /// archive: streamed in constant memory with a progress bar, kept once per Message-ID,
    /// resumable after an interruption (run it again).
    ImportMbox {
        /// The mbox file or Maildir folder.
        path: PathBuf,
        /// The group whose list it is (its id in the configuration).
        #[arg(long)]
        group: String,
    },
    /// Check a published record: a group's record.jsonl, or a site folder (every group's).
    /// Names the first entry that does not match; exits 1 then.
    VerifyRecord {
        /// A record.jsonl file, or a folder holding <group>/record.jsonl files.
        path: PathBuf,
    },
    /// Write a consistent copy of the running bot's SQLite database to a new file (SQLite's
    /// VACUUM INTO: safe while the bot runs). For PostgreSQL it prints the pg_dump command.
    Backup {
        /// The backup file to create (it must not exist).
        file: PathBuf,
    },
    /// Replace the SQLite database with a backup, after checking it (integrity, a schema this
    /// version knows). The bot must be stopped; an older schema is migrated when it starts.
    Restore {
        /// The backup file made by `rapporteur backup`.
        file: PathBuf,
    },
    /// Export a report from the record to standard output, for a group's review or a
    /// spreadsheet.
    Export {
        #[command(subcommand)]
        report: ExportReport,
    },
}

#[derive(Subcommand)]
enum ExportReport {
    /// Per appointing organization: requests addressed, median and worst time to acknowledge and
    /// to respond (in hours), and the share answered on time (WS2 recommendation 7.2.2).
    ResponseTimes {
        /// The output format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Export only this group (its id in the configuration); without it, every group.
        #[arg(long)]
        group: Option<String>,
    },
    /// One row per person of the group file and meeting held: present (remote or in person),
    /// regrets (with reason and alternate) or absent, and the organization the person holds a
    /// seat for (empty for participants, observers and staff).
    Attendance {
        /// The output format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Export only this group (its id in the configuration); without it, every group.
        #[arg(long)]
        group: Option<String>,
    },
    /// The group's meetings as an iCalendar feed (RFC 5545), the same file the bot writes to
    /// `<data_dir>/record/<group>/meetings.ics`.
    Calendar {
        /// The group (its id in the configuration).
        #[arg(long)]
        group: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// Comma-separated values with a header line (RFC 4180).
    Csv,
    /// A JSON array of objects with the CSV's columns as keys.
    Json,
}

#[derive(Subcommand)]
enum QuarantineAction {
    /// List quarantined mail, newest first.
    List {
        /// Include mail already released by a retry.
        #[arg(long)]
        all: bool,
    },
    /// Examine a quarantined mail again and handle it if the current rules allow.
    Retry {
        /// The id shown by `quarantine list`.
        id: i64,
    },
    /// Delete quarantined mail (held or released) received longer ago than the given age.
    Purge {
        /// The age: a number and a unit, s, m, h, d or w (`30d`, `12h`).
        #[arg(long, value_parser = rapporteur::mail::operator::parse_age)]
        older_than: std::time::Duration,
    },
}

#[derive(Subcommand)]
enum MailSecretAction {
    /// Make a new secret for the mail sent from now on. The old ones are kept, so replies to
    /// mail sent before are still recognised; restart every process of the deployment after.
    Rotate,
    /// Forget the secrets replaced by a rotation: mail sent under them is no longer known as
    /// the bot's (its list copies would be read as a person's, replies to it lose their context).
    ForgetRetired,
}

#[derive(Subcommand)]
enum OutboxAction {
    /// How many items are in each state; with --failed, the items given up on or held as
    /// uncertain (a send under way when its process died: it may have left).
    List {
        /// List the items the bot gave up on or holds as uncertain, with their last error.
        #[arg(long)]
        failed: bool,
    },
    /// Put failed or uncertain items back in the queue, due now: the running bot sends them
    /// again (an uncertain mail may then arrive twice: check the recipient's copy first).
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all_failed"])))]
    Retry {
        /// The id shown by `outbox list --failed`.
        id: Option<i64>,
        /// Every failed or uncertain item.
        #[arg(long)]
        all_failed: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// The log format the command line asked for, set once before any command runs.
static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("RAPPORTEUR_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(rapporteur::logging::DEFAULT_LOG_FILTER)
        });
    // Colours only for a person at a terminal; logs written to files stay plain text to grep.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match LOG_FORMAT.get().copied().unwrap_or(LogFormat::Human) {
        LogFormat::Human => builder.with_ansi(ansi).init(),
        // Every field of an event (group, channel, inbox_id, external_id, command, ...) as a
        // key of its own, so a collector can follow one input through its lines.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

fn load(arguments: &Arguments) -> Result<rapporteur::config::Settings, ExitCode> {
    load_settings(&arguments.config, &process_environment).map_err(|problems| {
        for problem in &problems {
            eprintln!("{problem}");
        }
        eprintln!(
            "{} problem{} in the configuration; nothing was started.",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let _ = LOG_FORMAT.set(arguments.log_format);
    match arguments.command {
        Command::CheckConfig => match load(&arguments) {
            Ok(settings) => {
                let groups: Vec<String> = settings
                    .groups
                    .iter()
                    .map(|group| {
                        let place = match (&group.room, &group.mailing_list) {
                            (Some(room), _) => format!("in {room}"),
                            (None, Some(list)) => format!("on {list} only"),
                            (None, None) => String::new(),
                        };
                        format!("{} ({} {place})", group.id, group.group.short_name)
                    })
                    .collect();
                println!(
                    "{}: configuration is valid; {} group{}: {}",
                    arguments.config.display(),
                    groups.len(),
                    if groups.len() == 1 { "" } else { "s" },
                    groups.join(", ")
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Reload => reload_command(&arguments),
        Command::IngestMail
        | Command::Quarantine { .. }
        | Command::IgnoredMail { .. }
        | Command::MailSecret { .. } => mail_command(&arguments),
        Command::Export { .. } => export_command(&arguments),
        Command::Publish { .. } => publish_command(&arguments),
        Command::ImportMbox { .. } => import_command(&arguments),
        Command::VerifyRecord { path } => verify_record_command(&path),
        Command::Outbox { .. } => outbox_command(&arguments),
        Command::Backup { .. } | Command::Restore { .. } => backup_command(&arguments),
        Command::Doctor => doctor_command(&arguments),
        Command::Init { .. } => init_command(&arguments),
        Command::Migrate | Command::Run => {
            init_logging();
            let settings = match load(&arguments) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let runtime = match new_runtime() {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("cannot start the async runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let result: anyhow::Result<()> = runtime.block_on(async {
                if matches!(arguments.command, Command::Migrate) {
                    rapporteur::runtime::open_store(&settings)
                        .await
                        .context("migrate")?;
                    println!("migrations applied");
                    Ok(())
                } else {
                    rapporteur::runtime::run(settings, Some(arguments.config.clone()))
                        .await
                        .context("run")?;
                    Ok(())
                }
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("rapporteur: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `init`: the answers from flags, or asked at a terminal; the files written; then the same
/// check as `check-config`.
fn init_command(arguments: &Arguments) -> ExitCode {
    let Command::Init {
        group_name,
        short_name,
        homeserver,
        bot_user,
        room,
        list,
        time_zone,
        organizations,
        force,
    } = &arguments.command
    else {
        return ExitCode::FAILURE;
    };
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut missing = Vec::new();
    let mut ask = |given: &Option<String>, flag: &str, question: &str, default: Option<&str>| {
        if let Some(value) = given {
            return value.clone();
        }
        if !interactive {
            match default {
                Some(default) => return default.to_string(),
                None => {
                    missing.push(flag.to_string());
                    return String::new();
                }
            }
        }
        loop {
            // An empty default (an optional answer) shows no empty brackets.
            match default {
                Some(default) if !default.is_empty() => eprint!("{question} [{default}]: "),
                _ => eprint!("{question}: "),
            }
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
                return default.unwrap_or_default().to_string();
            }
            let answer = line.trim();
            if !answer.is_empty() {
                return answer.to_string();
            }
            if let Some(default) = default {
                return default.to_string();
            }
        }
    };
    let group_name = ask(group_name, "--group-name", "The group's full name", None);
    let short_name = ask(
        short_name,
        "--short-name",
        "Its short name (such as CCEG-IG)",
        None,
    );
    let homeserver = ask(
        homeserver,
        "--homeserver",
        "The homeserver's address (such as https://matrix.example.org)",
        None,
    );
    let bot_user = ask(
        bot_user,
        "--bot-user",
        "The bot's Matrix account (such as @rapporteur:example.org)",
        None,
    );
    let room = ask(
        room,
        "--room",
        "The group's room (#alias:server or !id:server)",
        None,
    );
    let list_answer = ask(
        list,
        "--list",
        "The group's mailing list address (empty: none)",
        Some(""),
    );
    let time_zone = ask(
        time_zone,
        "--time-zone",
        "The group's time zone",
        Some("UTC"),
    );
    let mut organizations = organizations.clone();
    if organizations.is_empty() && interactive {
        eprintln!(
            "The appointing organizations, one per line as SHORT=Full name; an empty line ends:"
        );
        loop {
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                break;
            }
            match rapporteur::init::parse_organization(line.trim()) {
                Ok(organization) => organizations.push(organization),
                Err(problem) => eprintln!("{problem}"),
            }
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "rapporteur init: give {} (or run it at a terminal to be asked), such as:
  rapporteur init --group-name \"Budget Working Group\" --short-name BWG              --homeserver https://matrix.example.org --bot-user @rapporteur:example.org              --room '#bwg:example.org' --time-zone Europe/Brussels --organization \"GNSO=Generic Names Supporting Organization\"",
            missing.join(", ")
        );
        return ExitCode::from(2);
    }
    let answers = rapporteur::init::InitAnswers {
        group_name,
        short_name,
        homeserver_url: homeserver,
        bot_user_id: bot_user,
        room,
        list_address: Some(list_answer).filter(|list| !list.is_empty()),
        time_zone,
        organizations,
    };
    match rapporteur::init::write(&arguments.config, &answers, *force) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
        }
        Err(error) => {
            eprintln!("rapporteur init: {error}");
            return ExitCode::FAILURE;
        }
    }
    match load_settings(&arguments.config, &process_environment) {
        Ok(settings) => {
            println!(
                "{}: configuration is valid; {} group(s). Next: add the group's people to its file, then `rapporteur doctor`.",
                arguments.config.display(),
                settings.groups.len()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "{} problem{} in the new configuration: correct {}, then run `rapporteur check-config`.",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                if problems.len() == 1 { "it" } else { "them" }
            );
            ExitCode::from(2)
        }
    }
}

/// `doctor`: the configuration's check first (its problems printed as `check-config` prints
/// them), then `rapporteur::doctor`'s, each line printed as soon as it is known.
fn doctor_command(arguments: &Arguments) -> ExitCode {
    let settings = match load_settings(&arguments.config, &process_environment) {
        Ok(settings) => {
            println!(
                "ok    configuration: {} is valid, {} group(s)",
                arguments.config.display(),
                settings.groups.len()
            );
            settings
        }
        Err(problems) => {
            for problem in &problems {
                println!("      {problem}");
            }
            println!(
                "FAIL  configuration: {} problem(s) in {}; correct them (each is shown above with its file:line:column), then run doctor again",
                problems.len(),
                arguments.config.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let runtime = match new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let checks = runtime.block_on(rapporteur::doctor::examine(&settings, |check| {
        println!("{}", check.line())
    }));
    let failed = checks.iter().filter(|check| check.is_failed()).count();
    if failed == 0 {
        println!("every check passed");
        ExitCode::SUCCESS
    } else {
        println!("{failed} check(s) failed");
        ExitCode::FAILURE
    }
}

/// `backup <file>` and `restore <file>` (see `storage::backup`).
fn backup_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<String> = runtime.block_on(async {
        use rapporteur::storage::backup;
        match &arguments.command {
            Command::Backup { file } => {
                if !settings.database.url.starts_with("sqlite:") {
                    return Err(backup::BackupError::Postgres.into());
                }
                let store = rapporteur::runtime::open_store(&settings)
                    .await
                    .context("open the database")?;
                let bytes = store.backup_to(file).await;
                store.close().await;
                Ok(format!(
                    "backed up the database to {} ({} bytes)",
                    file.display(),
                    bytes?
                ))
            }
            Command::Restore { file } => {
                let checked =
                    backup::restore(&settings.database.url, &settings.data_dir, file).await?;
                Ok(format!(
                    "restored the database from {} (schema version {}; the bot migrates it to {} when it starts)",
                    file.display(),
                    checked.schema_version,
                    rapporteur::storage::Store::known_schema_version()
                ))
            }
            _ => Ok(String::new()),
        }
    });
    match result {
        Ok(said) => {
            println!("{said}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("rapporteur: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `reload`: checks the configuration as `check-config` does, then sends SIGHUP to the bot whose
/// process ID is in the data folder. The bot checks the files again itself and keeps its running
/// configuration if they have problems, so a file changed in between does no harm.
fn reload_command(arguments: &Arguments) -> ExitCode {
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(_) => {
            eprintln!("rapporteur: the running bot was not asked to reload.");
            return ExitCode::from(2);
        }
    };
    let pid_path = rapporteur::runtime::pid_file(&settings);
    let pid = match std::fs::read_to_string(&pid_path) {
        Ok(text) => match text.trim().parse::<u32>() {
            Ok(pid) => pid,
            Err(_) => {
                eprintln!(
                    "rapporteur: {} does not hold a process ID",
                    pid_path.display()
                );
                return ExitCode::FAILURE;
            }
        },
        Err(_) => {
            eprintln!(
                "rapporteur: no running bot found ({} is missing); start it with `rapporteur run`",
                pid_path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    // A bot killed without cleaning up leaves its pid file; the number may since belong to
    // another program, which SIGHUP would end. Only a process running rapporteur is signalled.
    let command_line = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !String::from_utf8_lossy(&command_line).contains("rapporteur") {
        eprintln!(
            "rapporteur: no running bot found (process {pid} from {} is not rapporteur); start it with `rapporteur run`",
            pid_path.display()
        );
        return ExitCode::FAILURE;
    }
    match std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
    {
        Ok(status) if status.success() => {
            println!(
                "asked the bot (pid {pid}) to reload {}; its log says whether the files were taken",
                arguments.config.display()
            );
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "rapporteur: cannot signal process {pid} (from {}); is the bot running?",
                pid_path.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// `publish`: the public record, from the database, into the site folder.
fn publish_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let Command::Publish { out } = &arguments.command else {
        return ExitCode::FAILURE;
    };
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let out = out.clone().unwrap_or_else(|| settings.site_dir.clone());
    let runtime = match new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<rapporteur::record::publish::Published> = runtime.block_on(async {
        // An unwritable output is said before the database is even opened.
        rapporteur::record::site::check_writable(&out)?;
        let store = rapporteur::runtime::open_store(&settings)
            .await
            .context("open the database")?;
        let states = rapporteur::record::publish::states_from_store(&store)
            .await
            .context("read the change log")?;
        let empty = rapporteur::core::state::GroupState::default();
        let groups: Vec<_> = settings
            .groups
            .iter()
            .map(|configured| {
                (
                    &configured.group,
                    states.get(&configured.id).unwrap_or(&empty),
                )
            })
            .collect();
        let published =
            rapporteur::record::publish::publish(&store, &groups, &out, jiff::Timestamp::now())
                .await?;
        store.close().await;
        Ok(published)
    });
    match result {
        Ok(published) => {
            println!(
                "published {} ({} new record entr{}); open {}",
                out.display(),
                published.appended,
                if published.appended == 1 { "y" } else { "ies" },
                out.join("index.html").display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("rapporteur: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `import-mbox`: a historic archive into a group's list archive.
fn import_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let Command::ImportMbox { path, group } = &arguments.command else {
        return ExitCode::FAILURE;
    };
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    if settings.group(group).is_none() {
        let known: Vec<&str> = settings.groups.iter().map(|g| g.id.as_str()).collect();
        eprintln!(
            "rapporteur: no group {group:?} in the configuration; the groups are: {}",
            known.join(", ")
        );
        return ExitCode::from(2);
    }
    if !path.exists() {
        eprintln!("rapporteur: {} does not exist", path.display());
        return ExitCode::from(2);
    }
    let runtime = match new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ({eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result: anyhow::Result<rapporteur::record::import::ImportReport> =
        runtime.block_on(async {
            let store = rapporteur::runtime::open_store(&settings)
                .await
                .context("open the database")?;
            let report = rapporteur::record::import::import(&store, group, path, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            store.close().await;
            Ok(report)
        });
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            for skipped in &report.skipped {
                eprintln!("rapporteur: skipped an entry that is not a message, at {skipped}");
            }
            println!(
                "imported {} messages ({} new{}) into {group}'s list archive; `rapporteur publish` shows them",
                report.read,
                report.new,
                if report.resumed_from > 0 {
                    format!(", resumed at {}", report.resumed_from)
                } else {
                    String::new()
                }
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("rapporteur: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `verify-record`: checks record.jsonl files; needs no configuration.
fn verify_record_command(path: &std::path::Path) -> ExitCode {
    match rapporteur::record::verify::verify_path(path) {
        Ok(reports) => {
            for (file, count) in reports {
                println!("{}: {count} entries, the chain verifies", file.display());
            }
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("rapporteur: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// `ingest-mail` and `quarantine`: short-lived commands on the bot's database.
fn mail_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let ingesting = matches!(arguments.command, Command::IngestMail);
    // An MTA treats most failures as permanent and bounces the mail; a configuration mistake
    // must make it keep the mail and try again instead.
    let failure = if ingesting {
        ExitCode::from(rapporteur::mail::operator::EXIT_TEMPORARY_FAILURE)
    } else {
        ExitCode::FAILURE
    };
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return if ingesting { failure } else { code },
    };
    let Some(mail) = settings.mail.clone() else {
        eprintln!("rapporteur: the configuration has no [mail] section");
        return failure;
    };
    // At most the size limit is kept in memory, whatever the size of the mail.
    let (raw, whole_size) = if ingesting {
        match rapporteur::mail::operator::read_mail_bounded(
            &mut std::io::stdin().lock(),
            mail.size_limit_bytes,
        ) {
            Ok(read) => read,
            Err(error) => {
                eprintln!("rapporteur: cannot read the mail from standard input: {error}");
                return failure;
            }
        }
    } else {
        (Vec::new(), 0)
    };
    let runtime = match new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return failure;
        }
    };
    // The status `ingest-mail` answers when the mail cannot be recorded, by the kind of error.
    let mut ingest_failure: Option<u8> = None;
    let result: anyhow::Result<bool> = runtime.block_on(async {
        let store = rapporteur::runtime::open_store(&settings)
            .await
            .context("open the database")?;
        let identity = store
            .mail_identity(jiff::Timestamp::now().as_millisecond())
            .await
            .context("read the mail identity")?;
        let ingest =
            rapporteur::mail::ingest::MailIngest::from_settings(&settings, &mail, identity);
        let succeeded = match &arguments.command {
            Command::IngestMail => {
                match rapporteur::mail::operator::ingest_one(&store, &ingest, &raw, whole_size)
                    .await
                {
                    Ok(outcome) => {
                        println!("{}", rapporteur::mail::operator::describe_outcome(&outcome));
                    }
                    Err(error) => {
                        // Only an error that may pass asks the MTA to try again (75); a mail
                        // that can never be stored is bounced (65) rather than retried until
                        // the MTA drops it without a word.
                        eprintln!("rapporteur: record the mail: {error}");
                        ingest_failure = Some(rapporteur::mail::operator::exit_status_for(&error));
                    }
                }
                ingest_failure.is_none()
            }
            Command::Quarantine {
                action: QuarantineAction::Purge { older_than },
            } => {
                let now_ms = jiff::Timestamp::now().as_millisecond();
                let purged =
                    rapporteur::mail::operator::purge_quarantine(&store, *older_than, now_ms)
                        .await?;
                println!(
                    "purged {purged} quarantined mail{} received more than {} ago",
                    if purged == 1 { "" } else { "s" },
                    describe_age(*older_than)
                );
                true
            }
            Command::IgnoredMail { reason, limit } => {
                print!(
                    "{}",
                    rapporteur::mail::operator::ignored_mail_table(
                        &store,
                        reason.as_deref(),
                        *limit
                    )
                    .await?
                );
                true
            }
            Command::MailSecret {
                action: MailSecretAction::Rotate,
            } => {
                let known = store
                    .rotate_mail_identity_secret(jiff::Timestamp::now().as_millisecond())
                    .await?;
                println!(
                    "a new mail identity secret tags the mail sent from now on; {} older one{} \
                     still recognised. Restart every process of the deployment.",
                    known - 1,
                    if known == 2 { " is" } else { "s are" }
                );
                true
            }
            Command::MailSecret {
                action: MailSecretAction::ForgetRetired,
            } => {
                let forgotten = store.forget_retired_mail_identity_secrets().await?;
                println!(
                    "forgot {forgotten} retired mail identity secret{}",
                    if forgotten == 1 { "" } else { "s" }
                );
                true
            }
            Command::Quarantine {
                action: QuarantineAction::List { all },
            } => {
                print!(
                    "{}",
                    rapporteur::mail::operator::quarantine_table(&store, *all).await?
                );
                true
            }
            Command::Quarantine {
                action: QuarantineAction::Retry { id },
            } => {
                use rapporteur::mail::operator::RetryOutcome;
                match rapporteur::mail::operator::retry_quarantined(&store, &ingest, *id).await? {
                    RetryOutcome::NotFound => {
                        eprintln!(
                            "no quarantined mail with id {id}; see `rapporteur quarantine list`"
                        );
                        false
                    }
                    RetryOutcome::Released(what) => {
                        println!("quarantined mail {id}: {what}; released");
                        true
                    }
                    RetryOutcome::StillHeld(reason) => {
                        eprintln!("quarantined mail {id} is still held: {reason}");
                        false
                    }
                    RetryOutcome::OnlyHeadersKept { size_bytes } => {
                        eprintln!(
                            "quarantined mail {id} is still held: it was over the size limit \
                             ({size_bytes} bytes), so only its headers were kept; ask its \
                             sender to send it again (after raising mail.size_limit_bytes if \
                             it should be read)"
                        );
                        false
                    }
                }
            }
            _ => false,
        };
        store.close().await;
        Ok(succeeded)
    });
    if let Some(status) = ingest_failure {
        return ExitCode::from(status);
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("rapporteur: {error:#}");
            failure
        }
    }
}

/// An age as the operator wrote it, for the purge's answer: in the largest unit that divides it.
fn describe_age(age: std::time::Duration) -> String {
    let seconds = age.as_secs();
    for (unit, size) in [
        ("week", 7 * 86_400),
        ("day", 86_400),
        ("hour", 3600),
        ("minute", 60),
    ] {
        if seconds >= size && seconds.is_multiple_of(size) {
            let count = seconds / size;
            return format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
        }
    }
    format!("{seconds} second{}", if seconds == 1 { "" } else { "s" })
}

/// `outbox list|retry`: the operator's view of what the bot has to send. It only reads, or
/// moves failed items back to pending, which the running bot's dispatchers pick up within
/// seconds (they look at the outbox at least every two seconds).
fn outbox_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let Command::Outbox { action } = &arguments.command else {
        return ExitCode::FAILURE;
    };
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = match new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<bool> = runtime.block_on(async {
        let store = rapporteur::runtime::open_store(&settings)
            .await
            .context("open the database")?;
        let succeeded = match action {
            OutboxAction::List { failed: true } => {
                print!(
                    "{}",
                    rapporteur::mail::operator::failed_outbox_table(&store).await?
                );
                true
            }
            OutboxAction::List { failed: false } => {
                print!(
                    "{}",
                    rapporteur::mail::operator::outbox_counts_table(&store).await?
                );
                true
            }
            OutboxAction::Retry { id, all_failed } => {
                let now_ms = jiff::Timestamp::now().as_millisecond();
                let wanted = if *all_failed { None } else { *id };
                let requeued = store.retry_failed_outbox(wanted, now_ms).await?;
                match (wanted, requeued.as_slice()) {
                    (Some(id), []) => {
                        eprintln!(
                            "no failed or uncertain outbox item with id {id}; see `rapporteur outbox list --failed`"
                        );
                        false
                    }
                    (_, ids) => {
                        let listed: Vec<String> = ids.iter().map(i64::to_string).collect();
                        println!(
                            "{} failed item{} queued again{}; the running bot sends {} within seconds",
                            ids.len(),
                            if ids.len() == 1 { "" } else { "s" },
                            if ids.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", listed.join(", "))
                            },
                            if ids.len() == 1 { "it" } else { "them" }
                        );
                        true
                    }
                }
            }
        };
        store.close().await;
        Ok(succeeded)
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("rapporteur: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `export`: reads every group's change log, rebuilds the state as the running bot does, and
/// prints the report. It only reads, so it is safe beside a running bot.
fn export_command(arguments: &Arguments) -> ExitCode {
    use rapporteur::core::state::GroupState;
    init_logging();
    let Command::Export { report } = &arguments.command else {
        return ExitCode::FAILURE;
    };
    let group = match report {
        ExportReport::ResponseTimes { group, .. } | ExportReport::Attendance { group, .. } => {
            group.clone()
        }
        ExportReport::Calendar { group } => Some(group.clone()),
    };
    let group = &group;
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let groups: Vec<&rapporteur::config::GroupSettings> = settings
        .groups
        .iter()
        .filter(|configured| group.as_ref().is_none_or(|wanted| &configured.id == wanted))
        .collect();
    if let Some(wanted) = group
        && groups.is_empty()
    {
        let known: Vec<&str> = settings.groups.iter().map(|g| g.id.as_str()).collect();
        eprintln!(
            "rapporteur: no group {wanted:?} in the configuration; the groups are: {}",
            known.join(", ")
        );
        return ExitCode::from(2);
    }
    let runtime = match new_runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The states as the bot reads them: a change this version cannot read is skipped, so the
    // export shows the same state the bot decides over.
    let result: anyhow::Result<std::collections::HashMap<String, GroupState>> =
        runtime.block_on(async {
            let store = rapporteur::runtime::open_store(&settings)
                .await
                .context("open the database")?;
            let states = rapporteur::record::publish::states_from_store(&store)
                .await
                .context("read the change log")?;
            store.close().await;
            Ok(states)
        });
    let states = match result {
        Ok(states) => states,
        Err(error) => {
            eprintln!("rapporteur: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let now = jiff::Timestamp::now();
    let empty = GroupState::default();
    let state_of = |configured: &&rapporteur::config::GroupSettings| {
        states.get(&configured.id).unwrap_or(&empty)
    };
    match report {
        ExportReport::ResponseTimes { format, .. } => {
            use rapporteur::core::feedback::response_times::{response_times, to_csv, to_json};
            let rows: Vec<_> = groups
                .iter()
                .flat_map(|configured| response_times(state_of(configured), &configured.group, now))
                .collect();
            match format {
                ExportFormat::Csv => print!("{}", to_csv(&rows)),
                ExportFormat::Json => println!("{}", to_json(&rows)),
            }
        }
        ExportReport::Attendance { format, .. } => {
            use rapporteur::core::meetings::attendance::{attendance_rows, to_csv, to_json};
            let rows: Vec<_> = groups
                .iter()
                .flat_map(|configured| attendance_rows(&configured.group, state_of(configured)))
                .collect();
            match format {
                ExportFormat::Csv => print!("{}", to_csv(&rows)),
                ExportFormat::Json => println!("{}", to_json(&rows)),
            }
        }
        ExportReport::Calendar { .. } => {
            for configured in &groups {
                let state = state_of(configured);
                print!(
                    "{}",
                    rapporteur::core::meetings::calendar::feed(
                        &configured.group,
                        state.meetings.values(),
                        now
                    )
                );
            }
        }
    }
    ExitCode::SUCCESS
}

/// The async runtime of every command: one thread. The bot's work per message is short and
/// mostly waiting (on the homeserver, the mail servers and the stores); on a multi-threaded
/// runtime each message was handed between worker threads several times, and those hand-offs
/// (futex wake-ups, measured with strace for issue 11) cost more than the work. Blocking calls
/// (matrix-sdk's SQLite stores, file I/O) still run on tokio's blocking threads, which are kept
/// alive for ten minutes instead of ten seconds, so that they are not created anew for every
/// command that comes after a quiet spell.
fn new_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_keep_alive(std::time::Duration::from_secs(600))
        .build()
}
