//! `outbox list|retry`: the operator's view of what the bot has to send.

use crate::{Arguments, Command, OutboxAction, init_logging, load, new_runtime};
use anyhow::Context;
use std::process::ExitCode;

/// `outbox list|retry`: the operator's view of what the bot has to send. It only reads, or
/// moves failed items back to pending, which the running bot's dispatchers pick up within
/// seconds (they look at the outbox at least every two seconds).
pub(crate) fn outbox_command(arguments: &Arguments) -> ExitCode {
    init_logging();
    let Command::Outbox { action } = &arguments.command else {
        return ExitCode::FAILURE;
    };
    let settings = match load(arguments) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Some(runtime) = new_runtime() else {
        return ExitCode::FAILURE;
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
