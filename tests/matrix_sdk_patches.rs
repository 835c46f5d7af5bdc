//! The patches rapporteur carries on matrix-sdk's crates (`vendor/README.md`), checked through
//! the crates' public API on a real SQLite crypto store, as the bot opens it.
//!
//! The account patch (matrix-rust-sdk issue #2448): a sync saves the Olm account only when its
//! one-time-key counts change something. Saves are counted by a trigger on the store's `kv`
//! table, where the account lives; the unpatched crate saves it on every sync, so the counts
//! below fail without the patch. That the bot still replenishes its one-time keys when the
//! server's count falls is checked through the keys-upload request the machine asks for.

use std::collections::BTreeMap;

use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::ruma::api::client::keys::upload_keys;
use matrix_sdk::ruma::api::client::sync::sync_events::DeviceLists;
use matrix_sdk::ruma::{OneTimeKeyAlgorithm, UInt, device_id, user_id};
use matrix_sdk_crypto::types::requests::AnyOutgoingRequest;
use matrix_sdk_crypto::{DecryptionSettings, EncryptionSyncChanges, OlmMachine, TrustRequirement};
use sqlx::{Connection, SqliteConnection};

struct Device {
    machine: OlmMachine,
    database: SqliteConnection,
    sync_number: u32,
}

impl Device {
    async fn open(folder: &std::path::Path) -> Device {
        let store = SqliteCryptoStore::open(folder, None)
            .await
            .expect("open the crypto store");
        let machine = OlmMachine::with_store(
            user_id!("@rapporteur:localhost"),
            device_id!("RAPPORTEUR"),
            store,
            None,
        )
        .await
        .expect("create the Olm machine");
        let database_path = folder.join("matrix-sdk-crypto.sqlite3");
        let mut database =
            SqliteConnection::connect(&format!("sqlite://{}", database_path.display()))
                .await
                .expect("open the crypto store's database beside the machine");
        for statement in [
            "CREATE TABLE account_saves (saved INTEGER NOT NULL)",
            "CREATE TRIGGER account_inserted AFTER INSERT ON kv WHEN NEW.key = 'account' \
             BEGIN INSERT INTO account_saves VALUES (1); END",
            "CREATE TRIGGER account_updated AFTER UPDATE ON kv WHEN NEW.key = 'account' \
             BEGIN INSERT INTO account_saves VALUES (1); END",
        ] {
            sqlx::query(statement)
                .execute(&mut database)
                .await
                .expect("count the account's saves");
        }
        Device {
            machine,
            database,
            sync_number: 0,
        }
    }

    async fn account_saves(&mut self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM account_saves")
            .fetch_one(&mut self.database)
            .await
            .expect("count the account's saves")
    }

    /// One sync response's worth of encryption changes: nothing but the key counts, as in
    /// most of the bot's syncs.
    async fn sync(&mut self, one_time_keys_on_server: u32) {
        self.sync_number += 1;
        let counts = BTreeMap::from([(
            OneTimeKeyAlgorithm::SignedCurve25519,
            UInt::from(one_time_keys_on_server),
        )]);
        let no_device_changes = DeviceLists::default();
        let unused_fallback_keys = [OneTimeKeyAlgorithm::SignedCurve25519];
        self.machine
            .receive_sync_changes(
                EncryptionSyncChanges {
                    to_device_events: Vec::new(),
                    changed_devices: &no_device_changes,
                    one_time_keys_counts: &counts,
                    unused_fallback_keys: Some(&unused_fallback_keys),
                    next_batch_token: Some(format!("s{}", self.sync_number)),
                },
                &DecryptionSettings {
                    sender_device_trust_requirement: TrustRequirement::Untrusted,
                },
            )
            .await
            .expect("process the sync's encryption changes");
    }

    /// The one-time keys the machine asks to upload, if it asks; the upload is then answered
    /// as the homeserver would, with the count it holds after it.
    async fn upload_keys(&mut self, held_before: u32) -> Option<usize> {
        let requests = self
            .machine
            .outgoing_requests()
            .await
            .expect("outgoing requests");
        for request in requests {
            if let AnyOutgoingRequest::KeysUpload(upload) = request.request() {
                let uploaded = upload.one_time_keys.len();
                let held_after = held_before + u32::try_from(uploaded).expect("a small count");
                let response = upload_keys::v3::Response::new(BTreeMap::from([(
                    OneTimeKeyAlgorithm::SignedCurve25519,
                    UInt::from(held_after),
                )]));
                self.machine
                    .mark_request_as_sent(request.request_id(), &response)
                    .await
                    .expect("mark the upload as sent");
                return Some(uploaded);
            }
        }
        None
    }
}

#[tokio::test]
async fn a_sync_saves_the_account_only_when_its_key_counts_change_something() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let mut device = Device::open(folder.path()).await;

    // The first upload publishes the device's keys; the server then holds them all.
    let first_upload = device
        .upload_keys(0)
        .await
        .expect("a new device uploads its keys");
    assert!(first_upload > 0, "a new device uploads one-time keys");
    let full = u32::try_from(first_upload).expect("a small count");
    device.sync(full).await;
    let uploaded_again = device.upload_keys(full).await.unwrap_or(0);
    assert_eq!(
        uploaded_again, 0,
        "nothing to upload while the server holds them all"
    );

    let before = device.account_saves().await;
    for _ in 0..5 {
        device.sync(full).await;
    }
    assert_eq!(
        device.account_saves().await - before,
        0,
        "five syncs with unchanged counts saved the account"
    );

    // Someone claimed keys: the count falls, the account changes and is saved, and the keys
    // that were claimed are made again for upload.
    device.sync(full - 7).await;
    let after_claim = device.account_saves().await;
    assert!(
        after_claim > before,
        "a changed count did not save the account"
    );
    let replenished = device
        .upload_keys(full - 7)
        .await
        .expect("keys are uploaded again after some were claimed");
    assert_eq!(replenished, 7, "the claimed keys are replaced, no more");

    // The upload's answer is itself a change; after it, syncs are quiet again.
    device.sync(full).await;
    let settled = device.account_saves().await;
    for _ in 0..5 {
        device.sync(full).await;
    }
    assert_eq!(device.account_saves().await - settled, 0);
}
