//! Publishing: the groups' record entries appended to their hash chains (only what is new or
//! changed), then the whole site written and switched to atomically. Run by `rapporteur
//! publish` and, in the running bot, when a group's publication timer fires. The site
//! is derived: if writing it fails, the next publication writes it whole; the chain is durable
//! and diff-based, so nothing recorded is ever missed or appended twice.

use super::site::{
    GroupRecord, SiteError, begin_build, check_writable, finish_build, write_site,
    write_thread_pages,
};
use crate::core::directory::Group;
use crate::core::record::record_entries;
use crate::core::state::GroupState;
use crate::storage::{StorageError, Store};
use jiff::Timestamp;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error("cannot append to the record's chain: {0}")]
    Storage(#[from] StorageError),
}

/// What a publication did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Links appended to the chains, all groups together.
    pub appended: usize,
    /// The build folder the output now points at.
    pub build: PathBuf,
}

/// How many threads' messages are read from the database at once to write their pages.
const THREADS_PER_READ: usize = 200;

/// Appends each group's new and changed entries to its chain and writes the site to `out`.
pub async fn publish(
    store: &Store,
    groups: &[(&Group, &GroupState)],
    out: &Path,
    now: Timestamp,
) -> Result<Published, PublishError> {
    // An unwritable output is said before anything is appended.
    check_writable(out)?;
    let mut appended = 0;
    let mut records = Vec::new();
    for (group, state) in groups {
        let entries = record_entries(group, state);
        appended += match store.append_record_entries(&group.id, &entries, now).await {
            Ok(count) => count,
            // Another process appended at the same moment: its links are read, and ours (if
            // still new) appended after them.
            Err(_) => {
                store
                    .append_record_entries(&group.id, &entries, now)
                    .await?
            }
        };
        records.push(GroupRecord {
            group,
            state,
            entries,
            chain: store.record_chain(&group.id).await?,
            archive: store.list_archive_headers(&group.id).await?,
        });
    }
    let build = begin_build(out, now)?;
    write_site(&build.folder, &records, now)?;
    // The message pages, a few threads at a time: the archive's text is read as it is written,
    // never all at once. (The threads are computed here again from the same headers as the
    // index's; it costs a small part of reading the text.)
    for record in &records {
        let threads = crate::mail::archive::threads(&record.archive);
        for some_threads in threads.chunks(THREADS_PER_READ) {
            let message_ids: Vec<&str> = some_threads
                .iter()
                .flatten()
                .map(|header| header.message_id.as_str())
                .collect();
            let messages = store
                .list_archive_messages(&record.group.id, &message_ids)
                .await?;
            write_thread_pages(&build.folder, record.group, some_threads, &messages, now)?;
        }
    }
    let build = finish_build(build)?;
    Ok(Published { appended, build })
}

/// Each group's state, from the change log as the bot reads it (a change this version cannot
/// read is skipped, as the bot skips it).
pub async fn states_from_store(
    store: &Store,
) -> Result<std::collections::HashMap<String, GroupState>, StorageError> {
    let mut states: std::collections::HashMap<String, GroupState> = Default::default();
    for (group_id, text) in store.group_changes().await? {
        match serde_json::from_str::<crate::core::state::Change>(&text) {
            Ok(change) => states.entry(group_id).or_default().apply(&change),
            Err(error) => {
                tracing::error!(%error, group = %group_id, "a stored change cannot be read; it is skipped")
            }
        }
    }
    Ok(states)
}
