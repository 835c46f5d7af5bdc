//! Talking to systemd when the bot runs as a `Type=notify` service (`deploy/rapporteur.service`):
//! `READY=1` once every started channel has worked once (or after 30 seconds, with a status line
//! naming those still retrying, so that a homeserver down at boot does not fail the start: the
//! channels retry on their own), and `WATCHDOG=1` at half the unit's `WatchdogSec=` while the
//! handler's loop is alive (it beats at every turn, at least every ten seconds). A handler
//! stuck in a call stops the beats, systemd stops getting them, and restarts the bot.
//!
//! Outside systemd (no `NOTIFY_SOCKET`) nothing is sent, and the task only waits for the stop.

use super::health;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How long the start waits for every channel before it says it is ready anyway.
const READY_WAIT: Duration = Duration::from_secs(30);

static HANDLER_BEAT_MS: AtomicI64 = AtomicI64::new(0);

/// The handler's loop is alive (called at each of its turns).
pub fn beat() {
    HANDLER_BEAT_MS.store(jiff::Timestamp::now().as_millisecond(), Ordering::Relaxed);
}

fn beat_age() -> Duration {
    let last = HANDLER_BEAT_MS.load(Ordering::Relaxed);
    let now = jiff::Timestamp::now().as_millisecond();
    Duration::from_millis((now - last).max(0) as u64)
}

fn waiting_channels() -> Vec<String> {
    health::snapshot()
        .into_iter()
        .filter(|(_, status)| !status.up)
        .map(|(channel, _)| channel)
        .collect()
}

/// Runs until the bot stops: readiness, then the watchdog's beats.
pub async fn notify_systemd(mut shutdown: watch::Receiver<bool>) -> Result<(), String> {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
        return Ok(());
    }
    let started = tokio::time::Instant::now();
    loop {
        let waiting = waiting_channels();
        if waiting.is_empty() || started.elapsed() >= READY_WAIT {
            let status = if waiting.is_empty() {
                "serving: every channel connected".to_string()
            } else {
                format!("serving; retrying: {}", waiting.join(", "))
            };
            let _ = sd_notify::notify(
                false,
                &[
                    sd_notify::NotifyState::Ready,
                    sd_notify::NotifyState::Status(&status),
                ],
            );
            tracing::info!(%status, "told systemd the bot is ready");
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
    let Some(watchdog_usec) = watchdog_interval_usec() else {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
        return Ok(());
    };
    let interval = Duration::from_micros(watchdog_usec);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval / 2) => {}
            _ = shutdown.changed() => {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
                return Ok(());
            }
        }
        if beat_age() < interval {
            let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
        } else {
            tracing::error!(
                silent_for = ?beat_age(),
                "the handler's loop has not turned for a whole watchdog interval; systemd will restart the bot"
            );
        }
    }
}

/// The watchdog's interval, as libsystemd's `sd_watchdog_enabled` reads it: `WATCHDOG_USEC`,
/// for this process unless `WATCHDOG_PID` names another. (The sd-notify crate's own check also
/// wants `WATCHDOG_PID` set, which systemd does, but a supervisor that sets only the interval
/// would leave the bot without a watchdog.)
fn watchdog_interval_usec() -> Option<u64> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    match std::env::var("WATCHDOG_PID") {
        Ok(pid) if pid.parse::<u32>().ok() != Some(std::process::id()) => None,
        _ => (usec > 0).then_some(usec),
    }
}
