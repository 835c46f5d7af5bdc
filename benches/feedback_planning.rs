//! Feedback requests at scale: planning and status for 50 organizations × 1,000 open requests,
//! and one `!remind` cycle for a 500-member group, from the pure core to mails accepted by the
//! relay.
//!
//! Run with `cargo bench --bench feedback_planning` (release profile). Three parts, in one run so
//! their ratios can be compared on a noisy machine:
//!
//!  1. **core** (no I/O): a group of 50 organizations (2 seats each, every member with a Matrix
//!     ID and an address, every organization with a contact address) and a state of 1,000 open
//!     requests to all 50, built through the engine from a realistic timeline of commands over 60
//!     days (`!request open`, then about 40 % of the organizations acknowledge, 20 % respond, 5 %
//!     ask for an extension of which 60 % are granted, and chairs run `!remind` on a fifth of the
//!     requests). Timed per operation (median and p99): building the state (decide + apply),
//!     `!status R-n`, `!requests`, the clock's follow-up decision, `plan::next_follow_up` over
//!     every request, rebuilding the state from its change log (`GroupState::from_changes`, and
//!     from JSON as `Handler::reload` does), a `!respond` decision, `!extend` with and without a
//!     reason, and clones: `timers::after_changes` clones the request it plans on, and a clone of
//!     the whole state is what `Handler::handle_items` made per batch before it moved the state
//!     on in place. A counting allocator gives the state's heap size and a clone's allocations.
//!  2. **handler** (SQLite, and PostgreSQL when reachable, as `engine_throughput` finds it): a
//!     group of 250 organizations × 2 members = 500 members and one request to all 250; each
//!     `!remind R-1 force` is recorded in the inbox and handled by `Handler::handle_items` (decide,
//!     render every delivery, commit the rows), and the rows are counted (one room message with
//!     500 mentions, 750 mails, the chair's reply). Then, on SQLite, the 50 × 1,000 timeline of
//!     part 1 goes through the handler (mail off, so only the room rows are written), and single
//!     commands are handled against the resulting state and against a group with no requests.
//!  3. **end to end**: the bot binary (`RAPPORTEUR_BOT_BINARY`, as `mail_fanout`) on the loopback
//!     stack of `scripts/stack.sh` with the 500-member group; the time from the chair's `!remind
//!     R-1` to the chair's reply, the room message with its 500 mentions, and the last of the 750
//!     reminder mails accepted by the relay. Skipped (a `SKIPPED` line) without the stack.
//!
//! `RAPPORTEUR_BENCH_PARTS` (default `core,handler,e2e`) picks parts; `RAPPORTEUR_BENCH_ORGS`
//! (50), `RAPPORTEUR_BENCH_REQUESTS` (1000) and `RAPPORTEUR_BENCH_REMIND_ORGS` (250) change the
//! sizes. Every part first checks that the commands do what they claim (each is carried out, the
//! rows are the ones expected); no figure is asserted.

#[path = "../tests/support/mod.rs"]
mod support;

use jiff::{SignedDuration, Timestamp};
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::{
    FeedbackPolicy, Group, Organization, Person, Role, SenderAddress,
};
use rapporteur::core::effects::Timer;
use rapporteur::core::engine::{Disposition, Engine, Input};
use rapporteur::core::feedback::plan::next_follow_up;
use rapporteur::core::feedback::timers::after_changes;
use rapporteur::core::state::{Change, GroupState};
use rapporteur::handling::{Handler, ReplyPayload, Routes, decide_item, outbox_items_for};
use rapporteur::mail::thread::MailPayload;
use rapporteur::storage::{InboxItem, NewInboxItem, OutboxItem, Store};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::measure::percentile;

// ---------------------------------------------------------------------------------------------
// A counting allocator: live heap bytes and the number of allocations, to size the state and its
// clones. One relaxed atomic add per allocation; the same in every part, so ratios hold.

struct Counting;

static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_bytes() -> i64 {
    LIVE_BYTES.load(Ordering::Relaxed)
}

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

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

/// A small deterministic generator (splitmix64), so every run builds the same state.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A duration between `low` and `high` seconds.
    fn seconds(&mut self, low: i64, high: i64) -> SignedDuration {
        let span = (high - low).max(1) as u64;
        SignedDuration::from_secs(low + self.below(span) as i64)
    }
}

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

fn plus(at: Timestamp, duration: SignedDuration) -> Timestamp {
    at.checked_add(duration).expect("timestamp in range")
}

/// Samples of one operation, in microseconds.
struct Stat {
    label: String,
    samples: Vec<f64>,
    note: String,
}

impl Stat {
    fn new(label: impl Into<String>, mut samples: Vec<f64>, note: impl Into<String>) -> Stat {
        samples.sort_by(f64::total_cmp);
        Stat {
            label: label.into(),
            samples,
            note: note.into(),
        }
    }

    fn median(&self) -> f64 {
        percentile(&self.samples, 0.5)
    }

    fn p99(&self) -> f64 {
        percentile(&self.samples, 0.99)
    }

    fn max(&self) -> f64 {
        self.samples.last().copied().unwrap_or(f64::NAN)
    }
}

fn micros(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e6
}

/// Microseconds as the tables show them: µs below 10 ms, ms above.
fn shown(us: f64) -> String {
    if us.is_nan() {
        "-".into()
    } else if us < 10_000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1e3)
    }
}

