//! The `rapporteur` binary: command-line parsing, logging, and turning errors into exit codes.
//! The only place that uses `anyhow`. Each command's work is in a module of its own beside this
//! file; this one holds the command line and chooses.

mod export;
mod mail;
mod operations;
mod outbox;
mod setup;

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
        Command::Reload => operations::reload_command(&arguments),
        Command::IngestMail
        | Command::Quarantine { .. }
        | Command::IgnoredMail { .. }
        | Command::MailSecret { .. } => mail::mail_command(&arguments),
        Command::Export { .. } => export::export_command(&arguments),
        Command::Publish { .. } => operations::publish_command(&arguments),
        Command::ImportMbox { .. } => operations::import_command(&arguments),
        Command::VerifyRecord { path } => operations::verify_record_command(&path),
        Command::Outbox { .. } => outbox::outbox_command(&arguments),
        Command::Backup { .. } | Command::Restore { .. } => operations::backup_command(&arguments),
        Command::Doctor => setup::doctor_command(&arguments),
        Command::Init { .. } => setup::init_command(&arguments),
        Command::Migrate | Command::Run => {
            init_logging();
            let settings = match load(&arguments) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let Some(runtime) = new_runtime() else {
                return ExitCode::FAILURE;
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

/// The database and the groups' states as the bot reads them (a change this version cannot read
/// is skipped), for the commands that show or publish the record.
async fn open_store_with_states(
    settings: &rapporteur::config::Settings,
) -> anyhow::Result<(
    rapporteur::storage::Store,
    std::collections::HashMap<String, rapporteur::core::state::GroupState>,
)> {
    use anyhow::Context;
    let store = rapporteur::runtime::open_store(settings)
        .await
        .context("open the database")?;
    let states = rapporteur::record::publish::states_from_store(&store)
        .await
        .context("read the change log")?;
    Ok((store, states))
}

/// The answer to a command naming a group the configuration does not have: the groups it has.
fn unknown_group(settings: &rapporteur::config::Settings, wanted: &str) -> ExitCode {
    let known: Vec<&str> = settings.groups.iter().map(|g| g.id.as_str()).collect();
    eprintln!(
        "rapporteur: no group {wanted:?} in the configuration; the groups are: {}",
        known.join(", ")
    );
    ExitCode::from(2)
}

/// The async runtime of every command: one thread. The bot's work per message is short and
/// mostly waiting (on the homeserver, the mail servers and the stores); on a multi-threaded
/// runtime each message was handed between worker threads several times, and those hand-offs
/// (futex wake-ups, measured with strace for issue 11) cost more than the work. Blocking calls
/// (matrix-sdk's SQLite stores, file I/O) still run on tokio's blocking threads, which are kept
/// alive for ten minutes instead of ten seconds, so that they are not created anew for every
/// command that comes after a quiet spell. `None` when it cannot start, after saying why: the
/// caller returns the exit status its command uses for a failure.
fn new_runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_keep_alive(std::time::Duration::from_secs(600))
        .build()
        .inspect_err(|error| eprintln!("cannot start the async runtime: {error}"))
        .ok()
}
