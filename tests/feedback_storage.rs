//! Feedback requests through the handler and the store, on SQLite and PostgreSQL alike: the
//! state is committed with its input and rebuilt from the change log, the inputs of one batch
//! see each other's changes, the durable clock fires each timer once (also after downtime, saying
//! it is late), and a reminder cycle handled again after a restart sends nothing twice.

mod support;

use rapporteur::config::load_group_file;
use rapporteur::core::catalog::Catalog;
use rapporteur::core::directory::Group;
use rapporteur::core::engine::Engine;
use rapporteur::core::record::publication::PUBLICATION_TIMER_KEY;
use rapporteur::handling::{Handler, Routes};
use rapporteur::mail::thread::MailPayload;
use rapporteur::storage::{InboxItem, NewInboxItem, OutboxItem, Store};
use std::collections::HashMap;
use std::path::Path;

const ROOM: &str = "!cceg:localhost";

fn cceg() -> Group {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups/cceg-ig.toml");
    let mut group = load_group_file(&path, "cceg-ig", "UTC").expect("valid example group");
    group.room = Some(ROOM.into());
    group.list_address = Some("cceg-ig@lists.example.org".into());
    group
}

async fn handler(store: &Store) -> Handler {
    Handler::load(
        store,
        Engine::new(Catalog::builtin().expect("valid"), "!"),
        HashMap::from([("cceg-ig".to_string(), cceg())]),
        Routes {
            rooms: HashMap::from([("cceg-ig".to_string(), ROOM.to_string())]),
            mail_enabled: true,
        },
    )
    .await
    .expect("handler")
}

/// The group's timers but its publication timer, which every change moves
/// (`core::record::publication`) and these tests do not look at.
async fn request_timers(store: &Store) -> Vec<rapporteur::storage::StoredTimer> {
    store
        .timers("cceg-ig")
        .await
        .expect("timers")
        .into_iter()
        .filter(|timer| timer.key != PUBLICATION_TIMER_KEY)
        .collect()
}

/// Fires the due timers, and keeps those of requests (see [`request_timers`]).
async fn fire_request_timers(
    store: &Store,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<InboxItem>, rapporteur::storage::StorageError> {
    Ok(store
        .fire_due_timers(now_ms, limit)
        .await?
        .into_iter()
        .filter(|item| item.conversation != PUBLICATION_TIMER_KEY)
        .collect())
}

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>()
        .expect("RFC 3339")
        .as_millisecond()
}

fn chat(external_id: &str, sender: &str, body: &str) -> NewInboxItem {
    NewInboxItem {
        channel: "matrix".into(),
        external_id: external_id.into(),
        group_id: "cceg-ig".into(),
        conversation: ROOM.into(),
        sender: sender.into(),
        body: body.into(),
        origin_ms: 0,
    }
}

async fn record(store: &Store, items: &[NewInboxItem], now: &str) -> Vec<InboxItem> {
    store
        .record_inbound(items, None, ms(now))
        .await
        .expect("record")
}

async fn handle(
    handler: &mut Handler,
    store: &Store,
    items: &[InboxItem],
    now: &str,
) -> Vec<OutboxItem> {
    handler
        .handle_items(store, items, now.parse().expect("RFC 3339"))
        .await
        .expect("handle")
        .effects
}

fn mail_recipients(outbox: &[OutboxItem]) -> Vec<String> {
    let mut recipients: Vec<String> = outbox
        .iter()
        .filter(|item| item.channel == "mail")
        .map(|item| {
            serde_json::from_str::<MailPayload>(&item.payload)
                .expect("mail payload")
                .to
        })
        .collect();
    recipients.sort();
    recipients
}

const CARLOS: &str = "@carlos.mendoza:localhost";
const ANA: &str = "@ana.lima:localhost";
const THANDIWE: &str = "@thandiwe.dlamini:localhost";