fn print_stats(title: &str, stats: &[&Stat]) {
    println!();
    println!("{title}");
    println!(
        "  {:<58} {:>7} {:>11} {:>11} {:>11}  note",
        "operation", "n", "median", "p99", "max"
    );
    println!("  {}", "-".repeat(118));
    for stat in stats {
        println!(
            "  {:<58} {:>7} {:>11} {:>11} {:>11}  {}",
            stat.label,
            stat.samples.len(),
            shown(stat.median()),
            shown(stat.p99()),
            shown(stat.max()),
            stat.note
        );
    }
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// Synapse refuses events larger than this (`max_event_size` is fixed at 65,536 bytes of
/// canonical JSON, content and envelope together).
const MATRIX_EVENT_LIMIT: usize = 65_536;

// ---------------------------------------------------------------------------------------------
// The group.

const BIG_GROUP: &str = "bench-ccg";
const ROOM: &str = "!benchroom:localhost";
const CHAIR_ID: &str = "@bench-chair:localhost";

fn organization_name(index: usize) -> String {
    format!("ORG{:03}", index + 1)
}

fn member_matrix_id(organization: usize, seat: usize) -> String {
    format!("@org{:03}-m{}:localhost", organization + 1, seat + 1)
}

/// A group of `organizations` organizations with `seats` appointed members each (a Matrix ID
/// and an address each) and a contact address, plus one chair. `mail_tag` makes the addresses
/// unique to a run (for the end-to-end part, whose mailboxes persist).
fn bench_group(
    id: &str,
    organizations: usize,
    seats: usize,
    chair_matrix_id: &str,
    chair_email: &str,
    mail_tag: &str,
) -> Group {
    let mut people = vec![Person {
        id: "bench.chair".into(),
        name: "Chair Person".into(),
        matrix_ids: vec![chair_matrix_id.into()],
        emails: vec![chair_email.into()],
        organization: None,
        roles: vec![Role::Chair],
    }];
    let mut orgs = Vec::with_capacity(organizations);
    for index in 0..organizations {
        let short_name = organization_name(index);
        orgs.push(Organization {
            short_name: short_name.clone(),
            name: format!("Appointing Organization number {}", index + 1),
            seats: seats as u32,
            contact: Some(format!(
                "org{:03}-secretariat{mail_tag}@example.org",
                index + 1
            )),
            answerers: Vec::new(),
        });
        for seat in 0..seats {
            people.push(Person {
                id: format!("org{:03}.m{}", index + 1, seat + 1),
                name: format!("Member {} of {short_name}", seat + 1),
                matrix_ids: vec![member_matrix_id(index, seat)],
                emails: vec![format!(
                    "org{:03}-m{}{mail_tag}@example.org",
                    index + 1,
                    seat + 1
                )],
                organization: Some(short_name.clone()),
                roles: vec![Role::Member],
            });
        }
    }
    Group {
        id: id.into(),
        short_name: "BENCH-CCG".into(),
        name: "Benchmark Coordination Group".into(),
        time_zone: jiff::tz::TimeZone::get("Europe/Brussels").expect("bundled zone"),
        time_zone_name: "Europe/Brussels".into(),
        meeting_cadence: None,
        consensus_designations: vec!["Full Consensus".into(), "Consensus".into()],
        organizations: orgs,
        people,
        room: Some(ROOM.into()),
        list_address: Some("bench-ccg@lists.example.org".into()),
        feedback: FeedbackPolicy::default(),
        meetings: Default::default(),
        consensus: Default::default(),
        surveys: Vec::new(),
        record_url: None,
        record: Default::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// The timeline of commands that builds the 50 × 1,000 state.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Open,
    Ack,
    Respond,
    Extend,
    Grant,
    Remind,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Open,
        Kind::Ack,
        Kind::Respond,
        Kind::Extend,
        Kind::Grant,
        Kind::Remind,
    ];

    fn command(self) -> &'static str {
        match self {
            Kind::Open => "!request open",
            Kind::Ack => "!ack",
            Kind::Respond => "!respond",
            Kind::Extend => "!extend",
            Kind::Grant => "!grant",
            Kind::Remind => "!remind",
        }
    }
}

struct Event {
    at: Timestamp,
    seq: usize,
    kind: Kind,
    sender: SenderAddress,
    body: String,
}

/// When the timeline starts, and the moment every later measurement is taken (60 days on).
fn timeline_start() -> Timestamp {
    "2026-09-01T08:00:00Z".parse().expect("timestamp")
}

fn timeline_now() -> Timestamp {
    plus(timeline_start(), SignedDuration::from_secs(60 * DAY))
}

fn timeline(organizations: usize, requests: usize) -> Vec<Event> {
    let mut rng = Rng(0x5EED_2026);
    let start = timeline_start();
    let now = timeline_now();
    let spacing = 60 * DAY / requests.max(1) as i64;
    let mut events = Vec::new();
    let push = |events: &mut Vec<Event>, at: Timestamp, kind: Kind, sender: &str, body: String| {
        if at <= now {
            let seq = events.len();
            events.push(Event {
                at,
                seq,
                kind,
                sender: SenderAddress::Matrix(sender.to_string()),
                body,
            });
        }
    };
    for index in 0..requests {
        let number = index + 1;
        let opened = plus(start, SignedDuration::from_secs(index as i64 * spacing));
        push(
            &mut events,
            opened,
            Kind::Open,
            CHAIR_ID,
            format!("!request open \"Proposal {number}: charter amendment on working methods\""),
        );
        for organization in 0..organizations {
            let member = member_matrix_id(organization, rng.below(2) as usize);
            let roll = rng.chance();
            if roll < 0.40 {
                let at = plus(opened, rng.seconds(HOUR, 10 * DAY));
                push(
                    &mut events,
                    at,
                    Kind::Ack,
                    &member,
                    format!("!ack R-{number}"),
                );
            } else if roll < 0.60 {
                let respond_at = plus(opened, rng.seconds(2 * HOUR, 35 * DAY));
                if rng.chance() < 0.33 {
                    let ack_at = plus(opened, rng.seconds(HOUR, 2 * HOUR));
                    push(
                        &mut events,
                        ack_at,
                        Kind::Ack,
                        &member,
                        format!("!ack R-{number}"),
                    );
                }
                let position = match rng.below(20) {
                    0..=9 => "support".to_string(),
                    10..=14 => "support-with-comments we ask for a clearer timeline in section 3"
                        .to_string(),
                    15..=17 => "abstain".to_string(),
                    _ => "no-support the proposal conflicts with our bylaws, article 4".to_string(),
                };
                push(
                    &mut events,
                    respond_at,
                    Kind::Respond,
                    &member,
                    format!("!respond R-{number} {position}"),
                );
            } else if roll < 0.65 {
                let ack_at = plus(opened, rng.seconds(HOUR, 5 * DAY));
                push(
                    &mut events,
                    ack_at,
                    Kind::Ack,
                    &member,
                    format!("!ack R-{number}"),
                );
                let extend_at = plus(opened, rng.seconds(5 * DAY, 25 * DAY));
                let until = plus(opened, SignedDuration::from_secs(50 * DAY))
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .date();
                push(
                    &mut events,
                    extend_at,
                    Kind::Extend,
                    &member,
                    format!("!extend R-{number} {until} our council meets after the deadline"),
                );
                if rng.chance() < 0.6 {
                    let grant_at = plus(extend_at, rng.seconds(HOUR, 3 * DAY));
                    push(
                        &mut events,
                        grant_at,
                        Kind::Grant,
                        CHAIR_ID,
                        format!("!grant R-{number} {}", organization_name(organization)),
                    );
                }
            }
        }
        if rng.chance() < 0.2 {
            let at = plus(opened, rng.seconds(8 * DAY, 28 * DAY));
            push(
                &mut events,
                at,
                Kind::Remind,
                CHAIR_ID,
                format!("!remind R-{number}"),
            );
        }
    }
    events.sort_by_key(|event| (event.at, event.seq));
    events
}

fn fake_inbox_item(id: i64, group_id: &str, sender: &str, body: &str, at: Timestamp) -> InboxItem {
    InboxItem {
        id,
        channel: "matrix".into(),
        external_id: format!("$bench-{id}:localhost"),
        group_id: group_id.into(),
        conversation: ROOM.into(),
        sender: sender.into(),
        body: body.into(),
        origin_ms: at.as_millisecond(),
        received_ms: at.as_millisecond(),
    }
}

fn routes(mail_enabled: bool, groups: &[&str]) -> Routes {
    Routes {
        rooms: groups
            .iter()
            .map(|group| (group.to_string(), ROOM.to_string()))
            .collect(),
        mail_enabled,
    }
}

