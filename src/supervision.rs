//! How `rapporteur run` watches its tasks. The bot is a handful of long-running tasks (the
//! handler, the clock, one dispatcher per channel, the IMAP reader, the Matrix channel); a task
//! that panics, ends, or keeps failing in a way that retrying cannot mend would leave a process
//! that still runs but no longer hears or speaks. The rule here turns each of those into the end
//! of `run` with an error naming the task, so the process exits non-zero and its supervisor
//! (systemd, a container runtime) starts it again from the database.
//!
//! Invariant: while the bot is not stopping, every task is running or the process is exiting.

use crate::storage::StorageError;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::task::{JoinError, JoinSet};

/// Why `run` stopped a bot that was not asked to stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskFailure {
    #[error("the {task} stopped without being asked to")]
    Ended { task: &'static str },
    #[error("the {task} failed and cannot go on: {reason}")]
    Failed { task: &'static str, reason: String },
    #[error("the {task} panicked: {reason}")]
    Panicked { task: &'static str, reason: String },
}

/// The rule: a task that ends while the bot is stopping has done its job; any other end is a
/// failure of the whole bot.
pub fn judge_task_end(
    task: &'static str,
    outcome: Result<Result<(), String>, JoinError>,
    stopping: bool,
) -> Result<(), TaskFailure> {
    match outcome {
        Ok(Ok(())) if stopping => Ok(()),
        Ok(Ok(())) => Err(TaskFailure::Ended { task }),
        Ok(Err(reason)) => Err(TaskFailure::Failed { task, reason }),
        Err(join_error) => Err(TaskFailure::Panicked {
            task,
            reason: panic_text(join_error),
        }),
    }
}

fn panic_text(error: JoinError) -> String {
    if error.is_cancelled() {
        return "cancelled".to_string();
    }
    let payload = error.into_panic();
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// The watched tasks, each with its name.
#[derive(Default)]
pub struct Supervisor {
    tasks: JoinSet<Result<(), String>>,
    names: std::collections::HashMap<tokio::task::Id, &'static str>,
}

impl Supervisor {
    /// Starts a watched task; its error, if it returns one, is the reason given in the log.
    pub fn spawn<E: std::fmt::Display>(
        &mut self,
        task: &'static str,
        work: impl Future<Output = Result<(), E>> + Send + 'static,
    ) {
        let handle = self
            .tasks
            .spawn(async move { work.await.map_err(|error| error.to_string()) });
        self.names.insert(handle.id(), task);
    }

    /// Waits for the first task to end and judges it; pending forever when there is none.
    pub async fn first_end(&mut self, stopping: bool) -> Result<(), TaskFailure> {
        match self.tasks.join_next_with_id().await {
            Some(Ok((id, result))) => judge_task_end(self.name(id), Ok(result), stopping),
            Some(Err(join_error)) => {
                let task = self.name(join_error.id());
                judge_task_end(task, Err(join_error), stopping)
            }
            None => std::future::pending().await,
        }
    }

    fn name(&self, id: tokio::task::Id) -> &'static str {
        self.names.get(&id).copied().unwrap_or("unnamed task")
    }

    /// After the stop signal: waits for every task to end, each failure logged.
    pub async fn wait_for_all(&mut self) {
        while let Some(joined) = self.tasks.join_next_with_id().await {
            let judged = match joined {
                Ok((id, result)) => judge_task_end(self.name(id), Ok(result), true),
                Err(join_error) => {
                    let task = self.name(join_error.id());
                    judge_task_end(task, Err(join_error), true)
                }
            };
            if let Err(failure) = judged {
                tracing::error!(%failure, "while stopping");
            }
        }
    }

    pub fn abort_all(&mut self) {
        self.tasks.abort_all();
    }
}

/// How long a loop may fail at every attempt before it gives up (the default of
/// `[bot] task_failure_limit_seconds`).
pub const DEFAULT_FAILURE_LIMIT: Duration = Duration::from_secs(300);

/// An error that retrying cannot mend comes back this many times in a row before the loop gives
/// up, so one odd answer does not stop the bot.
pub const PERMANENT_FAILURES_IN_A_ROW: u32 = 3;

/// What a loop does after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    Retry,
    GiveUp(String),
}

/// The failures of one loop since its last success. A loop retries an outage (the database
/// restarting, a network cut) for as long as the limit allows; an error that cannot pass by
/// waiting (a table missing, a database that became read-only) ends it sooner.
#[derive(Debug, Clone)]
pub struct FailureStreak {
    limit: Duration,
    first_failure: Option<Instant>,
    permanent_in_a_row: u32,
}

impl FailureStreak {
    pub fn new(limit: Duration) -> FailureStreak {
        FailureStreak {
            limit,
            first_failure: None,
            permanent_in_a_row: 0,
        }
    }

    pub fn succeeded(&mut self) {
        self.first_failure = None;
        self.permanent_in_a_row = 0;
    }

    pub fn failed(&mut self, permanent: bool, reason: &str, now: Instant) -> AfterFailure {
        let first = *self.first_failure.get_or_insert(now);
        self.permanent_in_a_row = if permanent {
            self.permanent_in_a_row + 1
        } else {
            0
        };
        if self.permanent_in_a_row >= PERMANENT_FAILURES_IN_A_ROW {
            return AfterFailure::GiveUp(format!(
                "{reason} ({} times in a row; waiting cannot mend this)",
                self.permanent_in_a_row
            ));
        }
        let failing_for = now.saturating_duration_since(first);
        if failing_for >= self.limit {
            return AfterFailure::GiveUp(format!(
                "{reason} (every attempt failed for {} s)",
                failing_for.as_secs()
            ));
        }
        AfterFailure::Retry
    }
}

impl FailureStreak {
    /// Counts a failed database operation; the error that ends the loop when retrying is
    /// hopeless.
    pub fn storage_failed(&mut self, error: &StorageError) -> Result<(), String> {
        let permanent = storage_error_is_permanent(error);
        match self.failed(permanent, &error.to_string(), Instant::now()) {
            AfterFailure::Retry => Ok(()),
            AfterFailure::GiveUp(reason) => Err(reason),
        }
    }
}

/// Whether a database error will come back however long the bot waits: the schema is not what
/// the code expects (a table or column missing, a syntax error), the database refuses writes
/// or is damaged, or the login is refused. Connection failures, lock timeouts and the like pass.
pub fn storage_error_is_permanent(error: &StorageError) -> bool {
    let StorageError::Query(sqlx::Error::Database(database_error)) = error else {
        return false;
    };
    let Some(code) = database_error.code() else {
        return false;
    };
    permanent_database_code(&code)
}

/// SQLite result codes (primary codes, and extended ones by their primary part) and PostgreSQL
/// SQLSTATE classes that no retry can pass.
pub fn permanent_database_code(code: &str) -> bool {
    // A SQLSTATE is always five characters; SQLite's codes, extended ones included, are shorter.
    if code.len() < 5
        && let Ok(number) = code.parse::<u32>()
    {
        // SQLite: ERROR (missing table, syntax), PERM, READONLY, CORRUPT, NOTADB. BUSY (5) and
        // LOCKED (6), IOERR (10) and FULL (13) may pass.
        return matches!(number & 0xff, 1 | 3 | 8 | 11 | 26);
    }
    // PostgreSQL: 42 syntax error or access rule violation (undefined table, permission), 28
    // invalid authorization, 3D/3F no such database/schema, 25006 read-only transaction.
    code.starts_with("42")
        || code.starts_with("28")
        || code.starts_with("3D")
        || code.starts_with("3F")
        || code == "25006"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_codes_that_no_retry_passes() {
        let cases = [
            ("1", true),      // SQLite: no such table
            ("8", true),      // SQLite: read-only database
            ("1032", true),   // SQLITE_READONLY_DBMOVED
            ("11", true),     // SQLite: corrupt
            ("5", false),     // SQLite: busy
            ("6", false),     // SQLite: locked
            ("10", false),    // SQLite: I/O error
            ("42P01", true),  // PostgreSQL: undefined table
            ("42501", true),  // PostgreSQL: insufficient privilege
            ("28P01", true),  // PostgreSQL: password refused
            ("25006", true),  // PostgreSQL: read-only transaction
            ("40001", false), // PostgreSQL: serialization failure
            ("57P01", false), // PostgreSQL: admin shutdown
            ("08006", false), // PostgreSQL: connection failure
            ("23505", false), // PostgreSQL: unique violation (the caller's business)
        ];
        for (code, permanent) in cases {
            assert_eq!(permanent_database_code(code), permanent, "{code}");
        }
    }

    #[test]
    fn a_loop_gives_up_on_repeated_permanent_errors_or_a_long_outage() {
        // (failures as (seconds since start, permanent), expected verdict of the last one)
        let limit = Duration::from_secs(300);
        type Case = (&'static str, &'static [(u64, bool)], bool);
        let cases: [Case; 6] = [
            ("one permanent error", &[(0, true)], false),
            (
                "three permanent errors in a row",
                &[(0, true), (1, true), (2, true)],
                true,
            ),
            (
                "permanent errors broken by an outage",
                &[(0, true), (1, true), (2, false), (3, true)],
                false,
            ),
            (
                "an outage shorter than the limit",
                &[(0, false), (299, false)],
                false,
            ),
            (
                "an outage as long as the limit",
                &[(0, false), (150, false), (300, false)],
                true,
            ),
            (
                "a permanent error late in an outage",
                &[(0, false), (301, true)],
                true,
            ),
        ];
        for (name, failures, gives_up) in cases {
            let start = Instant::now();
            let mut streak = FailureStreak::new(limit);
            let mut verdict = AfterFailure::Retry;
            for (second, permanent) in failures {
                verdict = streak.failed(*permanent, "boom", start + Duration::from_secs(*second));
            }
            assert_eq!(
                matches!(verdict, AfterFailure::GiveUp(_)),
                gives_up,
                "{name}: {verdict:?}"
            );
        }
    }

    #[test]
    fn a_success_starts_the_count_again() {
        let start = Instant::now();
        let mut streak = FailureStreak::new(Duration::from_secs(300));
        streak.failed(true, "x", start);
        streak.failed(true, "x", start);
        streak.succeeded();
        let later = start + Duration::from_secs(350);
        assert_eq!(
            streak.failed(true, "x", later),
            AfterFailure::Retry,
            "the permanent errors are counted again from one, and the outage from here"
        );
    }

    #[tokio::test]
    async fn any_end_of_a_task_before_the_stop_is_a_failure_naming_it() {
        let mut supervisor = Supervisor::default();
        supervisor.spawn("clock", async {
            std::future::pending::<()>().await;
            Ok::<(), String>(())
        });
        supervisor.spawn("handler", async { Ok::<(), String>(()) });
        assert_eq!(
            supervisor.first_end(false).await,
            Err(TaskFailure::Ended { task: "handler" })
        );

        let mut supervisor = Supervisor::default();
        supervisor.spawn("IMAP reader", async { Err::<(), _>("login refused") });
        assert_eq!(
            supervisor.first_end(false).await,
            Err(TaskFailure::Failed {
                task: "IMAP reader",
                reason: "login refused".into()
            })
        );

        let mut supervisor = Supervisor::default();
        supervisor.spawn("mail dispatcher", async {
            if std::hint::black_box(true) {
                panic!("index out of bounds");
            }
            Ok::<(), String>(())
        });
        assert_eq!(
            supervisor.first_end(false).await,
            Err(TaskFailure::Panicked {
                task: "mail dispatcher",
                reason: "index out of bounds".into()
            })
        );

        let mut supervisor = Supervisor::default();
        supervisor.spawn("clock", async { Ok::<(), String>(()) });
        assert_eq!(supervisor.first_end(true).await, Ok(()), "asked to stop");
    }
}