on_both_backends!(
    state_is_committed_with_its_input_and_rebuilt_on_restart,
    |store: Store| async move {
        let mut first = handler(&store).await;
        // One batch: the acknowledgement sees the request opened just before it.
        let items = record(
            &store,
            &[
                chat(
                    "$open",
                    CARLOS,
                    "!request open \"WSIS+20\" to GNSO, GAC ack 2026-12-02 due 2026-12-20",
                ),
                chat("$ack", ANA, "!ack R-1"),
            ],
            "2026-11-25T10:00:00Z",
        )
        .await;
        let outbox = handle(&mut first, &store, &items, "2026-11-25T10:00:00Z").await;
        // The replies, one room message mentioning GNSO's and GAC's members, mails to every
        // member with an address, both contacts and the list.
        assert_eq!(
            outbox
                .iter()
                .filter(|item| item.channel == "matrix")
                .count(),
            3
        );
        assert_eq!(
            mail_recipients(&outbox),
            [
                "ana.lima@example.org",
                "cceg-ig@lists.example.org",
                "gac-staff@example.org",
                "gnso-secretariat@example.org",
                "grace.wanjiru@example.org",
                "henrik.lund@example.org",
                "pieter.devries@example.org",
                "thandiwe.dlamini@example.org",
            ]
        );
        assert!(
            outbox
                .iter()
                .filter(|item| item.channel == "mail")
                .all(|item| item.about.as_deref() == Some("R-1"))
        );
        let state = first.state("cceg-ig").expect("state").clone();
        let request = state.request(1).expect("opened");
        assert!(request.organizations["GNSO"].acknowledged.is_some());
        assert!(request.organizations["GAC"].acknowledged.is_none());

        // A new handler (a restart) reads the same state from the change log.
        let second = handler(&store).await;
        assert_eq!(second.state("cceg-ig"), Some(&state));
        // The follow-up timer is stored.
        let timers = request_timers(&store).await;
        assert_eq!(timers.len(), 1, "{timers:?}");
        assert_eq!(timers[0].key, "R-1:follow-up");
        assert_eq!(timers[0].state, "pending");
    }
);

on_both_backends!(
    a_timer_fires_once_and_a_late_one_says_so,
    |store: Store| async move {
        let mut handler = handler(&store).await;
        let items = record(
            &store,
            &[
                chat(
                    "$open",
                    CARLOS,
                    "!request open \"WSIS+20\" to GNSO, GAC ack 2026-12-02 due 2026-12-20",
                ),
                chat("$ack", ANA, "!respond R-1 support"),
            ],
            "2026-11-25T10:00:00Z",
        )
        .await;
        handle(&mut handler, &store, &items, "2026-11-25T10:00:00Z").await;
        let timer = &request_timers(&store).await[0];
        // Nothing is due before the timer's time.
        assert!(
            fire_request_timers(&store, timer.due_ms - 1, 10)
                .await
                .expect("fire")
                .is_empty()
        );
        // The bot was down: the clock looks two days after the timer fell due.
        let late = timer.due_ms + 2 * 86_400_000;
        let fired = fire_request_timers(&store, late, 10).await.expect("fire");
        assert_eq!(fired.len(), 1);
        assert!(
            fire_request_timers(&store, late, 10)
                .await
                .expect("fire")
                .is_empty(),
            "a timer fires once"
        );
        let now = jiff::Timestamp::from_millisecond(late)
            .expect("instant")
            .to_string();
        let outbox = handle(&mut handler, &store, &fired, &now).await;
        // Only GAC still owes its acknowledgement: its members and contact, and the chairs'
        // summary to the co-chairs.
        assert_eq!(
            mail_recipients(&outbox),
            [
                "aisha.kamara@example.org",
                "carlos.mendoza@example.org",
                "gac-staff@example.org",
                "henrik.lund@example.org",
                "thandiwe.dlamini@example.org",
            ]
        );
        let reminder: MailPayload = serde_json::from_str(
            &outbox
                .iter()
                .find(|item| item.destination == "thandiwe.dlamini@example.org")
                .expect("a reminder to the GAC member")
                .payload,
        )
        .expect("payload");
        assert!(
            reminder.plain.contains("This comes late"),
            "{}",
            reminder.plain
        );
        assert!(
            reminder.subject.contains("R-1: reminder"),
            "{}",
            reminder.subject
        );
        // Handled again (a second delivery of the same firing) it produces nothing more.
        let again = handle(&mut handler, &store, &fired, &now).await;
        assert!(again.is_empty());
        // The timer was moved to the next point.
        let timer = &request_timers(&store).await[0];
        assert_eq!(timer.state, "pending");
        assert!(timer.due_ms > late);
    }
);