// ---------------------------------------------------------------------------------------------
// Part 1: the core.

struct CoreRun {
    changes: Vec<Change>,
    status_render_median: f64,
    clone_median: f64,
}

fn part_core(engine: &Engine, organizations: usize, requests: usize) -> CoreRun {
    let group = bench_group(
        BIG_GROUP,
        organizations,
        2,
        CHAIR_ID,
        "chair@example.org",
        "",
    );
    let all_routes = routes(true, &[BIG_GROUP]);
    let events = timeline(organizations, requests);
    let now = timeline_now();
    let mut by_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    for event in &events {
        *by_kind.entry(event.kind).or_default() += 1;
    }
    println!();
    println!(
        "part 1, core: group of {organizations} organizations × 2 members (+ contacts, 1 chair; {} people), \
         {requests} requests, timeline of {} commands over 60 days: {}",
        group.people.len(),
        events.len(),
        by_kind
            .iter()
            .map(|(kind, count)| format!("{count} {}", kind.command()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // (a) Build the state: each command decided against the state so far, its changes applied.
    let mut state = GroupState::default();
    let mut changes: Vec<Change> = Vec::new();
    let mut per_kind: BTreeMap<Kind, Vec<f64>> = BTreeMap::new();
    let mut without_changes: BTreeMap<Kind, usize> = BTreeMap::new();
    let live_before = live_bytes();
    let build_started = Instant::now();
    for event in &events {
        let started = Instant::now();
        let decision = engine.decide_command(&state, &group, &event.sender, &event.body, event.at);
        for change in &decision.changes {
            state.apply(change);
        }
        let elapsed = micros(started);
        assert_eq!(
            decision.disposition,
            Disposition::Executed,
            "the timeline is stale: {} at {} gave {:?}: {:?}",
            event.body,
            event.at,
            decision.disposition,
            decision.reply().map(|reply| reply.plain_text())
        );
        if decision.changes.is_empty() {
            *without_changes.entry(event.kind).or_default() += 1;
        }
        per_kind.entry(event.kind).or_default().push(elapsed);
        changes.extend(decision.changes);
    }
    let build_total = build_started.elapsed();
    assert_eq!(state.requests.len(), requests, "every request opened");
    let refused: usize = without_changes
        .iter()
        .filter(|(kind, _)| **kind != Kind::Remind)
        .map(|(_, count)| count)
        .sum();
    assert_eq!(
        refused, 0,
        "every answer must change the state: {without_changes:?}"
    );
    let state_bytes_with_log = live_bytes() - live_before;

    let orgs_total = requests * organizations;
    let (mut acknowledged, mut responded, mut extended, mut granted, mut reminded, mut owing) =
        (0, 0, 0, 0, 0, 0);
    let mut history = 0;
    for request in state.requests.values() {
        history += request.history.len();
        for status in request.organizations.values() {
            acknowledged += usize::from(status.acknowledged.is_some());
            responded += usize::from(status.response.is_some());
            extended += usize::from(status.extension.is_some());
            granted += usize::from(status.granted_until().is_some());
            reminded += usize::from(status.reminders > 0);
            owing += usize::from(request.owed_by(status).is_some());
        }
    }
    println!(
        "  state at {now}: {requests} open requests × {organizations} organizations = {orgs_total} statuses: \
         {:.0} % acknowledged, {:.0} % responded, {:.1} % asked for an extension ({granted} granted), \
         {:.0} % reminded at least once, {:.0} % still owe an answer; {} changes in the log, {history} history entries",
        100.0 * acknowledged as f64 / orgs_total as f64,
        100.0 * responded as f64 / orgs_total as f64,
        100.0 * extended as f64 / orgs_total as f64,
        100.0 * reminded as f64 / orgs_total as f64,
        100.0 * owing as f64 / orgs_total as f64,
        changes.len(),
    );
    let mut stats: Vec<Stat> = Vec::new();
    let all_build: Vec<f64> = per_kind.values().flatten().copied().collect();
    stats.push(Stat::new(
        "(a) build: every command, decide + apply",
        all_build,
        format!(
            "{} commands in {:.2} s",
            events.len(),
            build_total.as_secs_f64()
        ),
    ));
    for kind in Kind::ALL {
        if let Some(samples) = per_kind.remove(&kind) {
            stats.push(Stat::new(
                format!("    {} ...", kind.command()),
                samples,
                "",
            ));
        }
    }

    let mut rng = Rng(0xBE7C_4000);
    let member_sender = |rng: &mut Rng| {
        SenderAddress::Matrix(member_matrix_id(
            rng.below(organizations as u64) as usize,
            0,
        ))
    };

    // (b) !status R-n, for random n, by a member; then rendered into its outbox row.
    let mut decide_samples = Vec::new();
    let mut render_samples = Vec::new();
    let mut status_bytes = Vec::new();
    for round in 0..1_000 {
        let number = rng.below(requests as u64) + 1;
        let body = format!("!status R-{number}");
        let sender = member_sender(&mut rng);
        let started = Instant::now();
        let decision = engine.decide_command(&state, &group, &sender, &body, now);
        decide_samples.push(micros(started));
        let item = fake_inbox_item(round, BIG_GROUP, &sender.to_string(), &body, now);
        let started = Instant::now();
        let rows = outbox_items_for(&item, &decision, engine, &group, &all_routes);
        render_samples.push(micros(started));
        status_bytes.push(
            rows.outbox
                .iter()
                .map(|row| row.payload.len())
                .sum::<usize>(),
        );
        black_box(rows);
    }
    status_bytes.sort();
    let status_payload = status_bytes[status_bytes.len() / 2];
    stats.push(Stat::new("(b) !status R-n: decide", decide_samples, ""));
    let status_render = Stat::new(
        "    render its outbox row (plain, HTML, JSON)",
        render_samples,
        format!("reply row {} (median)", kib(status_payload)),
    );
    let status_render_median = status_render.median();
    stats.push(status_render);

    // (c) !requests: every open request with its counts.
    let mut decide_samples = Vec::new();
    let mut render_samples = Vec::new();
    let mut requests_payload = 0;
    for round in 0..60 {
        let sender = member_sender(&mut rng);
        let started = Instant::now();
        let decision = engine.decide_command(&state, &group, &sender, "!requests", now);
        decide_samples.push(micros(started));
        let item = fake_inbox_item(round, BIG_GROUP, &sender.to_string(), "!requests", now);
        let started = Instant::now();
        let rows = outbox_items_for(&item, &decision, engine, &group, &all_routes);
        render_samples.push(micros(started));
        requests_payload = rows.outbox.iter().map(|row| row.payload.len()).sum();
        assert_eq!(decision.disposition, Disposition::Executed);
    }
    stats.push(Stat::new("(c) !requests: decide", decide_samples, ""));
    stats.push(Stat::new(
        "    render its outbox row",
        render_samples,
        format!(
            "reply row {} ({}the 64 KiB Matrix event limit)",
            kib(requests_payload),
            if requests_payload > MATRIX_EVENT_LIMIT {
                "OVER "
            } else {
                "under "
            }
        ),
    ));

    // (d) The clock's follow-up for a request, as the handler decides a timer that fell due.
    let mut decide_samples = Vec::new();
    let mut render_samples = Vec::new();
    let mut reminded_orgs = Vec::new();
    let mut rows_per_follow_up = Vec::new();
    let due = plus(now, SignedDuration::from_secs(-30));
    for round in 0..1_000 {
        let number = (rng.below(requests as u64) + 1) as u32;
        let timer = Timer::RequestFollowUp { number };
        let key = format!("R-{number}:follow-up");
        let input = Input::Timer {
            key: &key,
            due,
            timer: &timer,
        };
        let started = Instant::now();
        let decision = engine.decide(&state, &group, &input, now);
        decide_samples.push(micros(started));
        assert_eq!(decision.disposition, Disposition::TimerFired);
        let item = InboxItem {
            channel: "clock".into(),
            ..fake_inbox_item(round, BIG_GROUP, "clock", "", now)
        };
        let started = Instant::now();
        let rows = outbox_items_for(&item, &decision, engine, &group, &all_routes);
        render_samples.push(micros(started));
        reminded_orgs.push(
            decision
                .changes
                .iter()
                .filter(|change| matches!(change, Change::Reminded { .. }))
                .count() as f64,
        );
        rows_per_follow_up.push(rows.outbox.len() as f64);
    }
    reminded_orgs.sort_by(f64::total_cmp);
    rows_per_follow_up.sort_by(f64::total_cmp);
    stats.push(Stat::new(
        "(d) clock follow-up of R-n: Engine::decide(Input::Timer)",
        decide_samples,
        format!(
            "reminds {:.0} organizations (median; max {:.0})",
            percentile(&reminded_orgs, 0.5),
            reminded_orgs.last().copied().unwrap_or(0.0)
        ),
    ));
    stats.push(Stat::new(
        "    render its rows (room, mails, chairs)",
        render_samples,
        format!(
            "{:.0} rows (median; max {:.0})",
            percentile(&rows_per_follow_up, 0.5),
            rows_per_follow_up.last().copied().unwrap_or(0.0)
        ),
    ));

    // (e) plan::next_follow_up over every request (what replanning them all would cost).
    let mut pass_samples = Vec::new();
    let mut one_samples = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        for request in state.requests.values() {
            black_box(next_follow_up(
                black_box(request),
                &group.feedback,
                &group.time_zone,
                now,
            ));
        }
        pass_samples.push(micros(started));
    }
    for _ in 0..2_000 {
        let number = (rng.below(requests as u64) + 1) as u32;
        let request = &state.requests[&number];
        let started = Instant::now();
        black_box(next_follow_up(
            request,
            &group.feedback,
            &group.time_zone,
            now,
        ));
        one_samples.push(micros(started));
    }
    stats.push(Stat::new(
        format!("(e) next_follow_up over all {requests} requests"),
        pass_samples,
        "",
    ));
    stats.push(Stat::new(
        "    one request (50 organizations)",
        one_samples,
        "",
    ));

    // (f) The state rebuilt from its change log: in memory, and from JSON as Handler::reload.
    let mut fold_samples = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let rebuilt = GroupState::from_changes(&changes);
        fold_samples.push(micros(started));
        assert_eq!(rebuilt.requests.len(), requests);
        black_box(rebuilt);
    }
    let json: Vec<String> = changes
        .iter()
        .map(|change| serde_json::to_string(change).expect("change as JSON"))
        .collect();
    let json_bytes: usize = json.iter().map(String::len).sum();
    let mut reload_samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut rebuilt = GroupState::default();
        for text in &json {
            let change: Change = serde_json::from_str(text).expect("stored change");
            rebuilt.apply(&change);
        }
        reload_samples.push(micros(started));
        assert_eq!(rebuilt, state, "the fold of the log is the state");
    }
    stats.push(Stat::new(
        format!("(f) GroupState::from_changes ({} changes)", changes.len()),
        fold_samples,
        "",
    ));
    stats.push(Stat::new(
        "    from JSON, as Handler::reload",
        reload_samples,
        format!("log {:.1} MiB of JSON", json_bytes as f64 / 1048576.0),
    ));

    // (g) !respond against the full state, and the clones around it.
    let mut decide_samples = Vec::new();
    let mut after_samples = Vec::new();
    let mut request_clone_samples = Vec::new();
    let mut found = 0;
    while found < 1_000 {
        let number = (rng.below(requests as u64) + 1) as u32;
        let organization = rng.below(organizations as u64) as usize;
        let request = &state.requests[&number];
        let status = &request.organizations[organization_name(organization).as_str()];
        if status.response.is_some() {
            continue;
        }
        found += 1;
        let sender = SenderAddress::Matrix(member_matrix_id(organization, 1));
        let body = format!("!respond R-{number} support");
        let started = Instant::now();
        let decision = engine.decide_command(&state, &group, &sender, &body, now);
        decide_samples.push(micros(started));
        assert!(
            !decision.changes.is_empty(),
            "{body}: {:?}",
            decision.reply().map(|reply| reply.plain_text())
        );
        let started = Instant::now();
        black_box(after_changes(request, &decision.changes));
        after_samples.push(micros(started));
        let started = Instant::now();
        black_box(request.clone());
        request_clone_samples.push(micros(started));
    }
    stats.push(Stat::new(
        "(g) !respond R-n support: decide",
        decide_samples,
        "includes after_changes and a replan",
    ));
    stats.push(Stat::new(
        "    timers::after_changes (clones the request)",
        after_samples,
        "",
    ));
    stats.push(Stat::new(
        "    FeedbackRequest::clone",
        request_clone_samples,
        "",
    ));
    // (h) !extend: its date is looked for as the longest run of up to four words that reads as
    // one, so the words of a reason are tried (and refused) first.
    for (label, reason) in [
        ("(h) !extend R-n <date>: decide", ""),
        (
            "    !extend R-n <date> <6-word reason>: decide",
            " our council meets after the deadline",
        ),
    ] {
        let mut samples = Vec::new();
        while samples.len() < 500 {
            let number = (rng.below(requests as u64) + 1) as u32;
            let organization = rng.below(organizations as u64) as usize;
            let request = &state.requests[&number];
            let status = &request.organizations[organization_name(organization).as_str()];
            if status.response.is_some() || status.extension.is_some() {
                continue;
            }
            let until = plus(request.respond_by, SignedDuration::from_secs(20 * DAY))
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date();
            let sender = SenderAddress::Matrix(member_matrix_id(organization, 0));
            let body = format!("!extend R-{number} {until}{reason}");
            let started = Instant::now();
            let decision = engine.decide_command(&state, &group, &sender, &body, now);
            samples.push(micros(started));
            assert!(
                decision
                    .changes
                    .iter()
                    .any(|change| matches!(change, Change::ExtensionRequested { .. })),
                "{body}: {:?}",
                decision.reply().map(|reply| reply.plain_text())
            );
        }
        stats.push(Stat::new(label, samples, ""));
    }
    let mut clone_samples = Vec::new();
    let mut clone_allocations = 0;
    let mut clone_bytes = 0;
    for _ in 0..30 {
        let allocations_before = allocations();
        let live_before = live_bytes();
        let started = Instant::now();
        let copy = state.clone();
        clone_samples.push(micros(started));
        clone_allocations = allocations() - allocations_before;
        clone_bytes = live_bytes() - live_before;
        drop(black_box(copy));
    }
    let state_clone = Stat::new(
        "    GroupState::clone (the whole state)",
        clone_samples,
        format!(
            "{clone_allocations} allocations, {:.1} MiB",
            clone_bytes as f64 / 1048576.0
        ),
    );
    let clone_median = state_clone.median();
    stats.push(state_clone);
    let mut drop_samples = Vec::new();
    for _ in 0..10 {
        let copy = state.clone();
        let started = Instant::now();
        drop(black_box(copy));
        drop_samples.push(micros(started));
    }
    stats.push(Stat::new("    dropping that clone", drop_samples, ""));

    let refs: Vec<&Stat> = stats.iter().collect();
    print_stats(
        &format!(
            "part 1, core ({organizations} organizations × {requests} open requests; now = {now})"
        ),
        &refs,
    );
    println!(
        "  heap: the state holds {:.1} MiB ({clone_allocations} allocations); while building, the state and \
         the bench's copy of the change log grew the heap by {:.1} MiB",
        clone_bytes as f64 / 1048576.0,
        state_bytes_with_log as f64 / 1048576.0
    );
    let median_of = |prefix: &str| {
        stats
            .iter()
            .find(|stat| stat.label.trim_start().starts_with(prefix))
            .map_or(f64::NAN, Stat::median)
    };
    println!(
        "  ratios (same run, medians): state clone / (!status decide + render) = {:.0}; clock follow-up \
         render / decide = {:.1}; !extend with a reason / without = {:.0}; from JSON / in-memory fold = {:.1}",
        clone_median / (median_of("(b)") + status_render_median),
        median_of("render its rows") / median_of("(d)"),
        median_of("!extend R-n <date> <6-word") / median_of("(h)"),
        median_of("from JSON") / median_of("(f)"),
    );
    CoreRun {
        changes,
        status_render_median,
        clone_median,
    }
}

