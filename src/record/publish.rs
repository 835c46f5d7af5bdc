//! Publishing: the groups' record entries appended to their hash chains (only what is new or
//! changed), then the whole site written and switched to atomically. Run by `rapporteur
//! publish` and, in the running bot, after every batch that changed a group's state. The site
//! is derived: if writing it fails, the next publication writes it whole; the chain is durable
//! and diff-based, so nothing recorded is ever missed or appended twice.

use super::site::{GroupRecord, SiteError, check_writable, publish_site};
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
            archive: store.list_archive(&group.id).await?,
        });
    }
    let build = publish_site(out, &records, now)?;
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
