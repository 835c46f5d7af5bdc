//! Commands per second through parse, decide and durable commit.
//!
//! Run with `cargo bench --bench engine_throughput` (release profile). The number of messages is
//! `RAPPORTEUR_BENCH_COMMANDS` (default 5000); messages are recorded in batches of
//! `RAPPORTEUR_BENCH_BATCH` (default 50, as one Matrix sync response might carry).
//!
//! Three measurements on the same realistic mix of messages, in one run so their ratios can be
//! compared on a noisy machine:
//!  1. the pure core: `Engine::decide` only, then `decide` plus rendering the outbox payloads;
//!  2. SQLite (a temporary file, WAL, as `Store::connect` opens it): `record_inbound` of every
//!     message in batches, then `handling::handle_pending`, which handles the inbox a batch of
//!     100 messages per transaction (decide, mark handled, insert the replies, commit);
//!  3. the same on a fresh PostgreSQL database (as tests/support makes one: 127.0.0.1:5432, user
//!     postgres, or `RAPPORTEUR_TEST_POSTGRES_URL`), or a SKIPPED line if it is unreachable.
//!
//! Before timing anything, the mix is checked to produce the dispositions it claims, and after
//! each database run every message must be handled and every reply stored.

#[path = "../tests/support/mod.rs"]
mod support;

use jiff::Timestamp;
use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{Group, SenderAddress};
use rapporteur::core::engine::{Disposition, Engine};
use rapporteur::core::state::GroupState;
use rapporteur::handling::{Handler, Routes, outbox_items_for};
use rapporteur::storage::{InboxItem, NewInboxItem, Store};
use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const GROUP_ID: &str = "cip-ccg";
const ROOM: &str = "!cipccg:localhost";

const CHAIR: &str = "@ana.lima:localhost";
const MEMBER: &str = "@kwame.mensah:localhost";
const STAFF: &str = "@nadia.haddad:localhost";
const RAPPORTEUR: &str = "@mei.chen:localhost";
const STRANGER: &str = "@stranger:localhost";

/// The message mix: who sends what, and what the engine must make of it. Known members and an
/// unknown sender, every command, a malformed command, an unknown one, a refused one and plain
/// chat (which is recorded and handled too, but produces no reply).
const MIX: &[(&str, &str, Disposition)] = &[
    (MEMBER, "!ping", Disposition::Executed),
    (STRANGER, "!ping", Disposition::Executed),
    (CHAIR, "!whoami", Disposition::Executed),
    (STRANGER, "!whoami", Disposition::Executed),
    (MEMBER, "!roster", Disposition::Executed),
    (RAPPORTEUR, "!roster GNSO", Disposition::Executed),
    (STRANGER, "!help", Disposition::Executed),
    (STAFF, "!help roster", Disposition::Executed),
    (CHAIR, "!whoami \"Mei Chen\"", Disposition::Executed),
    (MEMBER, "!whoami \"Ana Lima", Disposition::BadArguments),
    (
        MEMBER,
        "!whoami @ana.lima:localhost",
        Disposition::NotPermitted,
    ),
    (STRANGER, "!rooster", Disposition::UnknownCommand),
    (
        RAPPORTEUR,
        "Thanks all, I will circulate the notes by Friday.",
        Disposition::NotACommand,
    ),
    (
        CHAIR,
        "agreed, see you next month",
        Disposition::NotACommand,
    ),
];

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .ok()
            .filter(|&n: &usize| n > 0)
            .unwrap_or_else(|| panic!("{name} must be a positive integer, not {value:?}")),
        Err(_) => default,
    }
}

fn messages(count: usize, run: &str) -> Vec<NewInboxItem> {
    (0..count)
        .map(|index| {
            let (sender, body, _) = MIX[index % MIX.len()];
            NewInboxItem {
                channel: "matrix".into(),
                external_id: format!("${run}-{index:08}:localhost"),
                group_id: GROUP_ID.into(),
                conversation: ROOM.into(),
                sender: sender.into(),
                body: body.into(),
                origin_ms: 1_764_086_400_000 + index as i64,
            }
        })
        .collect()
}

