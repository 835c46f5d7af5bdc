//! One sender per group: several `rapporteur run` processes may share one database (to spread
//! many groups over several machines, or during an overlapping restart), but each group is owned
//! by one process at a time, and only its owner decides the group's inputs, fires its timers and
//! delivers its outbox rows. Every process records inputs (the inbox is unique by channel and
//! external ID, so a message seen by two processes is stored once).
//!
//! Ownership is a lease that ends with the process:
//! - on PostgreSQL, a session-level advisory lock per group, held on a connection of its own
//!   (outside the pool). If the process dies, the server drops the connection and the lock with
//!   it; if the connection breaks while the process lives, the process stops acting for every
//!   group at once and takes its leases again on a new connection when it can.
//! - on SQLite, an exclusive lock (`flock`) on a file next to the database, for all groups at
//!   once: a SQLite database serves one machine, so one process owns everything and another one
//!   waits for the lock.
//!
//! A process that is not the owner tries again every [`LEASE_CHECK_INTERVAL`], so it takes over
//! within that time (plus a scan of the handler or dispatcher, two seconds) of the owner's death.
//! On taking groups over it first settles the claims the previous owner left on their outbox rows
//! (see `Store::settle_abandoned_claims`), then publishes the new set; the handler reads the
//! state of every group again from the change log before it decides anything under the new set.

use crate::core::directory::Group;
use crate::core::engine::Channel;
use crate::storage::{Claimant, GroupScope, StorageError, Store, UNGROUPED};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// How often a process checks its leases and tries to take the groups it does not own.
pub const LEASE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// How long one lease query may take before the lease connection is taken for broken.
const LEASE_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The file in the data folder that names the node (the data folder, and so the Matrix device).
const NODE_FILE: &str = "node-id";

/// The groups a process owns now, shared by its handler, clock and dispatchers.
#[derive(Debug, Clone)]
pub struct Ownership {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    claimant: Claimant,
    /// `None`: every group (a process alone with its database, in tests and tools).
    owned: RwLock<Option<BTreeSet<String>>>,
    /// Moves on at every change of `owned`, so the handler knows to read the state again.
    version: AtomicU64,
}

/// A snapshot of the owned groups, for one query.
#[derive(Debug, Clone)]
pub enum OwnedGroups {
    Every,
    Only(Vec<String>),
}

impl OwnedGroups {
    pub fn scope(&self) -> GroupScope<'_> {
        match self {
            OwnedGroups::Every => GroupScope::Every,
            OwnedGroups::Only(groups) => GroupScope::Only(groups),
        }
    }
}

impl Ownership {
    /// Owns nothing until [`keep_leases`] takes leases.
    pub fn leased(claimant: Claimant) -> Ownership {
        Ownership::with(claimant, Some(BTreeSet::new()))
    }

    /// Owns every group, without leases: for a process that is alone with its database by
    /// construction (tests, benchmarks, one-shot tools).
    pub fn sole(claimant: Claimant) -> Ownership {
        Ownership::with(claimant, None)
    }

    fn with(claimant: Claimant, owned: Option<BTreeSet<String>>) -> Ownership {
        Ownership {
            inner: Arc::new(Inner {
                claimant,
                owned: RwLock::new(owned),
                version: AtomicU64::new(0),
            }),
        }
    }

    pub fn claimant(&self) -> &Claimant {
        &self.inner.claimant
    }

    pub fn version(&self) -> u64 {
        self.inner.version.load(Ordering::SeqCst)
    }

