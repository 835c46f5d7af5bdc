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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: apply migrations, connect to the homeserver, answer commands until stopped.
    Run,
    /// Validate the configuration and every group file; print each problem at file:line:column.
    CheckConfig,
    /// Apply the database migrations and exit.
    Migrate,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAPPORTEUR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,matrix_sdk=warn,matrix_sdk_crypto=warn,matrix_sdk_base=warn,matrix_sdk::http_client=off"));
    // Colours only for a person at a terminal; logs written to files stay plain text to grep.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
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
    match arguments.command {
        Command::CheckConfig => match load(&arguments) {
            Ok(settings) => {
                let groups: Vec<String> = settings
                    .groups
                    .iter()
                    .map(|group| {
                        format!(
                            "{} ({} in {})",
                            group.id, group.group.short_name, group.room
                        )
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
        Command::Migrate | Command::Run => {
            init_logging();
            let settings = match load(&arguments) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let runtime = match tokio::runtime::Runtime::new() {
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
                    rapporteur::runtime::run(settings).await.context("run")?;
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
