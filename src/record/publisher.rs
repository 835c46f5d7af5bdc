//! The running bot's publication of the public record: once at start, then a few seconds after
//! the handler last said the groups' state changed, so a burst of commands (a roll call, a
//! meeting's minutes) is one publication, and no command waits for the site to be written.
//! The states are read from the change log, as committed; the chain append is diff-based and
//! the site is rebuilt whole, so a publication lost to a crash is made by the next start.

use crate::core::directory::Group;
use crate::storage::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

/// How long the publisher waits after a change for more changes before it publishes.
pub const DEBOUNCE: Duration = Duration::from_secs(3);

pub struct Publisher {
    pub store: Store,
    /// The configured groups, as the configuration reloader keeps them.
    pub groups: watch::Receiver<HashMap<String, Group>>,
    pub out: PathBuf,
    /// Raised by the handler after every batch that changed a group's state.
    pub changed: watch::Receiver<u64>,
}

impl Publisher {
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), String> {
        self.publish_now().await;
        loop {
            tokio::select! {
                changed = self.changed.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                }
                _ = shutdown.changed() => return Ok(()),
            }
            tokio::select! {
                _ = tokio::time::sleep(DEBOUNCE) => {}
                _ = shutdown.changed() => {}
            }
            self.changed.borrow_and_update();
            self.publish_now().await;
            if *shutdown.borrow() {
                return Ok(());
            }
        }
    }

    /// Publishes from the committed states; a failure is logged, and the next change or start
    /// publishes again.
    async fn publish_now(&self) {
        let states = match super::publish::states_from_store(&self.store).await {
            Ok(states) => states,
            Err(error) => {
                tracing::warn!(%error, "cannot read the change log to publish the record");
                return;
            }
        };
        let groups = self.groups.borrow().clone();
        let empty = crate::core::state::GroupState::default();
        let mut listed: Vec<(&Group, &crate::core::state::GroupState)> = groups
            .values()
            .map(|group| (group, states.get(&group.id).unwrap_or(&empty)))
            .collect();
        listed.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        let now = jiff::Timestamp::now();
        match super::publish::publish(&self.store, &listed, &self.out, now).await {
            Ok(published) => tracing::info!(
                appended = published.appended,
                site = %self.out.display(),
                "published the public record"
            ),
            Err(error) => tracing::warn!(%error, "cannot publish the public record"),
        }
    }
}
