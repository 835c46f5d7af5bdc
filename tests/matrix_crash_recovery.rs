//! Nothing lost, nothing doubled: the bot is killed with SIGKILL in the middle of a burst of
//! commands and restarted, and every command still gets exactly one reply; commands sent while
//! the bot is down, more than one sync timeline holds, are all answered after it comes back.

mod support;

use std::time::{Duration, Instant};
use support::matrix::{ChairRoom, TestClient, bot_store, homeserver};

/// Waits until every event has at least one reply, or the timeout passes.
async fn wait_for_all_replies(
    client: &TestClient,
    room_id: &matrix_sdk::ruma::OwnedRoomId,
    events: &[String],
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let missing = events
            .iter()
            .filter(|id| client.replies_to(room_id, id).is_empty())
            .count();
        if missing == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} commands got no reply within {timeout:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_exactly_one_reply_each(
    client: &TestClient,
    room_id: &matrix_sdk::ruma::OwnedRoomId,
    events: &[String],
) {
    let counts: Vec<usize> = events
        .iter()
        .map(|id| client.replies_to(room_id, id).len())
        .collect();
    assert!(
        counts.iter().all(|count| *count == 1),
        "replies per command: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_killed_mid_burst_answers_every_command_exactly_once() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let ChairRoom {
        bot_user,
        chair,
        room,
        room_id,
        mut bot,
        ..
    } = ChairRoom::started(&homeserver).await;

    // The burst is sent from a task while the test watches for the first reply and then kills
    // the bot, so the kill lands while commands are still arriving and being answered.
    let burst_room = room.clone();
    let burst = tokio::spawn(async move {
        let mut events = Vec::new();
        for index in 0..40 {
            let body = if index % 2 == 0 {
                "!whoami"
            } else {
                "!roster GNSO"
            };
            let event_id = burst_room
                .send(
                    matrix_sdk::ruma::events::room::message::RoomMessageEventContent::text_plain(
                        body,
                    ),
                )
                .await
                .expect("send")
                .response
                .event_id
                .to_string();
            events.push(event_id);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        events
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replies = chair
            .events_in(&room_id)
            .iter()
            .filter(|event| {
                event.json["sender"] == bot_user.user_id.as_str()
                    && event.json["type"] == "m.room.message"
            })
            .count();
        if replies >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "no reply before the kill");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bot.kill();
    let events = burst.await.expect("burst task");
    let answered_before_restart = events
        .iter()
        .filter(|id| !chair.replies_to(&room_id, id).is_empty())
        .count();
    assert!(
        answered_before_restart > 0 && answered_before_restart < events.len(),
        "the kill must land mid-burst for this test to mean anything ({answered_before_restart} answered)"
    );

    bot.start();
    wait_for_all_replies(&chair, &room_id, &events, Duration::from_secs(60)).await;
    // Time for any duplicate to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_exactly_one_reply_each(&chair, &room_id, &events);
    eprintln!(
        "answered before the kill: {answered_before_restart} of {}",
        events.len()
    );

    // The narrowest window: a crash after the homeserver accepted a reply but before the outbox
    // recorded it as sent. Reproduce it exactly by marking every reply unsent again; the restarted
    // bot resends them all with the same transaction IDs, and the homeserver must recognise them.
    bot.kill();
    let store = bot_store(&bot).await;
    let reset = sqlx::query("UPDATE outbox SET state = 'pending', next_attempt_ms = 0")
        .execute(store.pool())
        .await
        .expect("reset the outbox");
    assert!(reset.rows_affected() >= events.len() as u64);
    store.close().await;
    bot.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let store = bot_store(&bot).await;
        let counts = store.outbox_counts().await.expect("counts");
        store.close().await;
        if counts.iter().all(|(state, _)| state != "pending") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the resends did not finish: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_exactly_one_reply_each(&chair, &room_id, &events);
    // Three starts, one device: the session was restored, not logged in anew.
    let devices = bot.devices_used();
    assert_eq!(devices.len(), 3, "{devices:?}");
    assert!(
        devices.iter().all(|device| device == &devices[0]),
        "{devices:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_sent_while_the_bot_is_down_are_all_answered_once() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let ChairRoom {
        chair,
        room,
        room_id,
        mut bot,
        ..
    } = ChairRoom::started(&homeserver).await;
    let first = chair.send(&room, "!ping").await;
    chair
        .wait_for_reply(&room_id, &first, Duration::from_secs(30))
        .await;
    bot.kill();

    // More events than the bot's sync timeline limit (100), so the next sync is `limited` and the
    // bot must page back over the gap; chat lines in between are not commands.
    let mut events = Vec::new();
    for index in 0..130 {
        if index % 10 == 5 {
            chair.send(&room, "just chatting").await;
        } else {
            events.push(chair.send(&room, "!whoami").await);
        }
    }
    bot.start();
    wait_for_all_replies(&chair, &room_id, &events, Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_exactly_one_reply_each(&chair, &room_id, &events);
    assert_eq!(
        chair.replies_to(&room_id, &first).len(),
        1,
        "the command before the downtime was not answered again"
    );
    let log = bot.log();
    assert!(
        log.contains("paged back over a gap"),
        "the gap was not paged back:\n{log}"
    );
}