// ---------------------------------------------------------------------------------------------
// Part 2: through the handler and the database.

fn inbound(
    external_id: &str,
    group_id: &str,
    sender: &str,
    body: &str,
    at: Timestamp,
) -> NewInboxItem {
    NewInboxItem {
        channel: "matrix".into(),
        external_id: external_id.into(),
        group_id: group_id.into(),
        conversation: ROOM.into(),
        sender: sender.into(),
        body: body.into(),
        origin_ms: at.as_millisecond(),
    }
}

/// What the rows of one handled input are.
#[derive(Default, Debug)]
struct RowCount {
    room_announcements: usize,
    mentions: usize,
    replies: usize,
    mails: usize,
    payload_bytes: usize,
    room_payload_bytes: usize,
    /// The room message went out as plain text only (too long with its HTML for one event).
    room_plain_only: bool,
    mail_payload_bytes: usize,
}

fn count_rows(rows: &[OutboxItem]) -> RowCount {
    let mut count = RowCount::default();
    for row in rows {
        count.payload_bytes += row.payload.len();
        match row.channel.as_str() {
            "matrix" => {
                let payload: ReplyPayload =
                    serde_json::from_str(&row.payload).expect("room payload");
                if payload.in_reply_to.is_empty() {
                    count.room_announcements += 1;
                    count.mentions += payload.mentions.len();
                    count.room_payload_bytes = count.room_payload_bytes.max(row.payload.len());
                    count.room_plain_only = payload.html.is_empty();
                } else {
                    count.replies += 1;
                }
            }
            "mail" => {
                let _: MailPayload = serde_json::from_str(&row.payload).expect("mail payload");
                count.mails += 1;
                count.mail_payload_bytes = count.mail_payload_bytes.max(row.payload.len());
            }
            other => panic!("unexpected channel {other}"),
        }
    }
    count
}

