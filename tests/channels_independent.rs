//! The channels start, fail and retry on their own: with the homeserver down when the bot
//! starts, mail is read and answered at once, and the room is served once the homeserver is
//! back. The homeserver is really stopped with the project's script, so this is a test binary
//! of its own (no other test runs while it is down).

mod support;

use std::time::{Duration, Instant};
use support::mail::{MailScene, mail_servers};
use support::matrix::{ChairRoom, homeserver};
use support::stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_is_answered_while_the_homeserver_is_down_at_start() {
    let (Some(homeserver), Some(servers)) = (homeserver().await, mail_servers().await) else {
        return;
    };
    if std::env::var("RAPPORTEUR_STACK_DIR").is_err() {
        support::unavailable::<()>(
            "the stack script's homeserver",
            "RAPPORTEUR_STACK_DIR is not set",
        );
        return;
    }
    let mut scene = ChairRoom::prepare(&homeserver).await;
    let mail = scene.bot.enable_mail(&servers);
    let chair_address = support::mail::email_of(&scene.chair_user.user_id);

    stack(&["stop-service", "synapse"]);
    scene.bot.start();
    let scene = MailScene {
        servers,
        scene,
        mail,
        chair_address,
    };
    let result = std::panic::AssertUnwindSafe(async {
        let message_id = scene.send(&scene.chair_address, "!whoami", "", None).await;
        let reply = scene.only_reply(&scene.chair_address, &message_id).await;
        assert!(reply.text.contains("Chair Person"), "{}", reply.text);
        // Answered before the Matrix channel could connect: mail did not wait for it.
        let log = scene.scene.bot.log();
        assert!(
            !log.contains("connected to the homeserver user="),
            "the homeserver was down:\n{log}"
        );
    });
    let outcome = futures_util::FutureExt::catch_unwind(result).await;
    stack(&["start-service", "synapse"]);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }

    // Back: the bot logs in (its next try is up to a minute away), joins and answers in the
    // room. A ping is sent again every 20 s until one is answered.
    let deadline = Instant::now() + Duration::from_secs(180);
    let ping = loop {
        let event = scene.scene.chair.send(&scene.scene.room, "!ping").await;
        let found = tokio::time::timeout(
            Duration::from_secs(20),
            scene
                .scene
                .chair
                .wait_for_reply(&scene.scene.room_id, &event, Duration::from_secs(30)),
        )
        .await;
        match found {
            Ok(reply) => break reply,
            Err(_) if Instant::now() < deadline => continue,
            Err(_) => panic!("no answer in the room after the homeserver came back"),
        }
    };
    assert!(!ping.json.is_null());
}
