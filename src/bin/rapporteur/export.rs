//! `export`: the reports rebuilt from every group's change log.

use crate::{
    Arguments, Command, ExportFormat, ExportReport, init_logging, load, new_runtime,
    open_store_with_states, unknown_group,
};
use std::process::ExitCode;

/// `export`: reads every group's change log, rebuilds the state as the running bot does, and
/// prints the report. It only reads, so it is safe beside a running bot.
pub(crate) fn export_command(arguments: &Arguments) -> ExitCode {
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
        return unknown_group(&settings, wanted);
    }
    let Some(runtime) = new_runtime() else {
        return ExitCode::FAILURE;
    };
    // The states as the bot reads them: a change this version cannot read is skipped, so the
    // export shows the same state the bot decides over.
    let result: anyhow::Result<std::collections::HashMap<String, GroupState>> =
        runtime.block_on(async {
            let (store, states) = open_store_with_states(&settings).await?;
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
