//! Round trip of `!ping` on a loopback Synapse, and the bot's resident memory.
//!
//! A test user sends `!ping` and waits for the reply, one at a time; the bench reports the
//! median and 99th percentile of the round trip as the user sees it, the part of it spent inside
//! the bot (from the moment the sync loop has the message to the moment the reply is handed to
//! the homeserver, as the bot logs it), and the bot's resident memory when idle after joining and
//! after the run. Needs the homeserver of `scripts/stack.sh up` (see `scripts/bench.sh`).
//!
//! `RAPPORTEUR_BENCH_PINGS` sets the number of pings (default 300).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::matrix::{ChairRoom, homeserver};
use support::measure::{inside_bot_ms, percentile, resident_kib};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let pings: usize = std::env::var("RAPPORTEUR_BENCH_PINGS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(300);
    let Some(homeserver) = homeserver().await else {
        eprintln!("SKIPPED: start the homeserver first (scripts/bench.sh does)");
        return;
    };
    let ChairRoom {
        chair,
        room,
        room_id,
        mut bot,
        ..
    } = ChairRoom::started(&homeserver).await;
    // Warm up (first sends set up the room state on both sides), then let the bot go idle.
    for _ in 0..5 {
        let event = chair.send(&room, "!ping").await;
        chair
            .wait_for_reply(&room_id, &event, Duration::from_secs(30))
            .await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pid = bot.pid().expect("bot running");
    let idle_kib = resident_kib(pid);

    let mut round_trips_ms = Vec::with_capacity(pings);
    for _ in 0..pings {
        let started = Instant::now();
        let event = chair.send(&room, "!ping").await;
        chair
            .wait_for_reply(&room_id, &event, Duration::from_secs(30))
            .await;
        round_trips_ms.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    let after_kib = resident_kib(pid);
    // The bot logs the time each reply spent inside it; the warm-up replies are left out.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut inside_ms = inside_bot_ms(&bot.log(), 5);
    round_trips_ms.sort_by(f64::total_cmp);
    inside_ms.sort_by(f64::total_cmp);

    println!("pings: {pings} (sequential, one user, plain room, loopback Synapse)");
    println!(
        "round trip as the user sees it: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&round_trips_ms, 0.5),
        percentile(&round_trips_ms, 0.99),
        round_trips_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "inside the bot ({} samples): median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        inside_ms.len(),
        percentile(&inside_ms, 0.5),
        percentile(&inside_ms, 0.99),
        inside_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "share of the median round trip spent inside the bot: {:.1} %",
        100.0 * percentile(&inside_ms, 0.5) / percentile(&round_trips_ms, 0.5)
    );
    match (idle_kib, after_kib) {
        (Some(idle), Some(after)) => println!(
            "resident memory of the bot: idle after joining {:.1} MB, after the run {:.1} MB",
            idle as f64 / 1024.0,
            after as f64 / 1024.0
        ),
        _ => println!("resident memory: unavailable (no /proc)"),
    }
    bot.kill();
}
