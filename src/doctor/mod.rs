//! `rapporteur doctor`: checks, in order, everything a deployment depends on, and prints one
//! line per check with what was found and, when it fails, what to do. The configuration first
//! (nothing else can be checked without it), then the database, the homeserver and the mail
//! servers. Every check only reads, or writes and takes back (a database write in a rolled-back
//! transaction, a mail withdrawn before its data): a doctor run is safe beside the running bot.
//!
//! The exit status is 0 only when every check passed; a check that does not apply to this
//! configuration (no `[matrix]`, no IMAP) is skipped and does not count against it.

mod database;
mod mail;
mod matrix;

use crate::config::Settings;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked: `database: migrations`, `matrix: room #cip-ccg:localhost`.
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed(String),
    /// What was found, and what to do about it.
    Failed {
        found: String,
        fix: String,
    },
    /// Not checked, and why (the part is not configured, or an earlier check failed).
    Skipped(String),
}

impl Check {
    fn passed(name: impl Into<String>, found: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            outcome: Outcome::Passed(found.into()),
        }
    }

    fn failed(name: impl Into<String>, found: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            outcome: Outcome::Failed {
                found: found.into(),
                fix: fix.into(),
            },
        }
    }

    fn skipped(name: impl Into<String>, why: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            outcome: Outcome::Skipped(why.into()),
        }
    }

    pub fn is_failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
    }

    /// The line printed for it.
    pub fn line(&self) -> String {
        match &self.outcome {
            Outcome::Passed(found) => format!("ok    {}: {found}", self.name),
            Outcome::Failed { found, fix } => format!("FAIL  {}: {found}; {fix}", self.name),
            Outcome::Skipped(why) => format!("skip  {}: {why}", self.name),
        }
    }
}

/// Runs every check after the configuration's (which the caller has loaded), printing each
/// line as soon as it is known, so that a slow server shows where the doctor waits.
pub async fn examine(settings: &Settings, mut report: impl FnMut(&Check)) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut note = |check: Check, checks: &mut Vec<Check>| {
        report(&check);
        checks.push(check);
    };
    for check in database::checks(settings).await {
        note(check, &mut checks);
    }
    for check in matrix::checks(settings).await {
        note(check, &mut checks);
    }
    for check in mail::checks(settings).await {
        note(check, &mut checks);
    }
    checks
}