    pub fn owned(&self) -> OwnedGroups {
        match &*self
            .inner
            .owned
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            None => OwnedGroups::Every,
            Some(groups) => OwnedGroups::Only(groups.iter().cloned().collect()),
        }
    }

    pub fn owns(&self, group_id: &str) -> bool {
        match &*self
            .inner
            .owned
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            None => true,
            Some(groups) => groups.contains(group_id),
        }
    }

    fn set(&self, groups: BTreeSet<String>) {
        let mut owned = self
            .inner
            .owned
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if owned.as_ref() != Some(&groups) {
            *owned = Some(groups);
            self.inner.version.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The claimant of this process: the node named in the data folder (made once, kept across
/// restarts, as the Matrix device is) and this run.
pub fn claimant_for(data_dir: &Path) -> std::io::Result<Claimant> {
    let path = data_dir.join(NODE_FILE);
    let node = match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
        _ => {
            crate::storage::make_private_folder(data_dir)?;
            let mut hasher = Sha256::new();
            hasher.update(data_dir.display().to_string());
            hasher.update(std::process::id().to_le_bytes());
            hasher.update(jiff::Timestamp::now().as_nanosecond().to_le_bytes());
            let node = format!("node-{}", &hex::encode(hasher.finalize())[..16]);
            std::fs::write(&path, &node)?;
            node
        }
    };
    Ok(Claimant {
        node,
        instance: format!(
            "{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        ),
    })
}

/// The PostgreSQL advisory-lock key of a group: 64 bits of a SHA-256 over a fixed prefix and the
/// group ID. Advisory locks are per database, so only processes sharing the database meet.
pub fn advisory_lock_key(group_id: &str) -> i64 {
    let mut hasher = Sha256::new();
    hasher.update(b"rapporteur group lease\0");
    hasher.update(group_id.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The lock file of a SQLite database: the database's path with `.owner` added, or `None` for
/// a database in memory (which no other process can open).
pub fn sqlite_lock_path(database_url: &str) -> Option<PathBuf> {
    let path = database_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(format!("{path}.owner")))
}

/// The channels where a resend from the same device is recognised as the same message (the
/// Matrix transaction ID is the idempotency key, deduplicated per device).
const RESENDABLE_CHANNELS: &[&str] = &[Channel::Matrix.name()];

/// How a process holds its leases.
enum Leases {
    Postgres {
        url: String,
        connection: Option<sqlx::AnyConnection>,
        held: BTreeSet<String>,
    },
    Sqlite {
        path: Option<PathBuf>,
        file: Option<std::fs::File>,
    },
}

impl Leases {
    /// Takes the leases it can among `wanted`; returns every group held now.
    async fn refresh(&mut self, wanted: &BTreeSet<String>) -> BTreeSet<String> {
        match self {
            Leases::Sqlite { path, file } => {
                let Some(path) = path else {
                    // A database in memory: no other process can open it.
                    return wanted.clone();
                };
                if file.is_none() {
                    *file = try_lock_file(path);
                }
                if file.is_some() {
                    wanted.clone()
                } else {
                    BTreeSet::new()
                }
            }
            Leases::Postgres {
                url,
                connection,
                held,
            } => {
                if let Some(open) = connection {
                    // The locks live as long as this session: if it broke, they are gone.
                    let alive = tokio::time::timeout(
                        LEASE_QUERY_TIMEOUT,
                        sqlx::query("SELECT 1").execute(&mut *open),
                    )
                    .await;
                    if !matches!(alive, Ok(Ok(_))) {
                        if !held.is_empty() {
                            tracing::error!(
                                groups = held.len(),
                                "the database session holding the group leases broke; acting for no group until they are taken again"
                            );
                        }
                        held.clear();
                        *connection = None;
                    }
                }
                if connection.is_none() {
                    match open_lease_connection(url).await {
                        Ok(open) => *connection = Some(open),
                        Err(error) => {
                            tracing::warn!(%error, "cannot open the lease connection; retrying");
                            return BTreeSet::new();
                        }
                    }
                }
                let Some(open) = connection else {
                    return BTreeSet::new();
                };
                for group in wanted.difference(&held.clone()) {
                    let taken = tokio::time::timeout(
                        LEASE_QUERY_TIMEOUT,
                        sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                            .bind(advisory_lock_key(group))
                            .fetch_one(&mut *open),
                    )
                    .await;
                    match taken {
                        Ok(Ok(true)) => {
                            held.insert(group.clone());
                        }
                        Ok(Ok(false)) => {}
                        _ => {
                            // The next round finds the connection broken and starts again.
                            break;
                        }
                    }
                }
                held.clone()
            }
        }
    }
}

/// Opens the session that holds a process's advisory locks. The server is told to probe the
/// client when the session is quiet (it never is for long: the process checks it every
/// [`LEASE_CHECK_INTERVAL`]), so a machine that vanishes without closing its connection (power
/// loss, a network partition) loses its locks after about 20 s instead of the operating
/// system's default of two hours. The process itself gives up its groups sooner: its own check
/// fails after [`LEASE_QUERY_TIMEOUT`].
pub async fn open_lease_connection(url: &str) -> Result<sqlx::AnyConnection, String> {
    let mut connection =
        tokio::time::timeout(LEASE_QUERY_TIMEOUT, sqlx::AnyConnection::connect(url))
            .await
            .map_err(|_| "connecting timed out".to_string())?
            .map_err(|error| error.to_string())?;
    for setting in [
        "SET tcp_keepalives_idle = 5",
        "SET tcp_keepalives_interval = 5",
        "SET tcp_keepalives_count = 3",
        "SET application_name = 'rapporteur group leases'",
    ] {
        if let Err(error) = sqlx::query(setting).execute(&mut connection).await {
            tracing::warn!(%error, setting, "cannot tune the lease connection");
        }
    }
    Ok(connection)
}

/// The lock file, locked by this process, or `None` when another process holds it.
fn try_lock_file(path: &Path) -> Option<std::fs::File> {
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
    {
        Ok(file) => file,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot open the lock file of the database");
            return None;
        }
    };
    match file.try_lock() {
        Ok(()) => Some(file),
        Err(std::fs::TryLockError::WouldBlock) => None,
        Err(std::fs::TryLockError::Error(error)) => {
            tracing::warn!(path = %path.display(), %error, "cannot lock the database's lock file");
            None
        }
    }
}

/// Keeps this process's leases until shutdown: tries to take the groups of the configuration
/// (and the rows of no group) every [`LEASE_CHECK_INTERVAL`], settles the claims of the groups
/// it takes over, and publishes the owned set in `ownership`.
pub async fn keep_leases(
    store: Store,
    database_url: String,
    groups: watch::Receiver<HashMap<String, Group>>,
    ownership: Ownership,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut leases = if database_url.starts_with("sqlite:") {
        Leases::Sqlite {
            path: sqlite_lock_path(&database_url),
            file: None,
        }
    } else {
        Leases::Postgres {
            url: database_url,
            connection: None,
            held: BTreeSet::new(),
        }
    };
    let mut published: BTreeSet<String> = BTreeSet::new();
    let mut waiting_logged = false;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let mut wanted: BTreeSet<String> = groups.borrow().keys().cloned().collect();
        wanted.insert(UNGROUPED.to_string());
        let held = leases.refresh(&wanted).await;
        // Groups lost (a broken lease session) stop at once; groups gained are published only
        // once the claims the previous owner left on them are settled.
        let kept: BTreeSet<String> = published.intersection(&held).cloned().collect();
        let gained: Vec<String> = held.difference(&published).cloned().collect();
        let mut next = kept;
        if !gained.is_empty() {
            match store
                .settle_abandoned_claims(
                    GroupScope::Only(&gained),
                    ownership.claimant(),
                    RESENDABLE_CHANNELS,
                )
                .await
            {
                Ok(settled) => {
                    log_settled(&settled);
                    // Held rows are named at every start and takeover until an operator acts.
                    if let Ok(held) = store
                        .uncertain_outbox_count(GroupScope::Only(&gained))
                        .await
                        && held > 0
                    {
                        tracing::warn!(
                            held,
                            "outbox items are held as uncertain (maybe delivered, maybe not): check and send them again by hand"
                        );
                    }
                    next.extend(gained.iter().cloned());
                    tracing::info!(
                        groups = ?gained.iter().filter(|group| !group.is_empty()).collect::<Vec<_>>(),
                        claimant = %ownership.claimant().name(),
                        "took over groups"
                    );
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot settle the claims of groups taken over; trying again");
                }
            }
        }
        if next.is_empty() && !waiting_logged {
            tracing::info!(
                "another process owns the groups of this database; waiting to take them over"
            );
            waiting_logged = true;
        }
        if next != published {
            ownership.set(next.clone());
            published = next;
        }
        tokio::select! {
            _ = tokio::time::sleep(LEASE_CHECK_INTERVAL) => {}
            _ = shutdown.changed() => {}
        }
    }
}

fn log_settled(settled: &[crate::storage::SettledClaim]) {
    for claim in settled {
        if claim.state == "uncertain" {
            tracing::warn!(
                outbox_id = claim.id,
                channel = %claim.channel,
                group = claim.group_id.as_deref().unwrap_or("-"),
                claimed_by = %claim.claimed_by,
                "an attempt left unfinished by another process may or may not have been delivered; held as uncertain for an operator, not resent"
            );
        } else {
            tracing::info!(
                outbox_id = claim.id,
                channel = %claim.channel,
                claimed_by = %claim.claimed_by,
                "an attempt left unfinished on this device is sent again with the same transaction ID"
            );
        }
    }
}

/// Errors of starting ownership.
#[derive(Debug, thiserror::Error)]
pub enum OwnershipError {
    #[error("cannot read or write the node file in the data folder {path}: {reason}")]
    NodeFile { path: String, reason: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The ownership of a `run` process, owning nothing until [`keep_leases`] runs.
pub fn for_process(data_dir: &Path) -> Result<Ownership, OwnershipError> {
    let claimant = claimant_for(data_dir).map_err(|error| OwnershipError::NodeFile {
        path: data_dir.display().to_string(),
        reason: error.kind().to_string(),
    })?;
    Ok(Ownership::leased(claimant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_keep_their_value_and_differ_per_group() {
        // Two versions of the bot on one database must meet on the same locks.
        assert_eq!(advisory_lock_key("cip-ccg"), advisory_lock_key("cip-ccg"));
        assert_ne!(advisory_lock_key("cip-ccg"), advisory_lock_key("test-ccg"));
        assert_ne!(advisory_lock_key(""), advisory_lock_key("cip-ccg"));
    }

    #[test]
    fn sqlite_lock_files_sit_next_to_the_database() {
        let cases = [
            (
                "sqlite://var/data/rapporteur.db",
                Some("var/data/rapporteur.db.owner"),
            ),
            ("sqlite:/srv/r.db?mode=rwc", Some("/srv/r.db.owner")),
            ("sqlite::memory:", None),
        ];
        for (url, expected) in cases {
            assert_eq!(sqlite_lock_path(url), expected.map(PathBuf::from), "{url}");
        }
    }

    #[test]
    fn a_second_lock_on_the_same_file_waits() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("db.owner");
        let first = try_lock_file(&path).expect("the first lock is taken");
        assert!(try_lock_file(&path).is_none(), "a second lock must wait");
        drop(first);
        assert!(try_lock_file(&path).is_some(), "freed when the holder ends");
    }
}