fn expected_replies(count: usize) -> usize {
    (0..count)
        .filter(|index| MIX[index % MIX.len()].2 != Disposition::NotACommand)
        .count()
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

struct Row {
    name: String,
    elapsed: Duration,
    count: usize,
}

impl Row {
    fn new(name: impl Into<String>, count: usize, elapsed: Duration) -> Row {
        Row {
            name: name.into(),
            elapsed,
            count,
        }
    }

    fn rate(&self) -> f64 {
        per_second(self.count, self.elapsed)
    }
}

/// Results of one database backend.
struct StoreRun {
    record: Row,
    handle: Row,
    total: Row,
}

fn check_mix(engine: &Engine, group: &Group, now: Timestamp) {
    for (sender, body, expected) in MIX {
        let decision = engine.decide_command(
            &GroupState::default(),
            group,
            &SenderAddress::Matrix((*sender).into()),
            body,
            now,
        );
        assert_eq!(
            decision.disposition, *expected,
            "the benchmark mix is stale: {sender} {body:?}"
        );
    }
}

fn bench_core(engine: &Engine, group: &Group, count: usize, now: Timestamp) -> (Row, Row) {
    let inputs: Vec<(SenderAddress, &str)> = (0..count)
        .map(|index| {
            let (sender, body, _) = MIX[index % MIX.len()];
            (SenderAddress::Matrix(sender.into()), body)
        })
        .collect();
    // Warm up caches and the allocator.
    let state = GroupState::default();
    for (sender, body) in inputs.iter().take(1000) {
        black_box(engine.decide_command(&state, group, sender, body, now));
    }
    let started = Instant::now();
    for (sender, body) in &inputs {
        black_box(engine.decide_command(&state, group, black_box(sender), black_box(body), now));
    }
    let decide = Row::new("core: decide", count, started.elapsed());

    // What handle_item does besides the database: decide, then render each reply as plain
    // text, HTML and the JSON payload of the outbox row.
    let items: Vec<InboxItem> = messages(count, "core")
        .into_iter()
        .enumerate()
        .map(|(index, item)| InboxItem {
            id: index as i64 + 1,
            channel: item.channel,
            external_id: item.external_id,
            group_id: item.group_id,
            conversation: item.conversation,
            sender: item.sender,
            body: item.body,
            origin_ms: item.origin_ms,
            received_ms: item.origin_ms,
        })
        .collect();
    let started = Instant::now();
    for item in &items {
        let decision = engine.decide_command(
            &state,
            group,
            &SenderAddress::Matrix(item.sender.clone()),
            &item.body,
            now,
        );
        black_box(outbox_items_for(
            item,
            &decision,
            engine,
            group,
            &Routes::default(),
        ));
    }
    let rendered = Row::new("core: decide + render outbox", count, started.elapsed());
    (decide, rendered)
}

async fn bench_store(
    label: &str,
    store: &Store,
    engine: &Engine,
    groups: &HashMap<String, Group>,
    count: usize,
    batch: usize,
) -> StoreRun {
    let inbound = messages(count, label);
    let started = Instant::now();
    let mut recorded = 0;
    for (index, chunk) in inbound.chunks(batch).enumerate() {
        let token = format!("s{index}_bench");
        recorded += store
            .record_inbound(
                chunk,
                Some(("matrix.sync_token", &token)),
                Timestamp::now().as_millisecond(),
            )
            .await
            .expect("record_inbound")
            .len();
    }
    let record_elapsed = started.elapsed();
    assert_eq!(recorded, count, "{label}: every message recorded once");

    let started = Instant::now();
    let mut handler = Handler::load(store, engine.clone(), groups.clone(), Routes::default())
        .await
        .expect("handler");
    let produced = handler.handle_pending(store).await.expect("handle_pending");
    let handle_elapsed = started.elapsed();

    let replies = expected_replies(count);
    assert_eq!(produced, replies, "{label}: one reply per command");
    assert!(
        store.pending_inbox(1).await.expect("pending").is_empty(),
        "{label}: nothing left pending"
    );
    let stored: i64 = store
        .outbox_counts()
        .await
        .expect("outbox counts")
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        stored as usize, replies,
        "{label}: every reply in the outbox"
    );

    StoreRun {
        record: Row::new(
            format!("{label}: record_inbound ({batch}/txn)"),
            count,
            record_elapsed,
        ),
        handle: Row::new(
            format!("{label}: handle_pending (100/txn)"),
            count,
            handle_elapsed,
        ),
        total: Row::new(
            format!("{label}: record + handle"),
            count,
            record_elapsed + handle_elapsed,
        ),
    }
}

fn print_table(rows: &[&Row]) {
    println!();
    println!(
        "{:<50} {:>8} {:>11} {:>12} {:>11}",
        "phase", "messages", "total ms", "per msg µs", "msgs/s"
    );
    println!("{}", "-".repeat(96));
    for row in rows {
        println!(
            "{:<50} {:>8} {:>11.1} {:>12.2} {:>11.0}",
            row.name,
            row.count,
            row.elapsed.as_secs_f64() * 1e3,
            row.elapsed.as_secs_f64() * 1e6 / row.count as f64,
            row.rate()
        );
    }
}

