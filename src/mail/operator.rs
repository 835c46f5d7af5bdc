//! The operator's commands for mail: `ingest-mail` (one message from standard input, for an MTA
//! pipe or a list server's hook) and `quarantine list` / `quarantine retry`.

use super::ingest::{IngestOutcome, MailIngest, ingest_mail};
use crate::storage::{StorageError, Store};

/// What `ingest-mail` tells the MTA, as sysexits codes: 0 once the message is durably stored (or
/// deliberately ignored), 75 (temporary failure) when it could not be, so the MTA keeps the
/// message and tries again instead of bouncing it.
pub const EXIT_TEMPORARY_FAILURE: u8 = 75;

/// Reads one message and records it. The result says what became of it, for the log line.
pub async fn ingest_one(
    store: &Store,
    ingest: &MailIngest,
    raw: &[u8],
) -> Result<IngestOutcome, StorageError> {
    store.require_full_durability().await?;
    ingest_mail(
        store,
        ingest,
        raw,
        "pipe",
        None,
        jiff::Timestamp::now().as_millisecond(),
    )
    .await
}

pub fn describe_outcome(outcome: &IngestOutcome) -> String {
    match outcome {
        IngestOutcome::Recorded(Some(item)) => format!("recorded as inbox item {}", item.id),
        IngestOutcome::Recorded(None) => "already recorded earlier; nothing to do".to_string(),
        IngestOutcome::Ignored(reason) => format!("ignored ({reason})"),
        IngestOutcome::Quarantined { id, reason } => {
            format!("quarantined as {id} ({reason}); see `rapporteur quarantine list`")
        }
    }
}

/// The quarantine as a table for the terminal.
pub async fn quarantine_table(
    store: &Store,
    include_released: bool,
) -> Result<String, StorageError> {
    let rows = store.quarantined_mail(!include_released, 200).await?;
    if rows.is_empty() {
        return Ok("The quarantine is empty.\n".to_string());
    }
    let mut table = String::from("id\tstate\treason\tsize\treceived (UTC)\tsender\tsubject\n");
    for row in rows {
        let received = jiff::Timestamp::from_millisecond(row.received_ms)
            .map(|time| time.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        table.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            row.id,
            row.state,
            row.reason,
            row.size_bytes,
            received,
            printable(row.sender.as_deref().unwrap_or("-")),
            printable(row.subject.as_deref().unwrap_or("-")),
        ));
    }
    Ok(table)
}

/// Text from a mail shown on a terminal: control characters (escape sequences above all) are
/// replaced, and long text is cut.
fn printable(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|character| {
            if character.is_control() {
                '?'
            } else {
                character
            }
        })
        .take(60)
        .collect();
    cleaned
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    NotFound,
    /// Handled now: recorded, or ignored by the current rules; the mail is released.
    Released(String),
    /// The current rules still quarantine it.
    StillHeld(&'static str),
}

/// Examines a quarantined mail again with the current configuration (a raised size limit, a
/// group added), and releases it if it can now be handled.
pub async fn retry_quarantined(
    store: &Store,
    ingest: &MailIngest,
    id: i64,
) -> Result<RetryOutcome, StorageError> {
    let Some(raw) = store.quarantined_raw(id).await? else {
        return Ok(RetryOutcome::NotFound);
    };
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let outcome = ingest_mail(store, ingest, &raw, "retry", None, now_ms).await?;
    match outcome {
        IngestOutcome::Quarantined { reason, .. } => Ok(RetryOutcome::StillHeld(reason)),
        other => {
            store.release_quarantined(id, now_ms).await?;
            Ok(RetryOutcome::Released(describe_outcome(&other)))
        }
    }
}
