//! Rapporteur against the Python bots it replaces, side by side on one loopback Synapse.
//!
//! Three bots answer `!ping` with a `pong` notice that replies to it: rapporteur (the binary
//! named by `RAPPORTEUR_BOT_BINARY`, normally the `dist` build), maubot 0.6 in standalone mode
//! with a one-handler plugin, and a bare Python `/sync` loop bot (mautrix-python's HTTP client and
//! Olm machine, no framework). Each sits in its own encrypted room with the same driver, a real
//! matrix-sdk client. The driver sends one `!ping` at a time and waits for the reply, taking the
//! bots in turn within each round (the first bot of a round rotates), so that the three share the
//! same moments of the machine's noise and the per-round differences cancel most of it.
//!
//! Reported per bot: round trip median, p90 and p99; the per-round paired difference to the
//! reference bots (median); the server-side gap (the reply's `origin_server_ts` minus the
//! command's); CPU time per command from `/proc/<pid>/stat` before and after the rounds; CPU
//! while idle; resident memory idle before and after the rounds. For rapporteur also its own
//! part (from the moment its sync loop has the message to the moment the reply is handed to
//! the homeserver, as it logs it).
//!
//! `scripts/bench-vs-python.sh` installs the Python bots, starts the homeserver and runs this.
//! `RAPPORTEUR_BENCH_PINGS` sets the rounds (default 300), `RAPPORTEUR_BENCH_VENV` names the
//! virtualenv with maubot, `RAPPORTEUR_BENCH_BOTS` limits the bots (comma-separated names), and
//! `RAPPORTEUR_BENCH_EARLIER_BINARY` adds an earlier build of rapporteur as a fourth bot
//! (`rapporteur-earlier`), so that a change is measured before and after in the same run.
//! `RAPPORTEUR_BENCH_BOT_LOG` sets rapporteur's log filter (default: as deployed) and
//! `RAPPORTEUR_BENCH_KEEP_LOGS` names a folder to keep the bots' logs in.

#[path = "../tests/support/mod.rs"]
mod support;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};
use matrix_sdk::{Client, Room};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::matrix::{BotProcess, GroupMember, Homeserver, TestUser, homeserver};
use support::measure::{inside_bot_ms, percentile, resident_kib};
use tokio::sync::Notify;

/// What the driver's sync loop saw: when each event arrived and what it said.
#[derive(Default)]
struct Seen {
    /// Reply target event ID → (when the reply arrived here, the reply's server timestamp).
    replies: HashMap<String, (Instant, i64)>,
    /// Event ID → the server timestamp of every event seen (to find the command's).
    server_times: HashMap<String, i64>,
    /// (room, user) pairs that have joined.
    joined: Vec<(OwnedRoomId, String)>,
}

/// The driver: one person at a real matrix-sdk client (keys in memory), syncing with long polls
/// so a reply is seen the moment the homeserver has it.
struct Driver {
    client: Client,
    seen: Arc<Mutex<Seen>>,
    news: Arc<Notify>,
    _sync_task: tokio::task::JoinHandle<()>,
}

impl Driver {
    async fn login(homeserver: &Homeserver, user: &TestUser) -> Driver {
        let client = Client::builder()
            .homeserver_url(&homeserver.url)
            .respect_login_well_known(false)
            .build()
            .await
            .expect("driver client");
        client
            .matrix_auth()
            .login_username(&user.localpart, &user.password)
            .initial_device_display_name("benchmark driver")
            .send()
            .await
            .expect("driver login");
        let first = client
            .sync_once(SyncSettings::default())
            .await
            .expect("first sync");
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let news = Arc::new(Notify::new());
        let sync_client = client.clone();
        let sync_seen = seen.clone();
        let sync_news = news.clone();
        let sync_task = tokio::spawn(async move {
            let mut token = first.next_batch;
            loop {
                let settings = SyncSettings::default()
                    .token(token.clone())
                    .timeout(Duration::from_secs(30));
                let Ok(response) = sync_client.sync_once(settings).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                let arrived = Instant::now();
                {
                    let mut seen = sync_seen.lock().expect("lock");
                    for (room_id, update) in &response.rooms.joined {
                        for event in &update.timeline.events {
                            let Ok(json) = serde_json::from_str::<Value>(event.raw().json().get())
                            else {
                                continue;
                            };
                            record_event(&mut seen, room_id, &json, arrived);
                        }
                    }
                }
                sync_news.notify_waiters();
                token = response.next_batch;
            }
        });
        Driver {
            client,
            seen,
            news,
            _sync_task: sync_task,
        }
    }

