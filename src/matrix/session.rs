//! Logging in once and staying the same device for life. The session (user, device, access
//! token) is kept in a file beside matrix-sdk's SQLite store, so a restart restores it instead of
//! logging in anew: Synapse deduplicates sends by transaction ID per device, so a new device on
//! every start would turn a replayed send into a second message, and it would also lose the
//! encryption keys that encrypted rooms depend on.

use super::MatrixError;
use crate::config::MatrixSettings;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::config::StoreConfig;
use matrix_sdk::cross_process_lock::CrossProcessLockConfig;
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::store::StateStoreDataKey;
use matrix_sdk::{Client, SessionMeta, SessionTokens, SqliteCryptoStore, SqliteStoreConfig};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Paths {
    store: PathBuf,
    session: PathBuf,
}

fn paths(data_dir: &Path) -> Paths {
    let folder = data_dir.join("matrix");
    Paths {
        store: folder.join("store"),
        session: folder.join("session.json"),
    }
}

async fn build_client(settings: &MatrixSettings, store: &Path) -> Result<Client, MatrixError> {
    let passphrase = settings
        .store_passphrase
        .as_ref()
        .map(|secret| secret.expose());
    // The low-memory profile (one connection per core, small page caches) suits a bot, which
    // reads little of its stores; it keeps the idle bot's resident memory small.
    let store_config = SqliteStoreConfig::with_low_memory_config(store).passphrase(passphrase);
    // Only the crypto store (the device's keys and sessions, which must survive restarts) is a
    // file. The state store (rooms, their state, members) is in memory: the homeserver has all
    // of it, and the first sync of each run asks for the full state again (`sync.rs`). On disk it
    // cost a write transaction per sync and 6 to 10 reads per event (the push-rule context the
    // SDK evaluates for every timeline event), each a hop to a blocking thread: measured for
    // issue 11, the largest part of the bot's CPU time per command after the crypto itself. The
    // event cache and media stores stay in memory too: the bot reads no timelines through the
    // SDK and fetches no media. Each process has its own data folder and so its own crypto
    // store (ARCHITECTURE.md, "One sender per group"), so the SDK's cross-process store locks
    // are not needed.
    remove_stores_kept_in_memory(store);
    let crypto_store = SqliteCryptoStore::open_with_config(&store_config)
        .await
        .map_err(|error| MatrixError::Client(error.to_string()))?;
    let stores = StoreConfig::new(CrossProcessLockConfig::SingleProcess).crypto_store(crypto_store);
    let client = Client::builder()
        .homeserver_url(settings.homeserver_url.as_str())
        .store_config(stores)
        .cross_process_store_config(CrossProcessLockConfig::SingleProcess)
        // A login response must not move the bot to another homeserver than the configured one.
        .respect_login_well_known(false)
        // A few quick retries inside the SDK; longer outages are retried by our own loops, which
        // keep their state in the database rather than in a stalled request.
        .request_config(
            RequestConfig::new()
                .timeout(Duration::from_secs(30))
                .retry_limit(3),
        )
        .build()
        .await
        .map_err(|error| MatrixError::Client(error.to_string()))?;
    // The SDK keeps its own sync token and returns an empty response when the homeserver repeats
    // it; our token lives in our database, committed with the events it covers, so the SDK's
    // copy is removed before the session is loaded (which is when the SDK reads it).
    client
        .state_store()
        .remove_kv_data(StateStoreDataKey::SyncToken)
        .await
        .map_err(|error| MatrixError::Client(error.to_string()))?;
    Ok(client)
}

/// The SDK's databases that earlier versions of the bot kept on disk and this one keeps in
/// memory. Removed at start: nothing reads them any more, and a stale state store would only
/// mislead someone looking into the data folder.
const STORES_KEPT_IN_MEMORY: [&str; 3] = [
    "matrix-sdk-state.sqlite3",
    "matrix-sdk-event-cache.sqlite3",
    "matrix-sdk-media.sqlite3",
];

fn remove_stores_kept_in_memory(store: &Path) {
    for name in STORES_KEPT_IN_MEMORY {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = store.join(format!("{name}{suffix}"));
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a store that is now kept in memory")
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "cannot remove a store that is now kept in memory")
                }
            }
        }
    }
}

fn new_device_id(user_id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(user_id.as_bytes());
    hasher.update(jiff::Timestamp::now().as_nanosecond().to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    format!(
        "RAPPORTEUR{}",
        hex::encode(hasher.finalize())[..10].to_ascii_uppercase()
    )
}

fn save_session(path: &Path, session: &MatrixSession) -> Result<(), MatrixError> {
    let text =
        serde_json::to_string_pretty(session).map_err(|e| MatrixError::Session(e.to_string()))?;
    let temporary = path.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .map_err(|e| MatrixError::Session(e.to_string()))?;
        file.write_all(text.as_bytes())
            .map_err(|e| MatrixError::Session(e.to_string()))?;
        file.sync_all()
            .map_err(|e| MatrixError::Session(e.to_string()))?;
    }
    std::fs::rename(&temporary, path).map_err(|e| MatrixError::Session(e.to_string()))?;
    Ok(())
}