struct RemindRun {
    label: String,
    open_ms: f64,
    open_rows: RowCount,
    record: Stat,
    decide: Stat,
    render: Stat,
    render_once: Stat,
    handle: Stat,
    rows: RowCount,
}

/// `!request open` to all organizations, then `repeats` × `!remind R-1 force`, each recorded and
/// handled on its own (a batch of one, as a chair's message usually is).
async fn remind_cycles(
    label: &str,
    store: &Store,
    engine: &Engine,
    group: &Group,
    repeats: usize,
) -> RemindRun {
    let groups: HashMap<String, Group> = [(group.id.clone(), group.clone())].into();
    let mut handler = Handler::load(store, engine.clone(), groups, routes(true, &[&group.id]))
        .await
        .expect("handler");
    let opened_at: Timestamp = "2026-11-25T16:00:00Z".parse().expect("timestamp");
    let open = store
        .record_inbound(
            &[inbound(
                "$open:localhost",
                &group.id,
                CHAIR_ID,
                "!request open \"Reminder cycle benchmark\" due 2026-12-20",
                opened_at,
            )],
            None,
            opened_at.as_millisecond(),
        )
        .await
        .expect("record the open");
    let started = Instant::now();
    let handled = handler
        .handle_items(store, &open, opened_at)
        .await
        .expect("handle the open");
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    let open_rows = count_rows(&handled.effects);
    assert_eq!(
        handler.state(&group.id).map(|state| state.requests.len()),
        Some(1),
        "{label}: R-1 is open"
    );

    let members = group.people.iter().filter(|p| p.occupies_seat()).count();
    let expected_mails = members + group.organizations.len();
    let (mut record, mut decide, mut render, mut render_once, mut handle) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rows = RowCount::default();
    for round in 0..repeats {
        let now = plus(
            opened_at,
            SignedDuration::from_secs(DAY + round as i64 * HOUR),
        );
        let started = Instant::now();
        let items = store
            .record_inbound(
                &[inbound(
                    &format!("$remind-{round}:localhost"),
                    &group.id,
                    CHAIR_ID,
                    "!remind R-1 force",
                    now,
                )],
                None,
                now.as_millisecond(),
            )
            .await
            .expect("record the remind");
        record.push(micros(started));
        // The pieces of handle_items, measured apart on the same input (deciding is pure).
        let state = handler.state(&group.id).expect("state");
        let started = Instant::now();
        let decision = decide_item(engine, state, group, &items[0], now);
        decide.push(micros(started));
        let started = Instant::now();
        black_box(outbox_items_for(
            &items[0],
            &decision,
            engine,
            group,
            &handler.routes,
        ));
        render.push(micros(started));
        // What rendering the announcement's text once costs (outbox_items_for renders it for
        // every delivery, the room message and each mail).
        let started = Instant::now();
        for effect in &decision.effects {
            if let rapporteur::core::effects::Effect::Announce { document, .. } = effect {
                black_box((document.plain_text(), document.html()));
            }
        }
        render_once.push(micros(started));

        let started = Instant::now();
        let handled = handler
            .handle_items(store, &items, now)
            .await
            .expect("handle the remind");
        handle.push(micros(started));
        rows = count_rows(&handled.effects);
        assert_eq!(
            (
                rows.room_announcements,
                rows.mentions,
                rows.mails,
                rows.replies
            ),
            (1, members, expected_mails, 1),
            "{label}: one room message mentioning every member, a mail to each member and \
             contact, the chair's summary"
        );
    }
    RemindRun {
        label: label.into(),
        open_ms,
        open_rows,
        record: Stat::new(format!("{label}: record_inbound (1 message)"), record, ""),
        decide: Stat::new(format!("{label}:   decide (Engine, the cycle)"), decide, ""),
        render: Stat::new(
            format!("{label}:   render every delivery (outbox_items_for)"),
            render,
            "",
        ),
        render_once: Stat::new(
            format!("{label}:     of which the text, rendered once"),
            render_once,
            "plain + HTML of the announcement",
        ),
        handle: Stat::new(
            format!("{label}: handle_items (decide + render + commit)"),
            handle,
            "",
        ),
        rows,
    }
}