    async fn create_encrypted_room(&self, invite: &str) -> Room {
        let mut request = CreateRoomRequest::new();
        request.invite = vec![OwnedUserId::try_from(invite).expect("user id")];
        request.initial_state = vec![
            InitialStateEvent::with_empty_state_key(
                RoomEncryptionEventContent::with_recommended_defaults(),
            )
            .to_raw_any(),
        ];
        self.client.create_room(request).await.expect("create room")
    }

    /// Waits until `check` finds what it looks for in what the sync loop saw.
    async fn wait_for<T>(
        &self,
        timeout: Duration,
        check: impl Fn(&Seen) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            // Registered before looking, so news between the look and the wait is not missed.
            let notified = self.news.notified();
            if let Some(found) = check(&self.seen.lock().expect("lock")) {
                return Some(found);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    async fn wait_for_join(&self, room_id: &OwnedRoomId, user_id: &str) -> bool {
        self.wait_for(Duration::from_secs(120), |seen| {
            seen.joined
                .iter()
                .any(|(room, user)| room == room_id && user == user_id)
                .then_some(())
        })
        .await
        .is_some()
    }

    /// One `!ping` and its reply: the round trip and the server-side gap, or `None` when no
    /// reply came within 30 seconds.
    async fn ping(&self, room: &Room) -> Option<(f64, f64)> {
        let started = Instant::now();
        let event_id = room
            .send(RoomMessageEventContent::text_plain("!ping"))
            .await
            .expect("send")
            .response
            .event_id
            .to_string();
        let (arrived, reply_server_ms) = self
            .wait_for(Duration::from_secs(30), |seen| {
                seen.replies.get(&event_id).copied()
            })
            .await?;
        let command_server_ms = self
            .wait_for(Duration::from_secs(5), |seen| {
                seen.server_times.get(&event_id).copied()
            })
            .await?;
        Some((
            (arrived - started).as_secs_f64() * 1_000.0,
            (reply_server_ms - command_server_ms) as f64,
        ))
    }
}

fn record_event(seen: &mut Seen, room_id: &OwnedRoomId, json: &Value, arrived: Instant) {
    let server_ms = json["origin_server_ts"].as_i64().unwrap_or_default();
    if let Some(event_id) = json["event_id"].as_str() {
        seen.server_times.insert(event_id.to_string(), server_ms);
    }
    if let Some(target) = json["content"]["m.relates_to"]["m.in_reply_to"]["event_id"].as_str() {
        seen.replies
            .entry(target.to_string())
            .or_insert((arrived, server_ms));
    }
    if json["type"] == "m.room.member"
        && json["content"]["membership"] == "join"
        && let Some(user) = json["state_key"].as_str()
    {
        seen.joined.push((room_id.clone(), user.to_string()));
    }
}

/// A bot under test: its process, room and measurements.
struct Contender {
    name: &'static str,
    bot_user_id: String,
    room: Room,
    room_id: OwnedRoomId,
    process: BotHandle,
    round_trips_ms: Vec<f64>,
    server_gaps_ms: Vec<f64>,
    misses: usize,
}

enum BotHandle {
    Rapporteur(BotProcess),
    Python { child: Child, log: PathBuf },
}

impl BotHandle {
    fn pid(&self) -> u32 {
        match self {
            BotHandle::Rapporteur(bot) => bot.pid().expect("rapporteur running"),
            BotHandle::Python { child, .. } => child.id(),
        }
    }

    fn log(&self) -> String {
        match self {
            BotHandle::Rapporteur(bot) => bot.log(),
            BotHandle::Python { log, .. } => std::fs::read_to_string(log).unwrap_or_default(),
        }
    }
}

impl Drop for Contender {
    fn drop(&mut self) {
        if let BotHandle::Python { child, .. } = &mut self.process {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A process's CPU time (user + system, all threads) in milliseconds, from /proc.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields counted from 1 start after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| -> f64 {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks_per_second = 100.0;
    (ticks(11) + ticks(12)) * 1_000.0 / ticks_per_second
}

/// The CPU time of a process's live threads in milliseconds, from each thread's schedstat
/// (nanoseconds): precise enough for a few seconds of idling, where `/proc/<pid>/stat` counts in
/// 10 ms ticks. Threads that ended are not counted, so it is used only while the bot idles.
fn live_threads_cpu_ms(pid: u32) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return f64::NAN;
    };
    let nanoseconds: u64 = tasks
        .filter_map(|task| task.ok())
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanoseconds as f64 / 1_000_000.0
}

/// Resident memory split as the kernel counts it: (total, anonymous, file-backed) in KiB.
fn memory_kib(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (
        resident_kib(pid).unwrap_or(0),
        field("RssAnon:"),
        field("RssFile:"),
    )
}

fn python_bot(
    name: &'static str,
    program: &Path,
    arguments: &[String],
    folder: &Path,
    venv: &Path,
) -> BotHandle {
    let log = folder.join(format!("{name}.log"));
    let log_file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(program)
        .args(arguments)
        .env("RAPPORTEUR_BENCH_VENV", venv)
        .current_dir(folder)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log handle"))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|error| panic!("start {name} ({}): {error}", program.display()));
    BotHandle::Python { child, log }
}

fn stats_line(name: &str, sorted: &[f64]) -> String {
    format!(
        "| {name} | {:.2} | {:.2} | {:.2} |",
        percentile(sorted, 0.5),
        percentile(sorted, 0.9),
        percentile(sorted, 0.99)
    )
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("RAPPORTEUR_BENCH_PINGS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(300);
    let wanted: Vec<String> = std::env::var("RAPPORTEUR_BENCH_BOTS")
        .unwrap_or_else(|_| "rapporteur,maubot,bare-python".into())
        .split(',')
        .map(|name| name.trim().to_string())
        .collect();
    let Some(homeserver) = homeserver().await else {
        eprintln!("SKIPPED: start the homeserver first (scripts/bench-vs-python.sh does)");
        return;
    };
    let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var("RAPPORTEUR_BENCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repository.join("var/bench-python"));
    let python = venv.join("bin/python");
    let folder = tempfile::tempdir().expect("temp dir");

    let driver_user = homeserver.register("driver").await;
    let driver = Driver::login(&homeserver, &driver_user).await;
    let mut contenders: Vec<Contender> = Vec::new();
    // An earlier build of the bot, to compare before and after a change in the same run.
    let earlier_binary = std::env::var("RAPPORTEUR_BENCH_EARLIER_BINARY")
        .ok()
        .map(PathBuf::from);
    for name in ["rapporteur", "rapporteur-earlier", "maubot", "bare-python"] {
        let wanted = match name {
            "rapporteur-earlier" => earlier_binary.is_some(),
            _ => wanted.iter().any(|wanted| wanted == name),
        };
        if !wanted {
            continue;
        }
        let bot_user = homeserver.register("bot").await;
        let room = driver.create_encrypted_room(&bot_user.user_id).await;
        let room_id = room.room_id().to_owned();
        let bot_folder = folder.path().join(name);
        std::fs::create_dir_all(&bot_folder).expect("bot folder");
        let process = match name {
            "rapporteur" | "rapporteur-earlier" => {
                let mut bot = BotProcess::configure(
                    &homeserver,
                    &bot_user,
                    room_id.as_str(),
                    &[GroupMember {
                        name: "Benchmark Driver",
                        user: &driver_user,
                        organization: Some("GNSO"),
                        roles: &["member", "chair"],
                    }],
                    None,
                );
                if name == "rapporteur-earlier"
                    && let Some(binary) = &earlier_binary
                {
                    bot = bot.with_binary(binary.clone());
                }
                // The bot logs as deployed (info), plus the latency probe it reports.
                bot.start_with_log_filter(
                    &std::env::var("RAPPORTEUR_BENCH_BOT_LOG")
                        .unwrap_or_else(|_| rapporteur::logging::DEFAULT_LOG_FILTER.to_string()),
                );
                BotHandle::Rapporteur(bot)
            }
            "maubot" => python_bot(
                name,
                Path::new("bash"),
                &[
                    repository
                        .join("scripts/bench/run-maubot.sh")
                        .display()
                        .to_string(),
                    bot_folder.display().to_string(),
                    homeserver.url.clone(),
                    bot_user.user_id.clone(),
                    bot_user.password.clone(),
                ],
                &bot_folder,
                &venv,
            ),
            _ => python_bot(
                name,
                &python,
                &[
                    repository
                        .join("scripts/bench/bare_bot.py")
                        .display()
                        .to_string(),
                    "--homeserver".into(),
                    homeserver.url.clone(),
                    "--user".into(),
                    bot_user.user_id.clone(),
                    "--password".into(),
                    bot_user.password.clone(),
                    "--store".into(),
                    bot_folder.join("store").display().to_string(),
                ],
                &bot_folder,
                &venv,
            ),
        };
        contenders.push(Contender {
            name,
            bot_user_id: bot_user.user_id.clone(),
            room,
            room_id,
            process,
            round_trips_ms: Vec::new(),
            server_gaps_ms: Vec::new(),
            misses: 0,
        });
    }
    for contender in &contenders {
        let joined = driver
            .wait_for_join(&contender.room_id, &contender.bot_user_id)
            .await;
        assert!(
            joined,
            "{} did not join its room; its log:\n{}",
            contender.name,
            contender.process.log()
        );
    }
    // Warm-up: the first sends set up the Megolm sessions on both sides.
    for contender in &mut contenders {
        for _ in 0..5 {
            if driver.ping(&contender.room).await.is_none() {
                panic!(
                    "{} did not answer the warm-up; its log:\n{}",
                    contender.name,
                    contender.process.log()
                );
            }
        }
    }
    // Idle is measured once the bots have settled: rapporteur looks at its database every 2 s
    // after activity and every 10 s once quiet for three looks (`dispatcher::scan_interval`).
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_before: Vec<(u64, u64, u64)> = contenders
        .iter()
        .map(|c| memory_kib(c.process.pid()))
        .collect();
    let idle_cpu_start: Vec<f64> = contenders
        .iter()
        .map(|c| live_threads_cpu_ms(c.process.pid()))
        .collect();
    let idle_seconds = 30.0;
    tokio::time::sleep(Duration::from_secs_f64(idle_seconds)).await;
    let idle_cpu: Vec<f64> = contenders
        .iter()
        .zip(&idle_cpu_start)
        .map(|(c, start)| live_threads_cpu_ms(c.process.pid()) - start)
        .collect();

    let cpu_before: Vec<f64> = contenders.iter().map(|c| cpu_ms(c.process.pid())).collect();
    let count = contenders.len();
    let mut paired: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(rounds); count];
    for round in 0..rounds {
        let mut this_round = vec![None; count];
        for turn in 0..count {
            let index = (round + turn) % count;
            let contender = &mut contenders[index];
            match driver.ping(&contender.room).await {
                Some((round_trip, gap)) => {
                    contender.round_trips_ms.push(round_trip);
                    contender.server_gaps_ms.push(gap);
                    this_round[index] = Some(round_trip);
                }
                None => contender.misses += 1,
            }
        }
        for (index, value) in this_round.into_iter().enumerate() {
            paired[index].push(value);
        }
    }
    let cpu_after: Vec<f64> = contenders.iter().map(|c| cpu_ms(c.process.pid())).collect();
    let after_run: Vec<(u64, u64, u64)> = contenders
        .iter()
        .map(|c| memory_kib(c.process.pid()))
        .collect();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_after: Vec<(u64, u64, u64)> = contenders
        .iter()
        .map(|c| memory_kib(c.process.pid()))
        .collect();

    println!(
        "{rounds} rounds; each round pings every bot once, one at a time, the first bot rotating; \
         encrypted rooms; loopback Synapse"
    );
    println!();
    println!("Round trip as the driver sees it (ms):");
    println!();
    println!("| bot | median | p90 | p99 |");
    println!("|---|---:|---:|---:|");
    for contender in &contenders {
        println!(
            "{}",
            stats_line(contender.name, &sorted(&contender.round_trips_ms))
        );
    }
    println!();
    println!("Per-round paired difference of the round trip (ms; row minus column, median):");
    println!();
    let mut header = String::from("| bot |");
    let mut rule = String::from("|---|");
    for contender in &contenders {
        header.push_str(&format!(" − {} |", contender.name));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    for (row, contender) in contenders.iter().enumerate() {
        let mut line = format!("| {} |", contender.name);
        for column in 0..count {
            let differences: Vec<f64> = paired[row]
                .iter()
                .zip(&paired[column])
                .filter_map(|(a, b)| Some((*a)? - (*b)?))
                .collect();
            line.push_str(&format!(
                " {:+.2} |",
                percentile(&sorted(&differences), 0.5)
            ));
        }
        println!("{line}");
    }
    println!();
    println!(
        "| bot | server-side gap, median (ms) | CPU per command (ms) | CPU idle (ms per s) | \
         RSS idle before (MiB) | RSS after the rounds (MiB) | RSS idle after (MiB) | anon / file idle after (MiB) | misses |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (index, contender) in contenders.iter().enumerate() {
        let answered = contender.round_trips_ms.len().max(1) as f64;
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "| {} | {:.1} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} | {} |",
            contender.name,
            percentile(&sorted(&contender.server_gaps_ms), 0.5),
            (cpu_after[index] - cpu_before[index]) / answered,
            idle_cpu[index] / idle_seconds,
            mib(idle_before[index].0),
            mib(after_run[index].0),
            mib(idle_after[index].0),
            mib(idle_after[index].1),
            mib(idle_after[index].2),
            contender.misses,
        );
    }
    // The bots' logs, kept for a look at one command's path (`RAPPORTEUR_BENCH_KEEP_LOGS`).
    if let Ok(folder) = std::env::var("RAPPORTEUR_BENCH_KEEP_LOGS") {
        let _ = std::fs::create_dir_all(&folder);
        for contender in &contenders {
            let path = Path::new(&folder).join(format!("{}.log", contender.name));
            let _ = std::fs::write(path, contender.process.log());
        }
    }
    for contender in contenders
        .iter()
        .filter(|c| c.name.starts_with("rapporteur"))
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let inside_ms = sorted(&inside_bot_ms(&contender.process.log(), 5));
        println!();
        println!(
            "{}'s own part (sync loop has the event → reply handed to the homeserver), \
             {} samples: median {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            contender.name,
            inside_ms.len(),
            percentile(&inside_ms, 0.5),
            percentile(&inside_ms, 0.9),
            percentile(&inside_ms, 0.99),
            inside_ms.last().copied().unwrap_or(f64::NAN)
        );
    }
}