fn load_session(path: &Path) -> Option<MatrixSession> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

async fn password_login(
    settings: &MatrixSettings,
    store: &Path,
    session_path: &Path,
    device_id: &str,
) -> Result<Client, MatrixError> {
    let Some(password) = &settings.password else {
        return Err(MatrixError::Login(
            "the access token was refused and no password is configured to log in again".into(),
        ));
    };
    let client = build_client(settings, store).await?;
    client
        .matrix_auth()
        .login_username(&settings.user_id, password.expose())
        .device_id(device_id)
        .initial_device_display_name(&settings.device_display_name)
        .send()
        .await
        .map_err(|error| MatrixError::Login(error.to_string()))?;
    let session = client
        .matrix_auth()
        .session()
        .ok_or_else(|| MatrixError::Login("no session after login".into()))?;
    save_session(session_path, &session)?;
    tracing::info!(device_id, "logged in to Matrix");
    Ok(client)
}

/// What `whoami` said about a restored session.
enum TokenCheck {
    Valid,
    /// The token expired but the device still exists: log in again as the same device.
    SoftLogout,
    /// The device was deleted: its keys are gone, start over with a new device and store.
    DeviceGone,
    Unreachable(String),
}

async fn check_token(client: &Client) -> TokenCheck {
    match client.whoami().await {
        Ok(_) => TokenCheck::Valid,
        Err(error) => match error.client_api_error_kind() {
            Some(ErrorKind::UnknownToken(data)) if data.soft_logout => TokenCheck::SoftLogout,
            Some(ErrorKind::UnknownToken(_)) => TokenCheck::DeviceGone,
            _ => TokenCheck::Unreachable(error.to_string()),
        },
    }
}

/// A logged-in client on the bot's one device, restoring the saved session when there is one.
pub async fn connect(settings: &MatrixSettings, data_dir: &Path) -> Result<Client, MatrixError> {
    let paths = paths(data_dir);
    crate::storage::make_private_folder(&paths.store)
        .map_err(|e| MatrixError::Session(e.to_string()))?;

    if let Some(token) = &settings.access_token {
        let device_id = whoami_device(settings, token.expose()).await?;
        let client = build_client(settings, &paths.store).await?;
        let session = MatrixSession {
            meta: SessionMeta {
                user_id: settings
                    .user_id
                    .as_str()
                    .try_into()
                    .map_err(|_| MatrixError::Login("invalid user id".into()))?,
                device_id: device_id.as_str().into(),
            },
            tokens: SessionTokens {
                access_token: token.expose().to_string(),
                refresh_token: None,
            },
        };
        client
            .restore_session(session)
            .await
            .map_err(|error| MatrixError::Login(error.to_string()))?;
        return Ok(client);
    }

    let Some(saved) = load_session(&paths.session) else {
        let device_id = new_device_id(&settings.user_id);
        return password_login(settings, &paths.store, &paths.session, &device_id).await;
    };
    let device_id = saved.meta.device_id.to_string();
    let client = build_client(settings, &paths.store).await?;
    client
        .restore_session(saved)
        .await
        .map_err(|error| MatrixError::Login(error.to_string()))?;
    loop {
        match check_token(&client).await {
            TokenCheck::Valid => return Ok(client),
            TokenCheck::SoftLogout => {
                drop(client);
                return password_login(settings, &paths.store, &paths.session, &device_id).await;
            }
            TokenCheck::DeviceGone => {
                drop(client);
                tracing::warn!(
                    device_id,
                    "the bot's device was deleted on the homeserver; starting a new device"
                );
                let _ = std::fs::remove_dir_all(&paths.store);
                crate::storage::make_private_folder(&paths.store)
                    .map_err(|e| MatrixError::Session(e.to_string()))?;
                let device_id = new_device_id(&settings.user_id);
                return password_login(settings, &paths.store, &paths.session, &device_id).await;
            }
            TokenCheck::Unreachable(reason) => {
                tracing::warn!(%reason, "homeserver unreachable while checking the session; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

async fn whoami_device(settings: &MatrixSettings, token: &str) -> Result<String, MatrixError> {
    let url = settings
        .homeserver_url
        .join("_matrix/client/v3/account/whoami")
        .map_err(|e| MatrixError::Login(e.to_string()))?;
    let response = matrix_sdk::reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| MatrixError::Login(format!("whoami: {e}")))?;
    let text = response
        .text()
        .await
        .map_err(|e| MatrixError::Login(format!("whoami: {e}")))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| MatrixError::Login(format!("whoami: {e}")))?;
    body.get("device_id")
        .and_then(|value| value.as_str())
        .map(str::to_string)
        .ok_or_else(|| MatrixError::Login("the access token was refused or has no device".into()))
}