fn print_remind(run: &RemindRun, members: usize) {
    let commit = run.handle.median() - run.decide.median() - run.render.median();
    print_stats(
        &format!(
            "part 2, {}: `!remind R-1 force` for {members} members, recorded and handled alone",
            run.label
        ),
        &[
            &run.record,
            &run.handle,
            &run.decide,
            &run.render,
            &run.render_once,
        ],
    );
    println!(
        "  the rest (handle_items median − decide − render: copying the rows, the transaction): {} ({:.0} % of handling)",
        shown(commit),
        100.0 * commit / run.handle.median()
    );
    println!(
        "  rows written per cycle: {} ({} room message with {} mentions, {} mails, {} reply); \
         {:.1} MiB of payload; the room message {} ({}{}), the largest mail {}",
        run.rows.room_announcements + run.rows.mails + run.rows.replies,
        run.rows.room_announcements,
        run.rows.mentions,
        run.rows.mails,
        run.rows.replies,
        run.rows.payload_bytes as f64 / 1048576.0,
        kib(run.rows.room_payload_bytes),
        if run.rows.room_payload_bytes > MATRIX_EVENT_LIMIT {
            "OVER the 64 KiB Matrix event limit"
        } else {
            "under the 64 KiB Matrix event limit"
        },
        if run.rows.room_plain_only {
            "; plain text only, its HTML left out to fit"
        } else {
            ""
        },
        kib(run.rows.mail_payload_bytes)
    );
    println!(
        "  the open before it (announcement to all): handled in {:.1} ms, {} rows ({} mails, room message {}), {:.1} MiB",
        run.open_ms,
        run.open_rows.room_announcements + run.open_rows.mails + run.open_rows.replies,
        run.open_rows.mails,
        kib(run.open_rows.room_payload_bytes),
        run.open_rows.payload_bytes as f64 / 1048576.0
    );
}

/// The 50 × 1,000 timeline through the handler on SQLite (mail off: rows for the room only),
/// then single commands against the resulting state, next to the same commands for a group
/// with no requests.
async fn big_state_through_handler(
    engine: &Engine,
    organizations: usize,
    requests: usize,
    core: &CoreRun,
) {
    let folder = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", folder.path().join("bench.db").display());
    let store = Store::connect(&url, 5).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    let big = bench_group(
        BIG_GROUP,
        organizations,
        2,
        CHAIR_ID,
        "chair@example.org",
        "",
    );
    let mut empty = big.clone();
    empty.id = "empty-ccg".into();
    let groups: HashMap<String, Group> = [
        (big.id.clone(), big.clone()),
        (empty.id.clone(), empty.clone()),
    ]
    .into();
    let mut handler = Handler::load(
        &store,
        engine.clone(),
        groups.clone(),
        routes(false, &[&big.id, &empty.id]),
    )
    .await
    .expect("handler");

    let events = timeline(organizations, requests);
    let inbound_items: Vec<NewInboxItem> = events
        .iter()
        .map(|event| {
            inbound(
                &format!("$t{:06}:localhost", event.seq),
                &big.id,
                &event.sender.to_string(),
                &event.body,
                event.at,
            )
        })
        .collect();
    let started = Instant::now();
    for chunk in inbound_items.chunks(50) {
        let now = Timestamp::from_millisecond(chunk[0].origin_ms).expect("time");
        store
            .record_inbound(chunk, None, now.as_millisecond())
            .await
            .expect("record");
    }
    let record_s = started.elapsed().as_secs_f64();
    let mut batch_samples = Vec::new();
    let started = Instant::now();
    loop {
        let batch = store.pending_inbox(100).await.expect("pending");
        let Some(last) = batch.last() else { break };
        let now = Timestamp::from_millisecond(last.origin_ms).expect("time");
        let batch_started = Instant::now();
        handler
            .handle_items(&store, &batch, now)
            .await
            .expect("handle a batch");
        batch_samples.push(micros(batch_started) / batch.len() as f64);
    }
    let handle_s = started.elapsed().as_secs_f64();
    let state = handler.state(&big.id).expect("state");
    assert_eq!(state.requests.len(), requests, "every request opened");
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_changes")
        .fetch_one(store.pool())
        .await
        .unwrap_or(-1);
    let first: f64 = batch_samples.iter().take(10).sum::<f64>() / 10.0;
    let last: f64 = batch_samples.iter().rev().take(10).sum::<f64>() / 10.0;

    let started = Instant::now();
    let reloaded = Handler::load(
        &store,
        engine.clone(),
        groups,
        routes(false, &[&big.id, &empty.id]),
    )
    .await
    .expect("reload");
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(
        reloaded.state(&big.id).map(|state| state.requests.len()),
        Some(requests)
    );
    drop(reloaded);

    // Single commands, each recorded and handled as a batch of one.
    let now = timeline_now();
    let mut rng = Rng(0x51A7_0005);
    let mut samples: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 0..40 {
        let number = rng.below(requests as u64) + 1;
        let member = member_matrix_id(rng.below(organizations as u64) as usize, 0);
        let cases = [
            (
                "!ping, the 1,000-request group",
                big.id.as_str(),
                "!ping".to_string(),
            ),
            (
                "!ping, a group with no requests",
                empty.id.as_str(),
                "!ping".to_string(),
            ),
            (
                "!status R-n, the 1,000-request group",
                big.id.as_str(),
                format!("!status R-{number}"),
            ),
        ];
        for (label, group_id, body) in cases {
            let recorded = store
                .record_inbound(
                    &[inbound(
                        &format!("$single-{round}-{label}:localhost"),
                        group_id,
                        &member,
                        &body,
                        now,
                    )],
                    None,
                    now.as_millisecond(),
                )
                .await
                .expect("record");
            let started = Instant::now();
            let handled = handler
                .handle_items(&store, &recorded, now)
                .await
                .expect("handle");
            samples.entry(label).or_default().push(micros(started));
            assert_eq!(handled.effects.len(), 1, "{label}: one reply");
        }
    }
    let stats: Vec<Stat> = samples
        .into_iter()
        .map(|(label, samples)| Stat::new(format!("handle_items: {label}"), samples, ""))
        .collect();
    println!();
    println!(
        "part 2, sqlite: the {}-command timeline of part 1 through the handler (mail off: room rows only)",
        events.len()
    );
    println!(
        "  record_inbound in batches of 50: {record_s:.2} s; handle_items in batches of 100: {handle_s:.2} s \
         ({:.0} µs per command; first 10 batches {first:.0} µs, last 10 batches {last:.0} µs per command); \
         {logged} changes logged (the core made {})",
        handle_s * 1e6 / events.len() as f64,
        core.changes.len()
    );
    println!("  Handler::load with that log (start of the bot): {load_ms:.0} ms");
    let refs: Vec<&Stat> = stats.iter().collect();
    print_stats(
        "part 2, sqlite: single commands against the 1,000-request state (batch of one each)",
        &refs,
    );
    let big_ping = stats[0].median();
    let empty_ping = stats[1].median();
    println!(
        "  a !ping costs {:.2} ms more in the 1,000-request group than in an empty one (a copy of the \
         state per batch would add {:.1} ms, part 1); the core's !status decide + render is {:.2} ms",
        (big_ping - empty_ping) / 1e3,
        core.clone_median / 1e3,
        core.status_render_median / 1e3
    );
    store.close().await;
}

