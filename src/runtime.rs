//! `rapporteur run`: wires storage, the core, the Matrix and mail adapters and the dispatchers
//! together and runs them until a signal asks the bot to stop.
//!
//! The tasks cooperate through the database: the Matrix sync loop and the IMAP reader record
//! messages in the inbox, the handler turns them into outbox items, one dispatcher per channel
//! delivers those. They wake each other with
//! notifications, but the database is the only state: after a crash each task resumes from what
//! is stored.

use crate::config::Settings;
use crate::core::catalog::{Catalog, CatalogError};
use crate::core::directory::Group;
use crate::core::engine::Engine;
use crate::delivery::ChannelDelivery;
use crate::dispatcher::Dispatcher;
use crate::handling::{HANDLING_BATCH, Handler, Routes};
use crate::latency::LatencyProbe;
use crate::mail::imap::ImapReader;
use crate::mail::ingest::MailIngest;
use crate::mail::outgoing::MailSender;
use crate::matrix::{MatrixError, SyncLoop, connect, resolve_rooms};
use crate::storage::{InboxItem, OutboxItem, StorageError, Store};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Matrix(#[from] MatrixError),
    #[error("the built-in command files are invalid: {0}")]
    Catalog(#[from] CatalogError),
    #[error("mail: {0}")]
    Mail(String),
    #[error(transparent)]
    Ownership(#[from] crate::ownership::OwnershipError),
}

/// Opens the database and applies the migrations: the first step of `run`, and all of `migrate`.
pub async fn open_store(settings: &Settings) -> Result<Store, StorageError> {
    let store = Store::connect(&settings.database.url, settings.database.max_connections).await?;
    store.migrate().await?;
    Ok(store)
}

pub fn engine_for(settings: &Settings) -> Result<Engine, CatalogError> {
    Ok(Engine::new(
        Catalog::builtin()?,
        settings.command_prefix.clone(),
    ))
}

pub fn groups_by_id(settings: &Settings) -> HashMap<String, Group> {
    settings
        .groups
        .iter()
        .map(|group| (group.id.clone(), group.group.clone()))
        .collect()
}

/// Handles inputs as the sync loop, the IMAP reader and the clock hand them over, and looks at
/// the whole inbox at start and every few seconds, which catches anything recorded but not
/// handed over (after a crash, say).
async fn handler_loop(
    store: Store,
    mut handler: Handler,
    mut fresh_messages: mpsc::UnboundedReceiver<InboxItem>,
    dispatchers: Vec<DispatcherHandle>,
    clock: Arc<Notify>,
    mut reloaded_groups: watch::Receiver<HashMap<String, Group>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let hand_over = |effect: OutboxItem| {
        if let Some(handle) = dispatchers
            .iter()
            .find(|handle| handle.channel == effect.channel)
        {
            let _ = handle.fresh_effects.send(effect);
        }
    };
    let mut next_scan = tokio::time::Instant::now();
    // Without a reload task (no configuration path), the channel closes at once and is not
    // looked at again.
    let mut reload_open = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            message = fresh_messages.recv() => {
                let Some(message) = message else { return };
                // Whatever else has arrived meanwhile is handled in the same transaction.
                let mut batch = vec![message];
                while batch.len() < HANDLING_BATCH as usize {
                    match fresh_messages.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                match handler.handle_items(&store, &batch, Timestamp::now()).await {
                    Ok(handled) => {
                        if handled.timers_changed {
                            clock.notify_one();
                        }
                        handled.effects.into_iter().for_each(hand_over);
                    }
                    Err(error) => tracing::warn!(%error, "cannot handle a message now; the next scan retries it"),
                }
            }
            _ = tokio::time::sleep_until(next_scan) => {
                match handler.handle_pending(&store).await {
                    Ok(produced) if produced > 0 => {
                        dispatchers.iter().for_each(|handle| handle.outbox_ready.notify_one());
                        clock.notify_one();
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot handle the inbox; retrying"),
                }
                // Mail piped in by `rapporteur ingest-mail` (another process) is found here.
                next_scan = tokio::time::Instant::now() + Duration::from_secs(2);
            }
            changed = reloaded_groups.changed(), if reload_open => {
                reload_open = changed.is_ok();
                if changed.is_ok() {
                    // Between two batches: every input is decided under one version of the
                    // group files, and the next batch under the new one.
                    handler.groups = reloaded_groups.borrow_and_update().clone();
                    tracing::info!(groups = handler.groups.len(), "group files reloaded");
                }
            }
            _ = shutdown.changed() => {}
        }
    }
}

/// Where the running bot writes its process ID, for `rapporteur reload`.
pub fn pid_file(settings: &Settings) -> std::path::PathBuf {
    settings.data_dir.join("rapporteur.pid")
}

/// Reads the configuration again on SIGHUP. A configuration with problems is reported in the
/// log, problem by problem, and the running one is kept; a valid one replaces the groups the
/// handler decides with. Rooms and channels are resolved at start, so a new room or a changed
/// mail server still needs a restart (the log says so).
#[cfg(unix)]
async fn reload_on_hangup(
    config_path: std::path::PathBuf,
    running: Settings,
    groups: watch::Sender<HashMap<String, Group>>,
    mut shutdown: watch::Receiver<bool>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload by restarting");
        return;
    };
    loop {
        tokio::select! {
            received = hangups.recv() => {
                if received.is_none() {
                    return;
                }
            }
            _ = shutdown.changed() => return,
        }
        tracing::info!(config = %config_path.display(), "SIGHUP: reading the configuration again");
        match crate::config::load_settings(&config_path, &crate::config::process_environment) {
            Ok(settings) => {
                let rooms_changed = settings
                    .groups
                    .iter()
                    .map(|group| (&group.id, &group.room))
                    .ne(running.groups.iter().map(|group| (&group.id, &group.room)));
                if rooms_changed {
                    tracing::warn!(
                        "groups or rooms were added, removed or moved: restart the bot to join or leave rooms"
                    );
                }
                let _ = groups.send(groups_by_id(&settings));
            }
            Err(problems) => {
                for problem in &problems {
                    tracing::error!(%problem, "configuration not reloaded");
                }
                tracing::error!(
                    problems = problems.len(),
                    "the configuration has problems; the running one is kept"
                );
            }
        }
    }
}

/// The durable clock: sleeps until the next timer falls due (or it is told that timers
/// changed), then records every due timer as an inbox item of the clock channel, in the
/// transaction that marks it fired, and hands the items to the handler. Timers that fell due
/// while the bot was down fire at the first look after start.
async fn clock_loop(
    store: Store,
    ownership: crate::ownership::Ownership,
    handler: mpsc::UnboundedSender<InboxItem>,
    changed: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Looking at least this often costs little and bounds the delay should a notification be
    // missed (another process scheduling a timer, say).
    const LONGEST_SLEEP: Duration = Duration::from_secs(30);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now_ms = Timestamp::now().as_millisecond();
        // Only the timers of the groups this process owns (see `crate::ownership`).
        let owned = ownership.owned();
        let wait = match store
            .fire_due_timers_of(owned.scope(), now_ms, HANDLING_BATCH)
            .await
        {
            Ok(fired) => {
                let full_batch = fired.len() as i64 == HANDLING_BATCH;
                for item in fired {
                    tracing::info!(timer = %item.conversation, group = %item.group_id, late_ms = now_ms - item.origin_ms, "timer fired");
                    let _ = handler.send(item);
                }
                if full_batch {
                    Duration::ZERO
                } else {
                    match store.next_timer_due_of(owned.scope()).await {
                        Ok(Some(due)) => Duration::from_millis(
                            (due - Timestamp::now().as_millisecond()).max(0) as u64,
                        )
                        .min(LONGEST_SLEEP),
                        Ok(None) => LONGEST_SLEEP,
                        Err(_) => Duration::from_secs(1),
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot read the timers; retrying");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = changed.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// How the handler reaches the dispatcher of one channel.
struct DispatcherHandle {
    channel: &'static str,
    fresh_effects: mpsc::UnboundedSender<OutboxItem>,
    outbox_ready: Arc<Notify>,
}

/// Starts the dispatcher of one channel.
fn spawn_dispatcher<A: ChannelDelivery>(
    store: &Store,
    ownership: &crate::ownership::Ownership,
    adapter: A,
    shutdown: &watch::Receiver<bool>,
) -> (DispatcherHandle, tokio::task::JoinHandle<()>) {
    let (effect_sender, effect_receiver) = mpsc::unbounded_channel();
    let outbox_ready = Arc::new(Notify::new());
    let channel = adapter.channel().name();
    let task = tokio::spawn(
        Dispatcher {
            store: store.clone(),
            adapter,
            fresh_items: effect_receiver,
            outbox_ready: outbox_ready.clone(),
            ownership: ownership.clone(),
        }
        .run(shutdown.clone()),
    );
    (
        DispatcherHandle {
            channel,
            fresh_effects: effect_sender,
            outbox_ready,
        },
        task,
    )
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the bot until SIGTERM or Ctrl-C. With the configuration's path, SIGHUP reads it again
/// (see [`reload_on_hangup`]).
pub async fn run(
    settings: Settings,
    config_path: Option<std::path::PathBuf>,
) -> Result<(), RunError> {
    let store = open_store(&settings).await?;
    let engine = engine_for(&settings)?;
    let groups = groups_by_id(&settings);
    // One sender per group across processes sharing the database: see `crate::ownership`.
    let ownership = crate::ownership::for_process(&settings.data_dir)?;
    tracing::info!(
        database = %crate::storage::redact_database_url(&settings.database.url),
        groups = settings.groups.len(),
        "storage ready"
    );

    let client = connect(&settings.matrix, &settings.data_dir).await?;
    let rooms = resolve_rooms(&client, &settings.groups).await?;
    let routes = Routes {
        rooms: rooms
            .rooms()
            .map(|(room_id, group_id)| (group_id.clone(), room_id.to_string()))
            .collect(),
        mail_enabled: settings.mail.is_some(),
    };
    let handler = Handler::load(&store, engine, groups, routes)
        .await?
        .owned_by(ownership.clone());
    tracing::info!(
        user = %settings.matrix.user_id,
        device = ?client.device_id(),
        "connected to the homeserver"
    );

    let (message_sender, message_receiver) = mpsc::unbounded_channel();
    let latency = LatencyProbe::default();
    let (shutdown_sender, shutdown) = watch::channel(false);

    let mut tasks = Vec::new();
    let mut dispatchers = Vec::new();
    let (handle, task) = spawn_dispatcher(
        &store,
        &ownership,
        crate::matrix::MatrixDelivery {
            client: client.clone(),
            latency: latency.clone(),
        },
        &shutdown,
    );
    dispatchers.push(handle);
    tasks.push(task);
    if let Some(mail) = &settings.mail {
        let sender = MailSender::new(mail).map_err(|error| RunError::Mail(error.to_string()))?;
        let (handle, task) = spawn_dispatcher(&store, &ownership, Arc::new(sender), &shutdown);
        dispatchers.push(handle);
        tasks.push(task);
        if let Some(imap) = &mail.imap {
            let reader = ImapReader {
                settings: imap.clone(),
                store: store.clone(),
                ingest: Arc::new(MailIngest::from_settings(&settings, mail)),
                handler: message_sender.clone(),
            };
            tasks.push(tokio::spawn(reader.run(shutdown.clone())));
        }
        tracing::info!(address = %mail.address, imap = mail.imap.is_some(), "mail channel ready");
    }
    let (groups_sender, reloaded_groups) = watch::channel(groups_by_id(&settings));
    tasks.push(tokio::spawn(crate::ownership::keep_leases(
        store.clone(),
        settings.database.url.clone(),
        reloaded_groups.clone(),
        ownership.clone(),
        shutdown.clone(),
    )));
    #[cfg(unix)]
    if let Some(path) = config_path {
        tasks.push(tokio::spawn(reload_on_hangup(
            path,
            settings.clone(),
            groups_sender,
            shutdown.clone(),
        )));
    }
    #[cfg(not(unix))]
    drop((config_path, groups_sender));
    let pid_path = pid_file(&settings);
    if let Err(error) = std::fs::write(&pid_path, std::process::id().to_string()) {
        tracing::warn!(path = %pid_path.display(), %error, "cannot write the pid file; `rapporteur reload` will not find the bot");
    }
    let clock = Arc::new(Notify::new());
    tasks.push(tokio::spawn(clock_loop(
        store.clone(),
        ownership.clone(),
        message_sender.clone(),
        clock.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(handler_loop(
        store.clone(),
        handler,
        message_receiver,
        dispatchers,
        clock,
        reloaded_groups,
        shutdown.clone(),
    )));
    let sync_loop = SyncLoop::new(client, store.clone(), rooms, message_sender, latency);
    let mut sync_task = tokio::spawn(sync_loop.run(shutdown.clone()));

    let outcome = tokio::select! {
        _ = stop_signal() => {
            tracing::info!("stopping");
            Ok(())
        }
        result = &mut sync_task => match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(RunError::Matrix(error)),
            Err(join_error) => Err(RunError::Matrix(MatrixError::Client(join_error.to_string()))),
        },
    };
    let _ = shutdown_sender.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        for task in tasks {
            let _ = task.await;
        }
        if !sync_task.is_finished() {
            let _ = sync_task.await;
        }
    })
    .await;
    store.close().await;
    let _ = std::fs::remove_file(&pid_path);
    outcome
}
