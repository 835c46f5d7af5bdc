//! The operator's commands: `ingest-mail` (one message from standard input, for an MTA pipe or a
//! list server's hook), `quarantine list|retry|purge` and `outbox list|retry`.

use super::ingest::{IngestOutcome, MailIngest, ingest_mail, ingest_mail_part};
use crate::storage::{StorageError, Store};
use std::io::Read;

/// What `ingest-mail` tells the MTA, as sysexits codes: 0 once the message is durably stored (or
/// deliberately ignored, or quarantined), 75 (temporary failure) when it could not be stored
/// for a reason that may pass (the database unreachable, busy or locked), so the MTA keeps the
/// message and tries again instead of bouncing it.
pub const EXIT_TEMPORARY_FAILURE: u8 = 75;

/// 65 (data error): the mail can never be stored, not even in the quarantine. The MTA bounces
/// it, so its sender learns that it did not arrive; answering 75 would have the MTA retry a
/// mail that fails every time until it gives up on it without a word.
pub const EXIT_DATA_ERROR: u8 = 65;

/// The exit status for an error of `ingest-mail`.
pub fn exit_status_for(error: &StorageError) -> u8 {
    if error.is_transient() {
        EXIT_TEMPORARY_FAILURE
    } else {
        EXIT_DATA_ERROR
    }
}

/// Reads a mail from `input`, keeping at most `size_limit_bytes + 1` bytes: enough to know that
/// a mail is over the limit and to read its headers. The rest is read and counted, not kept,
/// so a mail of any size costs at most the limit in memory, and the MTA that writes it sees
/// every byte taken. Returns the bytes kept and the size of the whole mail.
pub fn read_mail_bounded(
    input: &mut impl Read,
    size_limit_bytes: usize,
) -> std::io::Result<(Vec<u8>, u64)> {
    let keep = size_limit_bytes.saturating_add(1);
    let mut kept = Vec::with_capacity(keep.min(1024 * 1024));
    (&mut *input).take(keep as u64).read_to_end(&mut kept)?;
    let skipped = if kept.len() >= keep {
        std::io::copy(input, &mut std::io::sink())?
    } else {
        0
    };
    let whole = kept.len() as u64 + skipped;
    Ok((kept, whole))
}

/// Records one message read by [`read_mail_bounded`]. The result says what became of it, for
/// the log line.
pub async fn ingest_one(
    store: &Store,
    ingest: &MailIngest,
    raw: &[u8],
    whole_size_bytes: u64,
) -> Result<IngestOutcome, StorageError> {
    store.require_full_durability().await?;
    ingest_mail_part(
        store,
        ingest,
        raw,
        whole_size_bytes,
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
    // A mail over the size limit is kept as its headers only; its size says "(headers kept)".
    for row in rows {
        let received = jiff::Timestamp::from_millisecond(row.received_ms)
            .map(|time| time.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        table.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            row.id,
            row.state,
            row.reason,
            if row.kept_bytes < row.size_bytes {
                format!("{} (headers kept)", row.size_bytes)
            } else {
                row.size_bytes.to_string()
            },
            received,
            printable(row.sender.as_deref().unwrap_or("-")),
            printable(row.subject.as_deref().unwrap_or("-")),
        ));
    }
    Ok(table)
}

/// `rapporteur ignored-mail`: how many mails got no answer on purpose, by reason (the last 90
/// days), and the latest of them, so that a wrong decision (a member's mail taken for the
/// bot's own) can be seen.
pub async fn ignored_mail_table(
    store: &Store,
    reason: Option<&str>,
    limit: i64,
) -> Result<String, StorageError> {
    let counts = store.ignored_mail_counts().await?;
    if counts.is_empty() {
        return Ok("No mail was ignored in the last 90 days.\n".to_string());
    }
    let mut table = String::from("Ignored mail of the last 90 days, by reason:\n");
    for (reason, count) in &counts {
        table.push_str(&format!("  {reason}\t{count}\n"));
    }
    let rows = store.ignored_mail(reason, limit).await?;
    table.push_str("\nignored (UTC)\treason\tsender\tsubject\tmessage-id\n");
    for row in rows {
        let ignored = jiff::Timestamp::from_millisecond(row.ignored_ms)
            .map(|time| time.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        table.push_str(&format!(
            "{ignored}\t{}\t{}\t{}\t{}\n",
            row.reason,
            printable(row.sender.as_deref().unwrap_or("-")),
            printable(row.subject.as_deref().unwrap_or("-")),
            printable_up_to(&row.external_id, 250),
        ));
    }
    Ok(table)
}

/// Text from a mail shown on a terminal: control characters (escape sequences above all) are
/// replaced, and long text is cut.
fn printable(text: &str) -> String {
    printable_up_to(text, 60)
}

/// As [`printable`], cut at `limit` characters: identifiers are shown whole (they are stored
/// at most 250 bytes long), since a cut one cannot be searched for.
fn printable_up_to(text: &str, limit: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|character| {
            if character.is_control() {
                '?'
            } else {
                character
            }
        })
        .take(limit)
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
    /// Only its header section was kept (it was over the size limit): there is nothing to
    /// handle. The sender must send it again, or the MTA deliver it again.
    OnlyHeadersKept {
        size_bytes: i64,
    },
}

