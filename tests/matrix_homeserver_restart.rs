//! An outage of the homeserver: replies that cannot be delivered wait in the outbox and are sent
//! once it is back; syncing resumes where it stopped. The homeserver is really stopped and
//! started again with the project's script, so this test runs only where that script's stack is
//! used (its own test binary, so no other test runs while the homeserver is down).

mod support;

use rapporteur::storage::NewInboxItem;
use std::time::{Duration, Instant};
use support::matrix::{ChairRoom, bot_store, homeserver};
use support::stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_wait_out_a_homeserver_outage_and_are_sent_once() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    if std::env::var("RAPPORTEUR_STACK_DIR").is_err() {
        support::unavailable::<()>(
            "the stack script's homeserver",
            "RAPPORTEUR_STACK_DIR is not set",
        );
        return;
    }
    let ChairRoom {
        chair_user,
        chair,
        room,
        room_id,
        bot,
        ..
    } = ChairRoom::started(&homeserver).await;
    let before = chair.send(&room, "!whoami").await;
    chair
        .wait_for_reply(&room_id, &before, Duration::from_secs(30))
        .await;

    stack(&["stop-service", "synapse"]);
    // While the homeserver is down, a command is recorded as if it had just been synced: the bot
    // handles it and its reply cannot be delivered.
    let store = bot_store(&bot).await;
    let pending_command = format!("$outage-{}", jiff::Timestamp::now().as_millisecond());
    store
        .record_inbound(
            &[NewInboxItem {
                channel: "matrix".into(),
                external_id: pending_command.clone(),
                group_id: "test-ccg".into(),
                conversation: room_id.to_string(),
                sender: chair_user.user_id.clone(),
                body: "!roster".into(),
                origin_ms: jiff::Timestamp::now().as_millisecond(),
            }],
            None,
            jiff::Timestamp::now().as_millisecond(),
        )
        .await
        .expect("record");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let failed_attempts: Option<(i64,)> =
            sqlx::query_as("SELECT attempts FROM outbox WHERE state = 'pending' AND attempts > 0")
                .fetch_optional(store.pool())
                .await
                .expect("query");
        if failed_attempts.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bot never tried to deliver during the outage"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    store.close().await;
    stack(&["start-service", "synapse"]);

    chair
        .wait_for_reply(&room_id, &pending_command, Duration::from_secs(90))
        .await;
    let after = chair.send(&room, "!ping").await;
    chair
        .wait_for_reply(&room_id, &after, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for event in [&before, &pending_command, &after] {
        assert_eq!(
            chair.replies_to(&room_id, event).len(),
            1,
            "replies to {event}"
        );
    }
    let log = bot.log();
    assert!(log.contains("delivery failed; will retry"), "{log}");
    assert!(log.contains("Matrix sync failed; retrying"), "{log}");
}