// ---------------------------------------------------------------------------------------------
// Part 3: end to end.

fn group_file_toml(group: &Group) -> String {
    let quote = |text: &str| serde_json::to_string(text).expect("string");
    let mut text = format!(
        "[group]\nshort_name = {}\nname = {}\ntime_zone = {}\nconsensus_designations = [\"Full Consensus\", \"Consensus\"]\n",
        quote(&group.short_name),
        quote(&group.name),
        quote(&group.time_zone_name)
    );
    for organization in &group.organizations {
        text.push_str(&format!(
            "\n[[organizations]]\nshort_name = {}\nname = {}\nseats = {}\n",
            quote(&organization.short_name),
            quote(&organization.name),
            organization.seats
        ));
        if let Some(contact) = &organization.contact {
            text.push_str(&format!("contact = {}\n", quote(contact)));
        }
    }
    for person in &group.people {
        let list = |items: &[String]| {
            items
                .iter()
                .map(|item| quote(item))
                .collect::<Vec<_>>()
                .join(", ")
        };
        text.push_str(&format!(
            "\n[[people]]\nid = {}\nname = {}\nmatrix_ids = [{}]\nemails = [{}]\nroles = [{}]\n",
            quote(&person.id),
            quote(&person.name),
            list(&person.matrix_ids),
            list(&person.emails),
            person
                .roles
                .iter()
                .map(|role| quote(role.name()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Some(organization) = &person.organization {
            text.push_str(&format!("organization = {}\n", quote(organization)));
        }
    }
    text
}

/// Sent mail (count, first and last `sent_ms`) and failures among the rows created since `since`.
async fn mail_progress(store: &Store, since_ms: i64) -> (i64, i64, i64, i64) {
    let row: (i64, Option<i64>, Option<i64>, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0), \
         MIN(sent_ms), MAX(sent_ms), COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) \
         FROM outbox WHERE channel = 'mail' AND created_ms >= $1",
    )
    .bind(since_ms)
    .fetch_one(store.pool())
    .await
    .expect("outbox progress");
    (row.0, row.1.unwrap_or(0), row.2.unwrap_or(0), row.3)
}

/// A room row: state, attempts, last error, payload bytes, sent_ms.
type RoomRow = (String, i64, Option<String>, i64, Option<i64>);

/// The room rows created since `since`.
async fn room_rows(store: &Store, since_ms: i64) -> Vec<RoomRow> {
    sqlx::query_as(
        "SELECT state, attempts, last_error, LENGTH(payload), sent_ms FROM outbox \
         WHERE channel = 'matrix' AND created_ms >= $1 ORDER BY id",
    )
    .bind(since_ms)
    .fetch_all(store.pool())
    .await
    .expect("room rows")
}

async fn first_created(store: &Store, since_ms: i64) -> Option<i64> {
    sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MIN(created_ms) FROM outbox WHERE created_ms >= $1",
    )
    .bind(since_ms)
    .fetch_one(store.pool())
    .await
    .ok()
    .flatten()
}

/// The first room message seen after `since` that mentions at least `mentions` people.
fn mention_message(
    chair: &support::matrix::TestClient,
    room_id: &matrix_sdk::ruma::OwnedRoomId,
    mentions: usize,
    starts_with: &str,
) -> Option<serde_json::Value> {
    chair
        .events_in(room_id)
        .into_iter()
        .rev()
        .find_map(|event| {
            let content = &event.json["content"];
            let count = content["m.mentions"]["user_ids"]
                .as_array()
                .map_or(0, Vec::len);
            let body = content["body"].as_str().unwrap_or_default();
            (count >= mentions && body.starts_with(starts_with)).then(|| event.json.clone())
        })
}

struct Fanout {
    reply_ms: Option<f64>,
    committed_ms: Option<f64>,
    room_ms: Option<f64>,
    first_mail_ms: f64,
    last_mail_ms: f64,
    mails: i64,
    failed: i64,
    room: Vec<RoomRow>,
}

/// Sends `body` as the chair and follows what it produces until every expected mail is accepted
/// and the room message is seen (or has failed), or `timeout`.
#[allow(clippy::too_many_arguments)]
async fn follow_fanout(
    chair: &support::matrix::TestClient,
    room: &matrix_sdk::Room,
    room_id: &matrix_sdk::ruma::OwnedRoomId,
    store: &Store,
    body: &str,
    expected_mails: i64,
    mentions: usize,
    room_text: &str,
    timeout: Duration,
) -> Fanout {
    let sent_ms = Timestamp::now().as_millisecond();
    let started = Instant::now();
    let event = chair.send(room, body).await;
    let mut reply_ms = None;
    let mut room_ms = None;
    loop {
        let elapsed = started.elapsed().as_secs_f64() * 1e3;
        if reply_ms.is_none() && !chair.replies_to(room_id, &event).is_empty() {
            reply_ms = Some(elapsed);
        }
        if room_ms.is_none() && mention_message(chair, room_id, mentions, room_text).is_some() {
            room_ms = Some(elapsed);
        }
        let (mails, _, _, failed) = mail_progress(store, sent_ms).await;
        let rooms = room_rows(store, sent_ms).await;
        let room_settled = room_ms.is_some() || rooms.iter().any(|(state, ..)| state == "failed");
        if (mails + failed >= expected_mails && room_settled && reply_ms.is_some())
            || started.elapsed() > timeout
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (mails, first, last, failed) = mail_progress(store, sent_ms).await;
    Fanout {
        reply_ms,
        committed_ms: first_created(store, sent_ms)
            .await
            .map(|created| (created - sent_ms) as f64),
        room_ms,
        first_mail_ms: (first - sent_ms) as f64,
        last_mail_ms: (last - sent_ms) as f64,
        mails,
        failed,
        room: room_rows(store, sent_ms).await,
    }
}

fn print_fanout(label: &str, fanout: &Fanout, expected_mails: i64) {
    let ms = |value: Option<f64>| value.map_or("never".to_string(), |ms| format!("{ms:.0} ms"));
    println!("  {label}:");
    println!(
        "    rows committed (first outbox row created): {}",
        ms(fanout.committed_ms)
    );
    println!(
        "    chair's reply seen in the room: {}",
        ms(fanout.reply_ms)
    );
    println!(
        "    room message with its mentions seen by the chair: {}",
        ms(fanout.room_ms)
    );
    println!(
        "    mails accepted by the relay: {} of {expected_mails} ({} failed); first {:.0} ms, last {:.0} ms \
         ({:.0} mails/s from first to last)",
        fanout.mails,
        fanout.failed,
        fanout.first_mail_ms,
        fanout.last_mail_ms,
        fanout.mails as f64 * 1e3 / (fanout.last_mail_ms - fanout.first_mail_ms).max(1.0)
    );
    for (state, attempts, error, bytes, _) in &fanout.room {
        println!(
            "    room row: {state}, {attempts} attempt(s), payload {}{}",
            kib(*bytes as usize),
            error
                .as_ref()
                .map(|error| format!(", last error: {error}"))
                .unwrap_or_default()
        );
    }
}

async fn part_end_to_end(remind_orgs: usize) {
    println!();
    let Some(homeserver) = support::matrix::homeserver().await else {
        println!(
            "part 3, end to end: SKIPPED: no homeserver (run scripts/bench.sh, which starts the stack)"
        );
        return;
    };
    let Some(servers) = support::mail::mail_servers().await else {
        println!("part 3, end to end: SKIPPED: no mail servers (run scripts/bench.sh)");
        return;
    };
    let mut scene = support::matrix::ChairRoom::prepare(&homeserver).await;
    let run = support::matrix::unique_name("-r");
    let chair_email = support::mail::email_of(&scene.chair_user.user_id);
    let group = bench_group(
        "test-ccg",
        remind_orgs,
        2,
        &scene.chair_user.user_id,
        &chair_email,
        &run,
    );
    let members = group.people.iter().filter(|p| p.occupies_seat()).count();
    let expected_mails = (members + group.organizations.len()) as i64;
    std::fs::write(
        scene.bot.folder.path().join("group.toml"),
        group_file_toml(&group),
    )
    .expect("write the group file");
    let mail = scene.bot.enable_mail(&servers);
    scene.bot.start();
    scene.wait_for_bot().await;
    let support::matrix::ChairRoom {
        chair,
        room,
        room_id,
        bot,
        ..
    } = scene;
    for _ in 0..3 {
        let event = chair.send(&room, "!ping").await;
        chair
            .wait_for_reply(&room_id, &event, Duration::from_secs(60))
            .await;
    }
    let store = support::matrix::bot_store(&bot).await;
    println!(
        "part 3, end to end: the bot ({}) with mail on the loopback stack; group of {remind_orgs} organizations × 2 \
         members = {members} members, {} organizations' contacts; SMTP pool of 4",
        std::env::var("RAPPORTEUR_BOT_BINARY").unwrap_or_else(|_| "cargo's build".into()),
        group.organizations.len()
    );
    let open = follow_fanout(
        &chair,
        &room,
        &room_id,
        &store,
        "!request open \"Reminder cycle benchmark\" due 2026-12-31",
        expected_mails + 1,
        members,
        "Feedback request",
        Duration::from_secs(300),
    )
    .await;
    print_fanout(
        "`!request open` to all (the announcement; the list gets one more mail)",
        &open,
        expected_mails + 1,
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let remind = follow_fanout(
        &chair,
        &room,
        &room_id,
        &store,
        "!remind R-1",
        expected_mails,
        members,
        "Reminder:",
        Duration::from_secs(300),
    )
    .await;
    print_fanout(
        "`!remind R-1` (every organization owes its acknowledgement)",
        &remind,
        expected_mails,
    );
    let last_member = group
        .people
        .iter()
        .rev()
        .find(|person| person.occupies_seat())
        .and_then(|person| person.emails.first().cloned())
        .unwrap_or_default();
    let received = servers.inbox(&last_member).await;
    println!(
        "    the last member's inbox ({last_member}) holds {} mail(s); bot address {}",
        received.len(),
        mail.bot_address
    );
    drop(bot);
}

// ---------------------------------------------------------------------------------------------

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let organizations = env_usize("RAPPORTEUR_BENCH_ORGS", 50);
    let requests = env_usize("RAPPORTEUR_BENCH_REQUESTS", 1_000);
    let remind_orgs = env_usize("RAPPORTEUR_BENCH_REMIND_ORGS", 250);
    let parts =
        std::env::var("RAPPORTEUR_BENCH_PARTS").unwrap_or_else(|_| "core,handler,e2e".into());
    let wanted = |part: &str| parts.split(',').any(|p| p.trim() == part);
    let engine = Engine::new(Catalog::builtin().expect("built-in catalog"), "!");
    println!(
        "feedback_planning: {organizations} organizations × {requests} requests; remind cycle for {remind_orgs} \
         organizations × 2 members; parts {parts}; {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let core = part_core(&engine, organizations, requests);

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if wanted("handler") {
        let engine = engine.clone();
        let task = runtime.spawn(async move {
            let group = bench_group(BIG_GROUP, remind_orgs, 2, CHAIR_ID, "chair@example.org", "");
            let members = group.people.iter().filter(|p| p.occupies_seat()).count();
            let folder = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", folder.path().join("remind.db").display());
            let store = Store::connect(&url, 5).await.expect("open SQLite");
            store.migrate().await.expect("migrate SQLite");
            let sqlite = remind_cycles("sqlite", &store, &engine, &group, 7).await;
            store.close().await;
            print_remind(&sqlite, members);
            match support::bench_postgres("rapporteur_bench_fp").await {
                Ok((url, name)) => {
                    let store = Store::connect(&url, 5).await.expect("open PostgreSQL");
                    store.migrate().await.expect("migrate PostgreSQL");
                    let postgres = remind_cycles("postgres", &store, &engine, &group, 7).await;
                    store.close().await;
                    support::drop_database(&name).await;
                    print_remind(&postgres, members);
                    println!(
                        "  ratio (same run): postgres / sqlite handle_items = {:.2}",
                        postgres.handle.median() / sqlite.handle.median()
                    );
                }
                Err(why) => println!(
                    "postgres: SKIPPED: PostgreSQL at {} is unreachable ({why})",
                    rapporteur::storage::redact_database_url(&support::postgres_server_url())
                ),
            }
            big_state_through_handler(&engine, organizations, requests, &core).await;
        });
        runtime.block_on(task).expect("the handler part");
    }
    if wanted("e2e") {
        runtime.block_on(part_end_to_end(remind_orgs));
    }
}
