//! Measures the time a command spends inside the bot: from the moment the sync loop has the
//! message in hand to the moment its reply is handed to the homeserver. Kept in memory (it is a
//! measurement, not state) and reported in the logs for the round-trip benchmark.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct LatencyProbe {
    received: Arc<Mutex<HashMap<String, Instant>>>,
}

impl LatencyProbe {
    pub fn observe_received(&self, external_id: &str) {
        if let Ok(mut received) = self.received.lock() {
            // Entries whose reply never came (not a command, say) must not accumulate.
            if received.len() > 10_000 {
                received.retain(|_, at| at.elapsed() < Duration::from_secs(600));
            }
            received.insert(external_id.to_string(), Instant::now());
        }
    }

    pub fn observe_send_start(&self, external_id: &str) {
        let started = self
            .received
            .lock()
            .ok()
            .and_then(|mut received| received.remove(external_id));
        if let Some(started) = started {
            tracing::info!(
                target: "rapporteur::latency",
                event_id = external_id,
                inside_bot_us = started.elapsed().as_micros() as u64,
                "reply handed to the homeserver"
            );
        }
    }
}
