//! What an operator runs beside the bot: `backup`, `restore`, `reload`, `publish`, `import-mbox` and `verify-record`.

use crate::{
    Arguments, Command, init_logging, load, new_runtime, open_store_with_states, unknown_group,
};
use anyhow::Context;
use std::process::ExitCode;

/// `backup <file>` and `restore <file>` (see `storage::backup`).
pub(crate) fn backup_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Some(runtime) = new_runtime() else {
        return ExitCode::FAILURE;
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
pub(crate) fn reload_command(arguments: &Arguments) -> ExitCode {
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
pub(crate) fn publish_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let Command::Publish { out } = &arguments.command else {
        return ExitCode::FAILURE;
    };
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let out = out.clone().unwrap_or_else(|| settings.site_dir.clone());
    let Some(runtime) = new_runtime() else {
        return ExitCode::FAILURE;
    };
    let result: anyhow::Result<rapporteur::record::publish::Published> = runtime.block_on(async {
        // An unwritable output is said before the database is even opened.
        rapporteur::record::site::check_writable(&out)?;
        let (store, states) = open_store_with_states(&settings).await?;
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
pub(crate) fn import_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let Command::ImportMbox { path, group } = &arguments.command else {
        return ExitCode::FAILURE;
    };
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    if settings.group(group).is_none() {
        return unknown_group(&settings, group);
    }
    if !path.exists() {
        eprintln!("rapporteur: {} does not exist", path.display());
        return ExitCode::from(2);
    }
    let Some(runtime) = new_runtime() else {
        return ExitCode::FAILURE;
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
pub(crate) fn verify_record_command(path: &std::path::Path) -> ExitCode {
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