on_both_backends!(
    closing_a_request_cancels_its_timer,
    |store: Store| async move {
        let mut handler = handler(&store).await;
        let items = record(
            &store,
            &[
                chat("$open", CARLOS, "!request open \"WSIS+20\" to GAC"),
                chat("$ext", THANDIWE, "!extend R-1 2027-02-01 Our plenary"),
                chat("$close", CARLOS, "!request close R-1 force Withdrawn"),
            ],
            "2026-11-25T10:00:00Z",
        )
        .await;
        let outbox = handle(&mut handler, &store, &items, "2026-11-25T10:00:00Z").await;
        assert!(!outbox.is_empty());
        let timers = request_timers(&store).await;
        assert_eq!(timers.len(), 1);
        assert_eq!(timers[0].state, "cancelled");
        assert!(
            fire_request_timers(&store, i64::MAX / 2, 10)
                .await
                .expect("fire")
                .is_empty()
        );
    }
);

on_both_backends!(
    a_reminder_cycle_handled_again_after_a_restart_sends_nothing_twice,
    |store: Store| async move {
        let mut handler_before = handler(&store).await;
        let opened = record(
            &store,
            &[chat("$open", CARLOS, "!request open \"WSIS+20\"")],
            "2026-11-25T10:00:00Z",
        )
        .await;
        handle(&mut handler_before, &store, &opened, "2026-11-25T10:00:00Z").await;
        let remind = record(
            &store,
            &[chat("$remind", CARLOS, "!remind R-1")],
            "2026-11-26T10:00:00Z",
        )
        .await;
        let sent = handle(&mut handler_before, &store, &remind, "2026-11-26T10:00:00Z").await;
        assert!(sent.len() > 5, "{sent:?}");
        // After a restart the same input is offered again (as a crash between the commit and
        // the hand-over to the dispatcher would): it is already handled.
        let mut handler_after = handler(&store).await;
        let again = handle(&mut handler_after, &store, &remind, "2026-11-26T10:00:05Z").await;
        assert!(again.is_empty());
        let request = handler_after
            .state("cceg-ig")
            .and_then(|state| state.request(1))
            .cloned()
            .expect("request");
        assert!(
            request
                .organizations
                .values()
                .all(|status| status.reminders == 1)
        );
    }
);

/// A batch whose commit fails leaves nothing of its decisions in the handler's state: the next
/// batch is decided against what the change log holds. (Regression: the state moves on in place
/// before the commit, so a failed commit must mark it for reading again.)
#[tokio::test]
async fn a_failed_commit_leaves_no_trace_in_the_state() {
    let (url, _folder) = support::fresh_sqlite_url();
    let store = Store::connect(&url, 1).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut handler = handler(&store).await;
    let opened = record(
        &store,
        &[chat("$open", CARLOS, "!request open \"WSIS+20\" to GNSO")],
        "2026-11-25T10:00:00Z",
    )
    .await;
    handle(&mut handler, &store, &opened, "2026-11-25T10:00:00Z").await;
    let ack = record(
        &store,
        &[chat("$ack", ANA, "!ack R-1")],
        "2026-11-25T11:00:00Z",
    )
    .await;
    // The database goes away between recording the input and committing its decision.
    store.close().await;
    let failed = handler
        .handle_items(&store, &ack, "2026-11-25T11:00:00Z".parse().expect("time"))
        .await;
    assert!(
        failed.is_err(),
        "the commit cannot succeed on a closed pool"
    );
    // Back again: the acknowledgement was never committed, so it is still to be made, and it
    // is made once.
    let store = Store::connect(&url, 1).await.expect("reconnect");
    let pending = store.pending_inbox(10).await.expect("pending");
    assert_eq!(pending.len(), 1);
    let outbox = handle(&mut handler, &store, &pending, "2026-11-25T11:00:05Z").await;
    let reply: rapporteur::handling::ReplyPayload =
        serde_json::from_str(&outbox[0].payload).expect("payload");
    assert!(
        reply.plain.starts_with("Recorded: GNSO acknowledges R-1"),
        "{}",
        reply.plain
    );
}
