//! The running bot's publication of the public record: once at start, then whenever the
//! handler committed a group's publication timer (the core schedules it a few seconds after
//! the last change, through the durable clock: `core::record::publication`), so a burst of
//! commands (a roll call, a meeting's minutes) is one publication and no command waits for the
//! site to be written. The states are read from the change log, as committed; the chain append
//! is diff-based and the site is rebuilt whole, so a publication lost to a crash (after the
//! timer's input was committed, before the site was written) is made by the next start.

use crate::core::directory::Group;
use crate::storage::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::sync::watch;

pub struct Publisher {
    pub store: Store,
    /// The configured groups, as the configuration reloader keeps them.
    pub groups: watch::Receiver<HashMap<String, Group>>,
    pub out: PathBuf,
    /// Raised by the handler after a batch in which a publication timer fired.
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
            if *shutdown.borrow() {
                return Ok(());
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
            Ok(published) => {
                crate::observe::metrics::metrics().published(true);
                tracing::info!(
                appended = published.appended,
                site = %self.out.display(),
                    "published the public record"
                )
            }
            Err(error) => {
                crate::observe::metrics::metrics().published(false);
                tracing::warn!(%error, "cannot publish the public record")
            }
        }
    }
}
