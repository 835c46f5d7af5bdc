//! The Matrix channel as `run` starts it: on its own, so that a homeserver that is down at start
//! (or a Matrix login that fails) delays only the room, never the mail. It logs in with backoff,
//! resolves the rooms, and only then starts its dispatcher and sync loop; until then its outbox
//! items wait in the database.

use crate::config::Settings;
use crate::delivery::{ChannelDelivery, DeliveryError};
use crate::dispatcher::Dispatcher;
use crate::latency::LatencyProbe;
use crate::matrix::{MatrixDelivery, RoomDirectory, SyncLoop, connect, resolve_rooms};
use crate::storage::{InboxItem, OutboxItem, Store};
use crate::supervision::FailureStreak;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

const LONGEST_LOGIN_DELAY: Duration = Duration::from_secs(60);

/// A dispatcher whose channel is known before its adapter is: the handler can hand it items at
/// once (they wait in memory and in the outbox) while the adapter is still connecting.
pub struct WaitingDispatcher {
    pub fresh_items: mpsc::UnboundedReceiver<OutboxItem>,
    pub outbox_ready: Arc<Notify>,
    /// The groups whose rows this dispatcher delivers (see `crate::ownership`).
    pub ownership: crate::ownership::Ownership,
}

impl WaitingDispatcher {
    /// Delivers with `adapter` until shutdown (or until the outbox cannot be used).
    pub async fn run<A: ChannelDelivery>(
        self,
        store: Store,
        adapter: A,
        failures: FailureStreak,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), String> {
        Dispatcher {
            store,
            adapter,
            fresh_items: self.fresh_items,
            outbox_ready: self.outbox_ready,
            failures,
            ownership: self.ownership,
        }
        .run(shutdown)
        .await
    }
}

/// The rooms by the name the configuration gives them. The handler addresses a group's room by
/// that name (an alias such as `#cip-ccg:example.org` or a room ID), because it may decide
/// before the homeserver could be asked what an alias stands for; the delivery turns aliases
/// into room IDs.
pub fn configured_rooms(settings: &Settings) -> HashMap<String, String> {
    settings
        .groups
        .iter()
        .filter_map(|group| Some((group.id.clone(), group.room.clone()?)))
        .collect()
}

/// Matrix delivery to rooms named by alias or by ID.
struct DeliveryByRoomName {
    inner: MatrixDelivery,
    room_id_by_alias: HashMap<String, String>,
}

impl ChannelDelivery for DeliveryByRoomName {
    fn channel(&self) -> crate::core::engine::Channel {
        self.inner.channel()
    }

    fn concurrency(&self) -> usize {
        self.inner.concurrency()
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<String, DeliveryError> {
        match self.room_id_by_alias.get(&item.destination) {
            Some(room_id) => {
                let mut resolved = item.clone();
                resolved.destination = room_id.clone();
                self.inner.deliver(&resolved).await
            }
            None => self.inner.deliver(item).await,
        }
    }
}

fn aliases(settings: &Settings, rooms: &RoomDirectory) -> HashMap<String, String> {
    let room_of_group: HashMap<&str, String> = rooms
        .rooms()
        .map(|(room_id, group_id)| (group_id.as_str(), room_id.to_string()))
        .collect();
    settings
        .groups
        .iter()
        .filter_map(|group| {
            let alias = group.room.as_ref().filter(|room| room.starts_with('#'))?;
            Some((alias.clone(), room_of_group.get(group.id.as_str())?.clone()))
        })
        .collect()
}

/// Runs the Matrix channel until shutdown. Logging in and resolving the rooms are retried with
/// backoff for as long as it takes; once connected, the end of the sync loop or of the
/// dispatcher ends the channel (and so `run`, see `supervision`).
pub async fn matrix_channel(
    settings: Settings,
    store: Store,
    inbox: mpsc::UnboundedSender<InboxItem>,
    dispatcher: WaitingDispatcher,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let Some(matrix) = settings.matrix.clone() else {
        return Ok(());
    };
    let mut delay = Duration::from_secs(1);
    let (client, rooms) = loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let attempt = async {
            let client = connect(&matrix, &settings.data_dir).await?;
            let rooms = resolve_rooms(&client, &settings.groups).await?;
            Ok::<_, crate::matrix::MatrixError>((client, rooms))
        };
        let result = tokio::select! {
            result = attempt => result,
            _ = shutdown.changed() => return Ok(()),
        };
        match result {
            Ok(connected) => break connected,
            Err(error) => {
                tracing::warn!(
                    %error,
                    retry_in_s = delay.as_secs(),
                    "cannot connect to the homeserver; the Matrix channel tries again (mail is not held up)"
                );
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
                delay = (delay * 2).min(LONGEST_LOGIN_DELAY);
            }
        }
    };
    tracing::info!(
        user = %matrix.user_id,
        device = ?client.device_id(),
        "connected to the homeserver"
    );
    let latency = LatencyProbe::default();
    let delivery = DeliveryByRoomName {
        inner: MatrixDelivery {
            client: client.clone(),
            latency: latency.clone(),
            store: store.clone(),
            rooms: rooms.clone(),
        },
        room_id_by_alias: aliases(&settings, &rooms),
    };
    let failures = FailureStreak::new(settings.task_failure_limit);
    let mut dispatching =
        tokio::spawn(dispatcher.run(store.clone(), delivery, failures, shutdown.clone()));
    let sync_loop = SyncLoop::new(client, store, rooms, inbox, latency)
        .with_command_prefix(&settings.command_prefix)
        .with_undecryptable_wait(matrix.undecryptable_wait);
    let mut syncing = tokio::spawn(sync_loop.run(shutdown.clone()));
    // Whichever part ends first ends the channel; the other is then stopped with it.
    let first = tokio::select! {
        ended = &mut dispatching => FirstEnded::Dispatcher(ended),
        ended = &mut syncing => FirstEnded::SyncLoop(ended),
    };
    let stopping = *shutdown.borrow();
    let ended = match first {
        FirstEnded::Dispatcher(Ok(Ok(()))) if stopping => Ok(()),
        FirstEnded::Dispatcher(Ok(Ok(()))) => Err("the Matrix dispatcher stopped".to_string()),
        FirstEnded::Dispatcher(Ok(Err(reason))) => {
            Err(format!("the Matrix dispatcher cannot go on: {reason}"))
        }
        FirstEnded::Dispatcher(Err(join_error)) => {
            Err(format!("the Matrix dispatcher panicked: {join_error}"))
        }
        FirstEnded::SyncLoop(Ok(Ok(()))) if stopping => Ok(()),
        FirstEnded::SyncLoop(Ok(Ok(()))) => Err("the Matrix sync loop stopped".to_string()),
        FirstEnded::SyncLoop(Ok(Err(error))) => {
            Err(format!("the Matrix sync loop failed: {error}"))
        }
        FirstEnded::SyncLoop(Err(join_error)) => {
            Err(format!("the Matrix sync loop panicked: {join_error}"))
        }
    };
    if ended.is_err() {
        dispatching.abort();
        syncing.abort();
        return ended;
    }
    // Stopping: the other part finishes what it is doing (a handle already awaited above is
    // finished and not awaited again).
    if !dispatching.is_finished() {
        let _ = dispatching.await;
    }
    if !syncing.is_finished() {
        let _ = syncing.await;
    }
    ended
}

enum FirstEnded {
    Dispatcher(Result<Result<(), String>, tokio::task::JoinError>),
    SyncLoop(Result<Result<(), crate::matrix::MatrixError>, tokio::task::JoinError>),
}
