//! `ingest-mail` (the MTA's pipe), `quarantine`, `ignored-mail` and `mail-secret`: short-lived commands on the bot's database.

use crate::{
    Arguments, Command, MailSecretAction, QuarantineAction, init_logging, load, new_runtime,
};
use anyhow::Context;
use std::process::ExitCode;

/// `ingest-mail` and `quarantine`: short-lived commands on the bot's database.
pub(crate) fn mail_command(arguments: &Arguments) -> ExitCode {
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
    let Some(runtime) = new_runtime() else {
        return failure;
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
pub(crate) fn describe_age(age: std::time::Duration) -> String {
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
