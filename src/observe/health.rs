//! Whether each channel works: the adapters say when an attempt succeeded or failed, and
//! `/readyz` and the metrics read it. A channel is expected once the runtime starts it; it is
//! ready after its first success and stays ready until an attempt fails (it is then
//! "retrying", with the time of its last success and the reason of its last failure).

use jiff::Timestamp;
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelHealth {
    pub up: bool,
    pub last_success: Option<Timestamp>,
    pub last_failure: Option<(Timestamp, String)>,
}

fn channels() -> &'static Mutex<BTreeMap<String, ChannelHealth>> {
    static CHANNELS: OnceLock<Mutex<BTreeMap<String, ChannelHealth>>> = OnceLock::new();
    CHANNELS.get_or_init(Default::default)
}

fn update(channel: &str, change: impl FnOnce(&mut ChannelHealth)) {
    let mut channels = channels().lock().unwrap_or_else(|e| e.into_inner());
    let health = channels
        .entry(channel.to_string())
        .or_insert(ChannelHealth {
            up: false,
            last_success: None,
            last_failure: None,
        });
    change(health);
    let metrics = super::metrics::metrics();
    let labels = vec![("channel", channel.to_string())];
    metrics
        .channel_up
        .get_or_create(&labels)
        .set(i64::from(health.up));
    if let Some(at) = health.last_success {
        metrics
            .channel_last_success_seconds
            .get_or_create(&labels)
            .set(at.as_millisecond() as f64 / 1000.0);
    }
}

/// The runtime started this channel: `/readyz` waits for it.
pub fn expect(channel: &str) {
    update(channel, |_| {});
}

/// An attempt of the channel succeeded (a sync, an IMAP read, a send).
pub fn succeeded(channel: &str) {
    update(channel, |health| {
        health.up = true;
        health.last_success = Some(Timestamp::now());
    });
}

/// An attempt of the channel failed; it is retrying.
pub fn failed(channel: &str, reason: &str) {
    update(channel, |health| {
        health.up = false;
        health.last_failure = Some((Timestamp::now(), reason.chars().take(200).collect()));
    });
}

/// Every expected channel and how it is.
pub fn snapshot() -> BTreeMap<String, ChannelHealth> {
    channels().lock().unwrap_or_else(|e| e.into_inner()).clone()
}
