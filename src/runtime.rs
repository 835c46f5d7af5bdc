//! `rapporteur run`: wires storage, the core, the Matrix and mail adapters and the dispatchers
//! together and runs them until a signal asks the bot to stop.
//!
//! The tasks cooperate through the database: the Matrix sync loop and the IMAP reader record
//! messages in the inbox, the handler turns them into outbox items, one dispatcher per channel
//! delivers those. They wake each other with
//! notifications, but the database is the only state: after a crash each task resumes from what
//! is stored. Each channel starts on its own (a homeserver that is down holds up only the room),
//! and every task is watched (see `supervision`): one that panics, ends or cannot go on ends
//! `run` with an error naming it.

use crate::channels::{WaitingDispatcher, configured_rooms, matrix_channel};
use crate::config::Settings;
use crate::core::catalog::{Catalog, CatalogError};
use crate::core::directory::Group;
use crate::core::engine::{Channel, Engine};
use crate::handling::{HANDLING_BATCH, Handler, Routes};
use crate::mail::imap::ImapReader;
use crate::mail::ingest::MailIngest;
use crate::mail::outgoing::MailSender;
use crate::matrix::MatrixError;
use crate::storage::{InboxItem, OutboxItem, StorageError, Store};
use crate::supervision::{FailureStreak, Supervisor, TaskFailure};
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
    Task(#[from] TaskFailure),
    #[error(transparent)]
    Ownership(#[from] crate::ownership::OwnershipError),
    #[error("{0}")]
    Http(String),
}

/// Opens the database and applies the migrations: the first step of `run`, and all of `migrate`.
pub async fn open_store(settings: &Settings) -> Result<Store, StorageError> {
    // The data folder is the owner's alone (database, Matrix stores, session): folders made
    // by an older version or by hand are tightened here, before anything is opened.
    if let Err(error) = crate::storage::tighten_private_tree(&settings.data_dir) {
        tracing::warn!(folder = %settings.data_dir.display(), %error, "cannot make the data folder owner-only");
    }
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
#[allow(clippy::too_many_arguments)]
async fn handler_loop(
    store: Store,
    mut handler: Handler,
    mut fresh_messages: mpsc::UnboundedReceiver<InboxItem>,
    dispatchers: Vec<DispatcherHandle>,
    clock: Arc<Notify>,
    mut reloaded_groups: watch::Receiver<HashMap<String, Group>>,
    mut failures: FailureStreak,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    let hand_over = |effect: OutboxItem| {
        if let Some(handle) = dispatchers
            .iter()
            .find(|handle| handle.channel == effect.channel)
        {
            let _ = handle.fresh_effects.send(effect);
        }
    };
    let mut next_scan = tokio::time::Instant::now();
    // When the last fresh message was handled, and whether the database was written since the
    // last checkpoint: the write-ahead log is checkpointed in quiet moments, not by a command.
    let mut last_fresh = tokio::time::Instant::now();
    let mut written_since_checkpoint = true;
    // Scans that found nothing since the last message: the inbox is looked at every two seconds
    // while there is activity and every ten once the bot has been quiet for three scans, so that
    // an idle bot costs next to nothing (issue 11).
    let mut quiet_scans = 0_u32;
    // Without a reload task (no configuration path), the channel closes at once and is not
    // looked at again.
    let mut reload_open = true;
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        // The systemd watchdog is fed only while this loop turns (`observe::systemd`).
        crate::observe::systemd::beat();
        tokio::select! {
            message = fresh_messages.recv() => {
                let Some(message) = message else {
                    if *shutdown.borrow() {
                        return Ok(());
                    }
                    return Err("every sender of new messages has gone".into());
                };
                // Whatever else has arrived meanwhile is handled in the same transaction.
                let mut batch = vec![message];
                while batch.len() < HANDLING_BATCH as usize {
                    match fresh_messages.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                last_fresh = tokio::time::Instant::now();
                written_since_checkpoint = true;
                quiet_scans = 0;
                match handler.handle_fresh_items(&store, &batch, Timestamp::now()).await {
                    Ok(handled) => {
                        failures.succeeded();
                        if handled.timers_changed {
                            clock.notify_one();
                        }
                        handled.effects.into_iter().for_each(hand_over);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot handle a message now; the next scan retries it");
                        failures.storage_failed(&error)?;
                    }
                }
            }
            _ = tokio::time::sleep_until(next_scan) => {
                match handler.handle_pending(&store).await {
                    Ok(produced) => {
                        failures.succeeded();
                        quiet_scans = if produced > 0 { 0 } else { quiet_scans.saturating_add(1) };
                        if produced > 0 {
                            written_since_checkpoint = true;
                            dispatchers.iter().for_each(|handle| handle.outbox_ready.notify_one());
                            clock.notify_one();
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot handle the inbox; retrying");
                        failures.storage_failed(&error)?;
                    }
                }
                if written_since_checkpoint && last_fresh.elapsed() >= Duration::from_secs(1) {
                    match store.checkpoint().await {
                        Ok(_) => written_since_checkpoint = false,
                        Err(error) => tracing::debug!(%error, "cannot checkpoint the database now; SQLite will when it must"),
                    }
                }
                // Mail piped in by `rapporteur ingest-mail` (another process) is found here.
                next_scan = tokio::time::Instant::now() + crate::dispatcher::scan_interval(quiet_scans);
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
    store: Store,
    groups: watch::Sender<HashMap<String, Group>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload by restarting");
        // Not a failure of the bot: it runs on without reloading until it is stopped.
        let _ = shutdown.changed().await;
        return Ok(());
    };
    loop {
        tokio::select! {
            received = hangups.recv() => {
                if received.is_none() {
                    return Err("the SIGHUP listener closed".into());
                }
            }
            _ = shutdown.changed() => return Ok(()),
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
                // Schedules and ICANN meeting dates added to a group file get their timers now,
                // not at the next start (each timer is made once, under its own key).
                if let Err(error) = ensure_recurring_schedules(&store, &settings).await {
                    tracing::warn!(%error, "cannot schedule the reloaded group files' timers; the next start will");
                }
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
    mut failures: FailureStreak,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), String> {
    // Looking at least this often costs little and bounds the delay should a notification be
    // missed (another process scheduling a timer, say).
    const LONGEST_SLEEP: Duration = Duration::from_secs(30);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let now_ms = Timestamp::now().as_millisecond();
        // Only the timers of the groups this process owns (see `crate::ownership`).
        let owned = ownership.owned();
        let wait = match store
            .fire_due_timers_of(owned.scope(), now_ms, HANDLING_BATCH)
            .await
        {
            Ok(fired) => {
                failures.succeeded();
                let full_batch = fired.len() as i64 == HANDLING_BATCH;
                for item in fired {
                    crate::observe::metrics::metrics().input_received("clock");
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
                failures.storage_failed(&error)?;
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

/// The two ends of a channel's dispatcher: the handler's, and the dispatcher's own, to be run
/// once the channel's adapter is ready.
fn dispatcher_for(
    channel: Channel,
    ownership: &crate::ownership::Ownership,
) -> (DispatcherHandle, WaitingDispatcher) {
    let (effect_sender, effect_receiver) = mpsc::unbounded_channel();
    let outbox_ready = Arc::new(Notify::new());
    (
        DispatcherHandle {
            channel: channel.name(),
            fresh_effects: effect_sender,
            outbox_ready: outbox_ready.clone(),
        },
        WaitingDispatcher {
            fresh_items: effect_receiver,
            outbox_ready,
            ownership: ownership.clone(),
        },
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
/// Sets the durable clock's timer of every recurring meeting schedule in the group files that
/// has none yet, due now: when it fires, the core schedules the schedule's next meeting (with
/// its invitation) and sets the timer again for that meeting's start. A timer that exists is
/// left as it is, so restarts schedule nothing twice.
async fn ensure_recurring_schedules(store: &Store, settings: &Settings) -> Result<(), RunError> {
    let now_ms = jiff::Timestamp::now().as_millisecond();
    for group in &settings.groups {
        for schedule in &group.group.meetings.recurring {
            let timer = crate::core::effects::Timer::MeetingSeries {
                series: schedule.id.clone(),
            };
            store
                .ensure_timer(
                    &group.id,
                    &crate::core::meetings::timers::series_key(&schedule.id),
                    now_ms,
                    &serde_json::to_string(&timer).unwrap_or_default(),
                )
                .await?;
        }
        // The chairs' reminders of progress reports due before ICANN meetings (`[record]`):
        // each stored once under its own key, so a restart adds none twice.
        let now = jiff::Timestamp::now();
        for (key, due, timer) in
            crate::core::record::deadlines::progress_report_reminders(&group.group, now)
        {
            store
                .ensure_timer(
                    &group.id,
                    &key,
                    due.as_millisecond(),
                    &serde_json::to_string(&timer).unwrap_or_default(),
                )
                .await?;
        }
    }
    Ok(())
}

pub async fn run(
    settings: Settings,
    config_path: Option<std::path::PathBuf>,
) -> Result<(), RunError> {
    let store = open_store(&settings).await?;
    // The HTTP server's address is taken before anything starts: a port in use is a clear
    // error at start, not a task that fails later.
    let web_listener = match settings.http_listen {
        Some(address) => Some(crate::web::bind(address).await.map_err(RunError::Http)?),
        None => None,
    };
    let engine = engine_for(&settings)?;
    let groups = groups_by_id(&settings);
    // One sender per group across processes sharing the database: see `crate::ownership`.
    let ownership = crate::ownership::for_process(&settings.data_dir)?;
    tracing::info!(
        database = %crate::storage::redact_database_url(&settings.database.url),
        groups = settings.groups.len(),
        "storage ready"
    );

    // The handler addresses rooms by their configured name, so it can decide while the
    // homeserver is still unreachable (see `channels`).
    let routes = Routes {
        rooms: configured_rooms(&settings),
        mail_enabled: settings.mail.is_some(),
    };
    let mut handler = Handler::load(&store, engine, groups, routes)
        .await?
        .owned_by(ownership.clone());
    handler.rate_limits = crate::handling::HandlerLimits::configured(settings.limits);
    // Replies in rooms are stored already claimed for this process's Matrix dispatcher (one
    // commit fewer per command); mail is claimed by its dispatcher just before it is sent.
    if settings.matrix.is_some() {
        handler.claim_at_insert = vec![Channel::Matrix.name()];
    }
    // The record files are derived: written at start (mending a write lost to a crash) and
    // after each batch that changes a meeting or an outcome.
    handler.record_dir = Some(settings.data_dir.join("record"));
    let (record_changed, record_changes) = watch::channel(0u64);
    handler.record_changed = Some(record_changed);
    for group in &settings.groups {
        if handler.state(&group.id).is_some_and(|state| {
            !state.meetings.is_empty() || !state.calls.is_empty() || !state.polls.is_empty()
        }) {
            handler.write_record_files(&group.id, jiff::Timestamp::now());
        }
    }
    ensure_recurring_schedules(&store, &settings).await?;

    let (message_sender, message_receiver) = mpsc::unbounded_channel();
    let (shutdown_sender, shutdown) = watch::channel(false);
    let failures = FailureStreak::new(settings.task_failure_limit);

    let mut supervisor = Supervisor::default();
    let mut dispatchers = Vec::new();
    if settings.matrix.is_some() {
        crate::observe::health::expect("matrix");
        let (handle, waiting) = dispatcher_for(Channel::Matrix, &ownership);
        dispatchers.push(handle);
        supervisor.spawn(
            "Matrix channel",
            matrix_channel(
                settings.clone(),
                store.clone(),
                message_sender.clone(),
                waiting,
                shutdown.clone(),
            ),
        );
    }
    if let Some(mail) = &settings.mail {
        let identity = store
            .mail_identity(jiff::Timestamp::now().as_millisecond())
            .await
            .map_err(|error| RunError::Mail(format!("cannot read the mail identity: {error}")))?;
        let sender = MailSender::new(mail, identity.clone())
            .map_err(|error| RunError::Mail(error.to_string()))?;
        let (handle, waiting) = dispatcher_for(Channel::Mail, &ownership);
        dispatchers.push(handle);
        supervisor.spawn(
            "mail dispatcher",
            waiting.run(
                store.clone(),
                Arc::new(sender),
                failures.clone(),
                shutdown.clone(),
            ),
        );
        if let Some(imap) = &mail.imap {
            crate::observe::health::expect("imap");
            let reader = ImapReader {
                settings: imap.clone(),
                store: store.clone(),
                ingest: Arc::new(MailIngest::from_settings(&settings, mail, identity)),
                handler: message_sender.clone(),
            };
            supervisor.spawn("IMAP reader", reader.run(shutdown.clone()));
        }
        tracing::info!(address = %mail.address, imap = mail.imap.is_some(), "mail channel ready");
    }
    let (groups_sender, reloaded_groups) = watch::channel(groups_by_id(&settings));
    supervisor.spawn("group leases", {
        let leases = crate::ownership::keep_leases(
            store.clone(),
            settings.database.url.clone(),
            reloaded_groups.clone(),
            ownership.clone(),
            shutdown.clone(),
        );
        async move {
            leases.await;
            Ok::<(), String>(())
        }
    });
    #[cfg(unix)]
    if let Some(path) = config_path {
        supervisor.spawn(
            "configuration reloader",
            reload_on_hangup(
                path,
                settings.clone(),
                store.clone(),
                groups_sender,
                shutdown.clone(),
            ),
        );
    }
    #[cfg(not(unix))]
    drop((config_path, groups_sender));
    let pid_path = pid_file(&settings);
    if let Err(error) = std::fs::write(&pid_path, std::process::id().to_string()) {
        tracing::warn!(path = %pid_path.display(), %error, "cannot write the pid file; `rapporteur reload` will not find the bot");
    }
    // The public record (`[bot] site_dir`): published at start, which mends a publication lost
    // to a crash, and shortly after changes.
    supervisor.spawn(
        "record publisher",
        crate::record::publisher::Publisher {
            store: store.clone(),
            groups: reloaded_groups.clone(),
            out: settings.site_dir.clone(),
            changed: record_changes,
        }
        .run(shutdown.clone()),
    );
    if let Some(listener) = web_listener {
        supervisor.spawn(
            "HTTP server",
            crate::web::serve(
                listener,
                crate::web::WebState {
                    store: store.clone(),
                    site_dir: settings.site_dir.clone(),
                    groups: reloaded_groups.clone(),
                    ownership: ownership.clone(),
                },
                shutdown.clone(),
            ),
        );
    }
    supervisor.spawn(
        "systemd notifier",
        crate::observe::systemd::notify_systemd(shutdown.clone()),
    );
    let clock = Arc::new(Notify::new());
    supervisor.spawn(
        "clock",
        clock_loop(
            store.clone(),
            ownership.clone(),
            message_sender.clone(),
            clock.clone(),
            failures.clone(),
            shutdown.clone(),
        ),
    );
    supervisor.spawn(
        "handler",
        handler_loop(
            store.clone(),
            handler,
            message_receiver,
            dispatchers,
            clock,
            reloaded_groups,
            failures,
            shutdown.clone(),
        ),
    );
    drop(message_sender);

    let outcome = tokio::select! {
        _ = stop_signal() => {
            tracing::info!("stopping");
            Ok(())
        }
        ended = supervisor.first_end(false) => ended.map_err(|failure| {
            tracing::error!(%failure, "stopping the bot: it cannot serve without this task; its supervisor should start it again");
            RunError::from(failure)
        }),
    };
    let _ = shutdown_sender.send(true);
    if tokio::time::timeout(Duration::from_secs(10), supervisor.wait_for_all())
        .await
        .is_err()
    {
        supervisor.abort_all();
    }
    store.close().await;
    let _ = std::fs::remove_file(&pid_path);
    outcome
}
