//! The record adapter: files derived from the group's state for the public record to publish.
//! Today that is each group's calendar feed, `<data_dir>/record/<group>/meetings.ics`, and its
//! adopted outcomes (designations with their minority views and Chair's reports, the date of
//! adoption and the publication deadline), `<data_dir>/record/<group>/outcomes.json`, written
//! after every batch that changed a meeting or an outcome and once at start. The file is derived, not
//! durable state: a crash between a commit and the write is mended by the next write (at the
//! latest the next start), so it is written outside the database transaction.
//!
//! Files are replaced atomically (written beside the target, then renamed over it), so a reader
//! such as a web server never sees half a feed.

pub mod charts;
pub mod import;
pub mod publish;
pub mod publisher;
pub mod site;
pub mod verify;

use crate::core::directory::Group;
use crate::core::meetings::calendar::feed;
use crate::core::state::GroupState;
use jiff::Timestamp;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a group's calendar feed is written.
pub fn calendar_feed_path(record_dir: &Path, group_id: &str) -> PathBuf {
    record_dir.join(group_id).join("meetings.ics")
}

/// Writes the group's calendar feed; errors are logged, never fatal, since the feed is written
/// again after the next change.
pub fn write_calendar_feed(record_dir: &Path, group: &Group, state: &GroupState, now: Timestamp) {
    let path = calendar_feed_path(record_dir, &group.id);
    let text = feed(group, state.meetings.values(), now);
    if let Err(error) = write_atomically(&path, text.as_bytes()) {
        tracing::warn!(path = %path.display(), %error, "cannot write the calendar feed");
    }
}

/// Where a group's adopted outcomes are written.
pub fn outcomes_path(record_dir: &Path, group_id: &str) -> PathBuf {
    record_dir.join(group_id).join("outcomes.json")
}

/// Writes the group's calendar feed and adopted outcomes; errors are logged, never fatal,
/// since the files are written again after the next change.
pub fn write_record_files(record_dir: &Path, group: &Group, state: &GroupState, now: Timestamp) {
    write_calendar_feed(record_dir, group, state, now);
    let path = outcomes_path(record_dir, &group.id);
    let outcomes = crate::core::consensus::record::adopted_outcomes(state);
    let written = serde_json::to_vec_pretty(&outcomes)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_atomically(&path, &bytes));
    if let Err(error) = written {
        tracing::warn!(path = %path.display(), %error, "cannot write the adopted outcomes");
    }
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let mut temporary = tempfile_beside(path);
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    if let Err(error) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        temporary.clear();
        return Err(error);
    }
    Ok(())
}

fn tempfile_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}
