//! The bot's metrics, in the Prometheus text format at `/metrics` (prometheus-client).
//!
//! Counters are kept in the process and moved where the work happens (the handler, the
//! dispatchers, the mail ingest); what the database already knows (the outbox's depth and its
//! oldest unsent row, pending and late timers, quarantined mail) is read from it at each
//! scrape, so it is right across restarts and for every process sharing the database. The
//! metrics are one per process: [`metrics`] gives them to every part without threading a
//! handle through each constructor.
//!
//! Names follow the Prometheus conventions: `rapporteur_` first, base units (`_seconds`),
//! counters ending in `_total` (added by the encoder). Label values come from fixed sets (the
//! channels, the catalog's command names, dispositions, reasons), never from what a sender
//! wrote, so a sender cannot make the series grow.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock};

/// A metric's labels: names are fixed, values come from small fixed sets.
pub type Labels = Vec<(&'static str, String)>;

fn label(name: &'static str, value: &str) -> Labels {
    vec![(name, value.to_string())]
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub inputs_received: Family<Labels, Counter>,
    pub inputs_handled: Family<Labels, Counter>,
    pub commands: Family<Labels, Counter>,
    pub decision_seconds: Histogram,
    pub sends: Family<Labels, Counter>,
    pub sends_failed: Family<Labels, Counter>,
    pub sends_retried: Family<Labels, Counter>,
    pub reminders: Counter,
    pub mail_quarantined: Family<Labels, Counter>,
    pub mail_refused_forged: Counter,
    pub publications: Family<Labels, Counter>,
    // Read from the database at each scrape.
    pub outbox_items: Family<Labels, Gauge>,
    pub outbox_oldest_unsent_age_seconds: Gauge<f64, AtomicU64>,
    pub timers_pending: Gauge,
    pub timers_late: Gauge,
    pub quarantined_mail: Gauge,
    pub group_owned: Family<Labels, Gauge>,
    // Kept by `observe::health`.
    pub channel_up: Family<Labels, Gauge>,
    pub channel_last_success_seconds: Family<Labels, Gauge<f64, AtomicU64>>,
}

impl Metrics {
    fn new() -> Metrics {
        let metrics = Metrics {
            registry: Mutex::new(Registry::default()),
            inputs_received: Family::default(),
            inputs_handled: Family::default(),
            commands: Family::default(),
            // From 100 µs to about 3.3 s.
            decision_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            sends: Family::default(),
            sends_failed: Family::default(),
            sends_retried: Family::default(),
            reminders: Counter::default(),
            mail_quarantined: Family::default(),
            mail_refused_forged: Counter::default(),
            publications: Family::default(),
            outbox_items: Family::default(),
            outbox_oldest_unsent_age_seconds: Gauge::default(),
            timers_pending: Gauge::default(),
            timers_late: Gauge::default(),
            quarantined_mail: Gauge::default(),
            group_owned: Family::default(),
            channel_up: Family::default(),
            channel_last_success_seconds: Family::default(),
        };
        {
            let mut registry = metrics.registry.lock().unwrap_or_else(|e| e.into_inner());
            let registry = &mut *registry;
            registry.register(
                "rapporteur_inputs_received",
                "Inputs recorded in the inbox, by channel (matrix, mail, clock)",
                metrics.inputs_received.clone(),
            );
            registry.register(
                "rapporteur_inputs_handled",
                "Inputs decided and committed with their effects, by channel",
                metrics.inputs_handled.clone(),
            );
            registry.register(
                "rapporteur_commands",
                "Inputs handled, by command name and outcome (the inbox disposition)",
                metrics.commands.clone(),
            );
            registry.register(
                "rapporteur_decision_seconds",
                "Time to decide one input against the group's state",
                metrics.decision_seconds.clone(),
            );
            registry.register(
                "rapporteur_sends",
                "Messages delivered, by channel",
                metrics.sends.clone(),
            );
            registry.register(
                "rapporteur_sends_failed",
                "Send attempts that failed, by channel (each is retried or given up)",
                metrics.sends_failed.clone(),
            );
            registry.register(
                "rapporteur_sends_retried",
                "Send attempts that failed and were scheduled again, by channel",
                metrics.sends_retried.clone(),
            );
            registry.register(
                "rapporteur_reminders",
                "Reminder messages queued (feedback, meetings, actions, polls, surveys, reports)",
                metrics.reminders.clone(),
            );
            registry.register(
                "rapporteur_mail_quarantined",
                "Mail kept in quarantine, by reason",
                metrics.mail_quarantined.clone(),
            );
            registry.register(
                "rapporteur_mail_refused_forged",
                "Mail refused because no trusted server vouched for its author or list",
                metrics.mail_refused_forged.clone(),
            );
            registry.register(
                "rapporteur_record_publications",
                "Publications of the public record, by result (ok, failed)",
                metrics.publications.clone(),
            );
            registry.register(
                "rapporteur_outbox_items",
                "Outbox rows by state (pending, sending, sent, failed, uncertain)",
                metrics.outbox_items.clone(),
            );
            registry.register(
                "rapporteur_outbox_oldest_unsent_age_seconds",
                "Age of the oldest outbox row not yet sent (0 when none waits)",
                metrics.outbox_oldest_unsent_age_seconds.clone(),
            );
            registry.register(
                "rapporteur_timers_pending",
                "Timers of the durable clock not yet fired",
                metrics.timers_pending.clone(),
            );
            registry.register(
                "rapporteur_timers_late",
                "Timers more than a minute past their due time and not yet fired",
                metrics.timers_late.clone(),
            );
            registry.register(
                "rapporteur_quarantined_mail",
                "Mail in quarantine now (rapporteur quarantine list)",
                metrics.quarantined_mail.clone(),
            );
            registry.register(
                "rapporteur_group_lease_owned",
                "1 for each group this process decides and sends for (its lease), 0 otherwise",
                metrics.group_owned.clone(),
            );
            registry.register(
                "rapporteur_channel_up",
                "1 when a channel's last attempt succeeded, 0 while it is failing and retrying",
                metrics.channel_up.clone(),
            );
            registry.register(
                "rapporteur_channel_last_success_timestamp_seconds",
                "Unix time of a channel's last success (sync, IMAP read, send, database query)",
                metrics.channel_last_success_seconds.clone(),
            );
        }
        metrics
    }

    /// The metrics in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
        text
    }

    pub fn input_received(&self, channel: &str) {
        self.inputs_received
            .get_or_create(&label("channel", channel))
            .inc();
    }

    pub fn input_handled(&self, channel: &str, command: &str, disposition: &str) {
        self.inputs_handled
            .get_or_create(&label("channel", channel))
            .inc();
        self.commands
            .get_or_create(&vec![
                ("command", command.to_string()),
                ("outcome", disposition.to_string()),
            ])
            .inc();
    }

    pub fn sent(&self, channel: &str) {
        self.sends.get_or_create(&label("channel", channel)).inc();
    }

    pub fn send_failed(&self, channel: &str, retried: bool) {
        self.sends_failed
            .get_or_create(&label("channel", channel))
            .inc();
        if retried {
            self.sends_retried
                .get_or_create(&label("channel", channel))
                .inc();
        }
    }

    pub fn mail_quarantined(&self, reason: &str) {
        self.mail_quarantined
            .get_or_create(&label("reason", reason))
            .inc();
        if matches!(reason, "unauthenticated" | "list-not-vouched") {
            self.mail_refused_forged.inc();
        }
    }

    pub fn published(&self, ok: bool) {
        self.publications
            .get_or_create(&label("result", if ok { "ok" } else { "failed" }))
            .inc();
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// The command name of a handled input as a label: the catalog's name of the command the input
/// ran (`ping`, `request`), `timer` for the clock, `none` for chat, `other` for anything else;
/// never the sender's text.
pub fn command_label(command: Option<&str>, is_known: impl Fn(&str) -> bool) -> String {
    let Some(command) = command else {
        return "none".to_string();
    };
    if command.starts_with("timer ") {
        return "timer".to_string();
    }
    let word = command
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches(|c: char| !c.is_alphanumeric());
    if !word.is_empty() && is_known(word) {
        word.to_string()
    } else {
        "other".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_labels_come_from_the_catalog_only() {
        let known = ["ping", "request"];
        let cases = [
            (Some("!ping"), "ping"),
            (Some("!request open \"x\" to GNSO"), "request"),
            (Some("timer request-3-follow-up"), "timer"),
            (Some("!drop-table-students"), "other"),
            (Some("!\u{202e}gnip"), "other"),
            (None, "none"),
        ];
        for (command, expected) in cases {
            assert_eq!(
                command_label(command, |word| known.contains(&word)),
                expected,
                "{command:?}"
            );
        }
    }

    #[test]
    fn the_text_format_names_counters_with_total_and_keeps_labels() {
        let metrics = Metrics::new();
        metrics.input_received("matrix");
        metrics.input_handled("matrix", "ping", "replied");
        metrics.mail_quarantined("unauthenticated");
        let text = metrics.encode();
        for line in [
            "rapporteur_inputs_received_total{channel=\"matrix\"} 1",
            "rapporteur_commands_total{command=\"ping\",outcome=\"replied\"} 1",
            "rapporteur_mail_refused_forged_total 1",
            "# TYPE rapporteur_decision_seconds histogram",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}