/// Examines a quarantined mail again with the current configuration (a raised size limit, a
/// group added), and releases it if it can now be handled.
pub async fn retry_quarantined(
    store: &Store,
    ingest: &MailIngest,
    id: i64,
) -> Result<RetryOutcome, StorageError> {
    let Some((raw, size_bytes)) = store.quarantined_raw_and_size(id).await? else {
        return Ok(RetryOutcome::NotFound);
    };
    if (raw.len() as i64) < size_bytes {
        return Ok(RetryOutcome::OnlyHeadersKept { size_bytes });
    }
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

/// A duration as an operator writes it: a whole number and a unit, `s`, `m` (minutes), `h`,
/// `d` or `w` (`30d`, `12h`, `2w`); a day is 24 hours here.
pub fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let seconds_per_unit: u64 = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a duration; write a number and a unit: 90m, 12h, 30d or 2w"
            ));
        }
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number (as in 30d)"))?;
    number
        .checked_mul(seconds_per_unit)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long a duration"))
}

/// `quarantine purge --older-than`: deletes quarantined mail received longer ago than `age`.
pub async fn purge_quarantine(
    store: &Store,
    age: std::time::Duration,
    now_ms: i64,
) -> Result<u64, StorageError> {
    let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    store.purge_quarantine(now_ms.saturating_sub(age_ms)).await
}

/// `outbox list --failed`: the items the dispatcher gave up on, as a table for the terminal.
pub async fn failed_outbox_table(store: &Store) -> Result<String, StorageError> {
    let rows = store.failed_outbox(200).await?;
    if rows.is_empty() {
        return Ok("No outbox item has failed or is held as uncertain.\n".to_string());
    }
    let mut table = String::from(
        "id\tstate\tchannel\tattempts\tcreated (UTC)\tabout\tdestination\tlast error\n",
    );
    for row in rows {
        let created = jiff::Timestamp::from_millisecond(row.created_ms)
            .map(|time| time.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        table.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            row.id,
            row.state,
            row.channel,
            row.attempts,
            created,
            row.about.as_deref().unwrap_or("-"),
            printable(&row.destination),
            printable(row.last_error.as_deref().unwrap_or("-")),
        ));
    }
    Ok(table)
}

/// `outbox list`: how many items are in each state.
pub async fn outbox_counts_table(store: &Store) -> Result<String, StorageError> {
    let counts = store.outbox_counts().await?;
    if counts.is_empty() {
        return Ok("The outbox is empty.\n".to_string());
    }
    let mut table = String::from("state\titems\n");
    for (state, count) in counts {
        table.push_str(&format!("{state}\t{count}\n"));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_read_as_operators_write_them() {
        let cases: [(&str, Result<u64, &str>); 9] = [
            ("30d", Ok(30 * 86_400)),
            ("12h", Ok(12 * 3600)),
            ("90m", Ok(90 * 60)),
            ("2w", Ok(14 * 86_400)),
            ("45s", Ok(45)),
            ("0d", Ok(0)),
            ("30", Err("is not a duration")),
            ("d", Err("does not start with a whole number")),
            (
                "99999999999999999999w",
                Err("does not start with a whole number"),
            ),
        ];
        for (text, expected) in cases {
            match (parse_age(text), expected) {
                (Ok(duration), Ok(seconds)) => assert_eq!(duration.as_secs(), seconds, "{text}"),
                (Err(message), Err(part)) => assert!(message.contains(part), "{text}: {message}"),
                (got, _) => panic!("{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn a_mail_over_the_limit_is_counted_not_kept() {
        let cases: [(usize, usize, usize); 4] = [
            // (mail size, limit, bytes kept)
            (10, 100, 10),
            (100, 100, 100),
            (101, 100, 101),
            (5_000_000, 1024, 1025),
        ];
        for (size, limit, kept) in cases {
            let mail = vec![b'x'; size];
            let (bytes, whole) = read_mail_bounded(&mut mail.as_slice(), limit).unwrap();
            assert_eq!((bytes.len(), whole), (kept, size as u64), "{size} {limit}");
        }
    }
}
