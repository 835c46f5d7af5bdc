//! Reloading the group files while the bot runs: `rapporteur reload` (SIGHUP) takes a valid file
//! at once, and a broken one is refused twice over: by the command before it signals, and by the
//! bot itself, which logs every problem and keeps answering with the files it had.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::matrix::{ChairRoom, homeserver};

fn reload(config: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(config)
        .arg("reload")
        .output()
        .expect("run rapporteur reload")
}

/// The body of the bot's reply to `!ping`, asked again until it contains `expected` (a reload
/// is taken between two batches, so the first ping after it may still see the old files).
async fn ping_until(scene: &ChairRoom, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let event = scene.chair.send(&scene.room, "!ping").await;
        let reply = scene
            .chair
            .wait_for_reply(&scene.room_id, &event, Duration::from_secs(30))
            .await;
        let body = reply.json["content"]["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if body.contains(expected) || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_group_file_is_taken_on_reload_and_a_broken_one_is_refused() {
    let Some(homeserver) = homeserver().await else {
        return;
    };
    let scene = ChairRoom::started(&homeserver).await;
    assert!(ping_until(&scene, "TEST-CCG").await.contains("TEST-CCG"));

    let group_path = scene.bot.folder.path().join("group.toml");
    let original = std::fs::read_to_string(&group_path).expect("group file");
    // Renamed, and an ICANN meeting added to the record's dates.
    let renamed = original.replace("short_name = \"TEST-CCG\"", "short_name = \"RENAMED-CCG\"");
    let with_meeting = renamed.replacen(
        "\n[[organizations]]",
        "\n[record]\nicann_meetings = [{ date = \"2099-03-06\", name = \"ICANN 300\" }]\n\n[[organizations]]",
        1,
    );
    std::fs::write(&group_path, with_meeting).expect("write group file");
    let output = reload(&scene.bot.config_path);
    assert!(
        output.status.success(),
        "reload failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body = ping_until(&scene, "RENAMED-CCG").await;
    assert!(body.contains("RENAMED-CCG"), "not reloaded: {body}");
    // The added meeting's progress-report reminders are scheduled by the reload, not at the
    // next start (regression: they waited for a restart).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let store = support::matrix::bot_store(&scene.bot).await;
        let timers = store.timers("test-ccg").await.expect("timers");
        store.close().await;
        if timers
            .iter()
            .any(|timer| timer.key == "icann-2099-03-06:progress-report:7d")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no reminder scheduled: {timers:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A broken file: the command refuses to signal and shows the problem where it is.
    std::fs::write(
        &group_path,
        original.replace("roles = [\"member\", \"chair\"]", "roles = [\"king\"]"),
    )
    .expect("write group file");
    let output = reload(&scene.bot.config_path);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("group.toml:"), "{stderr}");
    assert!(stderr.contains("unknown role \"king\""), "{stderr}");
    assert!(stderr.contains("was not asked to reload"), "{stderr}");

    // Signalled anyway (a file changed between the check and the signal), the bot refuses it
    // itself, logs why, and keeps the files it had.
    let pid = scene.bot.pid().expect("the bot runs");
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !scene.bot.log().contains("the running one is kept") {
        assert!(
            Instant::now() < deadline,
            "the bot did not report the broken file:\n{}",
            scene.bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        scene.bot.log().contains("unknown role"),
        "{}",
        scene.bot.log()
    );
    let body = ping_until(&scene, "RENAMED-CCG").await;
    assert!(
        body.contains("RENAMED-CCG"),
        "the old files were not kept: {body}"
    );
}

#[test]
fn reload_without_a_running_bot_says_so() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = folder.path().join("rapporteur.toml");
    std::fs::write(
        folder.path().join("group.toml"),
        "[group]\nshort_name = \"T\"\nname = \"T\"\ntime_zone = \"UTC\"\n\
         consensus_designations = [\"Consensus\"]\n",
    )
    .expect("group");
    std::fs::write(
        &config,
        "[bot]\ndata_dir = \"data\"\n\n[matrix]\nhomeserver_url = \"http://127.0.0.1:9\"\n\
         user_id = \"@bot:localhost\"\n\n[[groups]]\nid = \"t\"\nroom = \"!r:localhost\"\n\
         group_file = \"group.toml\"\n",
    )
    .expect("config");
    let output = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(&config)
        .arg("reload")
        .env("RAPPORTEUR_MATRIX_PASSWORD", "x")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no running bot found"), "{stderr}");

    // A pid file left by a bot killed long ago, naming a process that is not rapporteur: it is
    // not signalled (SIGHUP would end it).
    let mut sleeper = Command::new("sleep").arg("30").spawn().expect("sleep");
    std::fs::create_dir_all(folder.path().join("data")).expect("data dir");
    std::fs::write(
        folder.path().join("data/rapporteur.pid"),
        sleeper.id().to_string(),
    )
    .expect("pid file");
    let output = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
        .arg("--config")
        .arg(&config)
        .arg("reload")
        .env("RAPPORTEUR_MATRIX_PASSWORD", "x")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not rapporteur"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        sleeper.try_wait().expect("status").is_none(),
        "the other process was left alone"
    );
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}