fn print_ratio(what: &str, numerator: &Row, denominator: &Row) {
    let ratio = numerator.rate() / denominator.rate();
    let reading = if ratio < 1.0 {
        format!("{:.1}x slower", 1.0 / ratio)
    } else {
        format!("{ratio:.1}x faster")
    };
    println!("  {what:<52} {ratio:>10.4}  ({reading})");
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let count = env_usize("RAPPORTEUR_BENCH_COMMANDS", 5000);
    let batch = env_usize("RAPPORTEUR_BENCH_BATCH", 50);

    let group_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cip-ccg.toml");
    let group = load_group_file(&group_path, GROUP_ID, "UTC").unwrap_or_else(|problems| {
        panic!("{}: {problems:?}", group_path.display());
    });
    let engine = Engine::new(Catalog::builtin().expect("built-in catalog"), "!");
    let groups: HashMap<String, Group> = [(GROUP_ID.to_string(), group.clone())].into();
    let now: Timestamp = "2026-11-25T16:00:00Z".parse().expect("timestamp");
    check_mix(&engine, &group, now);

    println!(
        "engine_throughput: {count} messages ({} kinds, {} replies), record batches of {batch}, \
         group {GROUP_ID} ({} people), {} CPUs",
        MIX.len(),
        expected_replies(count),
        group.people.len(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let (decide, rendered) = bench_core(&engine, &group, count, now);

    // The bot runs on a current-thread runtime since issue 11 (`new_runtime` in
    // src/bin/rapporteur/main.rs). This bench keeps the multi-threaded one by default, the one its
    // figures in docs/benchmarks.md were measured on; RAPPORTEUR_BENCH_RUNTIME=current_thread
    // runs it as the bot runs, and shows what the thread hand-offs cost.
    let current_thread =
        std::env::var("RAPPORTEUR_BENCH_RUNTIME").is_ok_and(|value| value == "current_thread");
    let runtime = if current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    } else {
        tokio::runtime::Runtime::new().expect("tokio runtime")
    };
    println!(
        "tokio runtime: {}",
        if current_thread {
            "current_thread (RAPPORTEUR_BENCH_RUNTIME), as the bot"
        } else {
            "multi_thread (as docs/benchmarks.md's figures)"
        }
    );
    // The store work runs in a spawned task, as the bot's handler loop does, not on the thread
    // that blocks on the runtime.
    let task = runtime.spawn(async move {
        let folder = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", folder.path().join("bench.db").display());
        let store = Store::connect(&url, 5).await.expect("open SQLite");
        store.migrate().await.expect("migrate SQLite");
        let sqlite = bench_store("sqlite", &store, &engine, &groups, count, batch).await;
        store.close().await;

        let postgres = match support::bench_postgres("rapporteur_bench").await {
            Ok((url, name)) => {
                let store = Store::connect(&url, 5).await.expect("open PostgreSQL");
                store.migrate().await.expect("migrate PostgreSQL");
                let run = bench_store("postgres", &store, &engine, &groups, count, batch).await;
                store.close().await;
                support::drop_database(&name).await;
                Ok(run)
            }
            Err(why) => Err(why),
        };
        (sqlite, postgres)
    });
    let (sqlite, postgres) = runtime.block_on(task).expect("the benchmark task");

    let mut rows = vec![&decide, &rendered];
    rows.extend([&sqlite.record, &sqlite.handle, &sqlite.total]);
    if let Ok(run) = &postgres {
        rows.extend([&run.record, &run.handle, &run.total]);
    }
    print_table(&rows);
    if let Err(why) = &postgres {
        println!(
            "postgres: SKIPPED: PostgreSQL at {} is unreachable ({why})",
            rapporteur::storage::redact_database_url(&support::postgres_server_url())
        );
    }

    println!();
    println!("ratios (same run; throughput of the first over the second):");
    print_ratio("decide+render / decide", &rendered, &decide);
    print_ratio("sqlite handle / core decide", &sqlite.handle, &decide);
    print_ratio(
        "sqlite handle / core decide+render",
        &sqlite.handle,
        &rendered,
    );
    print_ratio(
        "sqlite record+handle / sqlite handle",
        &sqlite.total,
        &sqlite.handle,
    );
    if let Ok(run) = &postgres {
        print_ratio("postgres handle / core decide", &run.handle, &decide);
        print_ratio(
            "postgres handle / sqlite handle",
            &run.handle,
            &sqlite.handle,
        );
        print_ratio(
            "postgres record+handle / sqlite record+handle",
            &run.total,
            &sqlite.total,
        );
    }

    const TARGET: f64 = 5_000.0;
    let verdict = if sqlite.handle.rate() >= TARGET {
        "meets"
    } else {
        "BELOW"
    };
    println!();
    println!(
        "target: >= {TARGET:.0} commands/s on SQLite handle_pending: {:.0}/s {verdict} the target",
        sqlite.handle.rate()
    );
}
