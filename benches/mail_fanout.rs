//! A fan-out of mail (a reminder to every member of a large group) through the loopback SMTP
//! relay, while a member pings the bot in the room.
//!
//! The bot runs as its own process with mail enabled. The bench stores 1,000 mails to 1,000
//! distinct addresses in the bot's outbox in one transaction, as a reminder schedule will, and
//! measures how long the bot's mail dispatcher takes to hand them all to the SMTP server (over
//! its connection pool). Meanwhile a user sends `!ping` in the room one after another; the round
//! trips during the fan-out are compared with those before it, in the same run. Needs the stack
//! of `scripts/stack.sh up` (see `scripts/bench.sh`).
//!
//! `RAPPORTEUR_BENCH_MAILS` sets the number of mails (default 1000).

#[path = "../tests/support/mod.rs"]
mod support;

use rapporteur::mail::thread::MailPayload;
use rapporteur::storage::NewOutboxItem;
use std::time::{Duration, Instant};
use support::mail::MailScene;
use support::matrix::{ChairRoom, TestClient, bot_store};
use support::measure::{percentile, resident_kib};

async fn ping_once(
    chair: &TestClient,
    room: &matrix_sdk::Room,
    room_id: &matrix_sdk::ruma::OwnedRoomId,
) -> f64 {
    let started = Instant::now();
    let event = chair.send(room, "!ping").await;
    chair
        .wait_for_reply(room_id, &event, Duration::from_secs(30))
        .await;
    started.elapsed().as_secs_f64() * 1_000.0
}

fn resident_mb(pid: Option<u32>) -> f64 {
    pid.and_then(resident_kib)
        .map_or(f64::NAN, |kib| kib as f64 / 1024.0)
}

fn summary(label: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    println!(
        "{label}: {} pings, median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or(f64::NAN)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mails: usize = std::env::var("RAPPORTEUR_BENCH_MAILS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1000);
    let Some(MailScene {
        servers,
        scene,
        mail,
        ..
    }) = MailScene::started().await
    else {
        eprintln!("SKIPPED: start the stack first (scripts/bench.sh does)");
        return;
    };
    let ChairRoom {
        chair,
        room,
        room_id,
        bot,
        ..
    } = scene;
    for _ in 0..5 {
        ping_once(&chair, &room, &room_id).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_mb = resident_mb(bot.pid());
    let mut before = Vec::new();
    for _ in 0..50 {
        before.push(ping_once(&chair, &room, &room_id).await);
    }

    let run = support::matrix::unique_name("fanout");
    let items: Vec<NewOutboxItem> = (0..mails)
        .map(|index| {
            let to = format!("member-{index}-{run}@example.org");
            let payload = MailPayload {
                to: to.clone(),
                to_name: Some(format!("Member {index}")),
                subject: "[TEST-CCG] Reminder: your organization's response is due Friday".into(),
                in_reply_to: None,
                references: Vec::new(),
                auto_submitted: "auto-generated".into(),
                plain: "Your organization has not yet responded to the proposal. The response is due on Friday 27 November 2026, 23:59 UTC.".into(),
                html: "<p>Your organization has not yet responded to the proposal. The response is due on <strong>Friday 27 November 2026, 23:59 UTC</strong>.</p>".into(),
                calendar: None,
            };
            NewOutboxItem {
                idempotency_key: format!("{run}-{index}"),
                channel: "mail".into(),
                destination: to,
                payload: serde_json::to_string(&payload).expect("payload"),
                about: None,
            }
        })
        .collect();
    let store = bot_store(&bot).await;
    let enqueued_at = Instant::now();
    let enqueued_ms = jiff::Timestamp::now().as_millisecond();
    store
        .enqueue(&items, enqueued_ms)
        .await
        .expect("enqueue the reminder");

    // Ping in the room until every mail is out.
    let mut during = Vec::new();
    let sent_times = loop {
        during.push(ping_once(&chair, &room, &room_id).await);
        let sent = store.sent_times("mail").await.expect("sent times");
        if sent.len() >= mails {
            break sent;
        }
        assert!(
            enqueued_at.elapsed() < Duration::from_secs(300),
            "only {} of {mails} mails sent after 5 minutes",
            sent.len()
        );
    };
    let first = sent_times.first().copied().unwrap_or(enqueued_ms);
    let last = sent_times.last().copied().unwrap_or(enqueued_ms);
    println!(
        "fan-out of {mails} mails to {mails} addresses over the SMTP pool (size 4), loopback relay with LMTP delivery to dovecot:"
    );
    println!(
        "  stored → first mail accepted: {:.2} s (the dispatcher's pick-up of rows another process wrote)",
        (first - enqueued_ms) as f64 / 1000.0
    );
    println!(
        "  first → last mail accepted: {:.2} s ({:.0} mails/s)",
        (last - first) as f64 / 1000.0,
        mails as f64 * 1000.0 / ((last - first).max(1) as f64)
    );
    println!(
        "  stored → last mail accepted: {:.2} s",
        (last - enqueued_ms) as f64 / 1000.0
    );
    println!(
        "  bot resident memory: idle with mail and Matrix {idle_mb:.1} MB, after the fan-out {:.1} MB",
        resident_mb(bot.pid())
    );
    summary("!ping round trip before the fan-out", before);
    summary("!ping round trip during the fan-out", during);
    let received = servers
        .inbox(&format!("member-{}-{run}@example.org", mails - 1))
        .await;
    println!(
        "  the last member's inbox holds {} mail(s); bot address {}",
        received.len(),
        mail.bot_address
    );
    drop(bot);
}
