//! End-to-end over the real IMAP server: a mail over the bot's size limit is not downloaded. The
//! reader asks for `RFC822.SIZE` first and fetches only the headers of such a mail, which is
//! quarantined with its headers and its size; the mail after it is read and answered as usual.

mod support;

use support::mail::{MailScene, OutgoingTestMail, unique_message_id};
use support::matrix::bot_store;

#[tokio::test]
async fn a_mail_over_the_limit_is_quarantined_from_its_headers_and_the_reader_goes_on() {
    let Some(scene) = MailScene::started().await else {
        return;
    };
    // The scene's limit is 1 MiB; this mail is about 2 MB.
    let large_id = unique_message_id();
    let line = format!("{}\n", "x".repeat(76));
    let body = format!("!ping\n{}", line.repeat(2_000_000 / line.len()));
    let raw = OutgoingTestMail {
        from: &scene.chair_address,
        from_name: "Chair Person",
        to: &scene.mail.bot_address,
        subject: "a large attachment",
        body: &body,
        message_id: &large_id,
        in_reply_to: None,
        extra_headers: "",
    }
    .render();
    scene
        .servers
        .send_raw(&scene.chair_address, &scene.mail.bot_address, &raw)
        .await
        .expect("the relay accepts the large mail");
    let after = scene
        .send(&scene.chair_address, "after the large one", "!ping", None)
        .await;
    let reply = scene.only_reply(&scene.chair_address, &after).await;
    assert!(reply.text.contains("pong"), "{}", reply.text);

    let store = bot_store(&scene.scene.bot).await;
    let held = store.quarantined_mail(true, 10).await.expect("quarantine");
    let large = held
        .iter()
        .find(|row| row.external_id == large_id)
        .unwrap_or_else(|| panic!("the large mail is quarantined: {held:?}"));
    assert_eq!(large.reason, "too-large");
    assert!(large.size_bytes >= raw.len() as i64, "{large:?}");
    assert!(
        large.kept_bytes < 20_000,
        "only the headers were fetched and kept: {large:?}"
    );
    let (kept, _) = store
        .quarantined_raw_and_size(large.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&kept).contains(&large_id),
        "the headers are kept"
    );
    assert!(
        !String::from_utf8_lossy(&kept).contains("xxxxxxxx"),
        "the body is not"
    );
    store.close().await;
}
