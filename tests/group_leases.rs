//! Group leases between processes sharing a database, on PostgreSQL (advisory locks) and SQLite
//! (a file lock): one owner at a time, the other takes over when the owner's leases end, and
//! the taker settles the claims the owner left.

mod support;

use rapporteur::core::directory::Group;
use rapporteur::ownership::{OwnedGroups, Ownership, keep_leases, open_lease_connection};
use rapporteur::storage::{Claimant, NewOutboxItem, Store};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

fn claimant(node: &str) -> Claimant {
    Claimant {
        node: node.into(),
        instance: "1".into(),
    }
}

fn owned(ownership: &Ownership) -> Vec<String> {
    match ownership.owned() {
        OwnedGroups::Every => vec!["*".into()],
        OwnedGroups::Only(groups) => groups,
    }
}

/// One process's leases, as `run` keeps them; dropping the task ends them as a dying process
/// does (its connection or file closes).
struct LeaseProcess {
    ownership: Ownership,
    task: tokio::task::JoinHandle<()>,
    _shutdown: watch::Sender<bool>,
    _groups: watch::Sender<HashMap<String, Group>>,
}

fn start(store: &Store, url: &str, node: &str, groups: &[&str]) -> LeaseProcess {
    let group = rapporteur::core::directory::test_support::small_group();
    let (groups_sender, groups_receiver) = watch::channel(
        groups
            .iter()
            .map(|id| (id.to_string(), group.clone()))
            .collect::<HashMap<_, _>>(),
    );
    let (shutdown_sender, shutdown) = watch::channel(false);
    let ownership = Ownership::leased(claimant(node));
    let task = tokio::spawn(keep_leases(
        store.clone(),
        url.to_string(),
        groups_receiver,
        ownership.clone(),
        shutdown,
    ));
    LeaseProcess {
        ownership,
        task,
        _shutdown: shutdown_sender,
        _groups: groups_sender,
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one_owner_then_the_survivor(backend: support::Backend) {
    let (url, _guard) = match backend {
        support::Backend::Sqlite => {
            let (url, guard) = support::fresh_sqlite_url();
            (url, Some(guard))
        }
        support::Backend::Postgres => match support::fresh_postgres_url().await {
            Some(url) => (url, None),
            None => return,
        },
    };
    let store = Store::connect(&url, 5).await.unwrap();
    store.migrate().await.unwrap();
    let first = start(&store, &url, "node-a", &["g1", "g2"]);
    wait_until(
        "the first process owns its groups",
        Duration::from_secs(10),
        || owned(&first.ownership) == ["", "g1", "g2"],
    )
    .await;
    let second = start(&store, &url, "node-b", &["g1", "g2"]);
    // Two lease rounds: the second process must still own nothing.
    tokio::time::sleep(rapporteur::ownership::LEASE_CHECK_INTERVAL * 2).await;
    assert!(owned(&second.ownership).is_empty(), "two owners at once");
    assert_eq!(owned(&first.ownership), ["", "g1", "g2"]);

    // The first leaves a mail claimed mid-attempt, then dies.
    let stored = store
        .enqueue(
            &[NewOutboxItem {
                idempotency_key: "k".into(),
                channel: "mail".into(),
                destination: "a@example.org".into(),
                payload: "{}".into(),
                about: None,
            }],
            0,
        )
        .await
        .unwrap();
    store
        .claim_outbox_item(stored[0].id, first.ownership.claimant(), 1)
        .await
        .unwrap();
    let version = second.ownership.version();
    first.task.abort();
    let _ = first.task.await;
    wait_until(
        "the second process takes over",
        rapporteur::ownership::LEASE_CHECK_INTERVAL * 3,
        || owned(&second.ownership) == ["", "g1", "g2"],
    )
    .await;
    assert_ne!(
        second.ownership.version(),
        version,
        "the handler must read the state again"
    );
    assert_eq!(
        store.outbox_counts().await.unwrap(),
        vec![("uncertain".to_string(), 1)],
        "the mail the first process may have sent is held"
    );
    second.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_owner_at_a_time_and_the_survivor_takes_over_sqlite() {
    one_owner_then_the_survivor(support::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_owner_at_a_time_and_the_survivor_takes_over_postgres() {
    one_owner_then_the_survivor(support::Backend::Postgres).await;
}

/// Groups are leased one by one on PostgreSQL: two processes with different configurations
/// share a database and each serves its own groups (the spread over several machines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_with_different_groups_each_own_theirs_postgres() {
    let Some(url) = support::fresh_postgres_url().await else {
        return;
    };
    let store = Store::connect(&url, 5).await.unwrap();
    store.migrate().await.unwrap();
    let first = start(&store, &url, "node-a", &["g1"]);
    let second = start(&store, &url, "node-b", &["g2", "g3"]);
    wait_until("each owns its groups", Duration::from_secs(15), || {
        let a = owned(&first.ownership);
        let b = owned(&second.ownership);
        // The rows of no group go to whichever came first.
        a.contains(&"g1".to_string())
            && b.contains(&"g2".to_string())
            && b.contains(&"g3".to_string())
            && (a.contains(&String::new()) != b.contains(&String::new()))
    })
    .await;
    first.task.abort();
    second.task.abort();
}

/// A machine that vanishes without closing its connection loses its locks once the server's
/// keepalive probes go unanswered, not after the system default of two hours.
#[tokio::test]
async fn the_lease_session_asks_the_server_to_probe_a_quiet_client_postgres() {
    let Some(url) = support::fresh_postgres_url().await else {
        return;
    };
    let mut connection = open_lease_connection(&url).await.expect("lease connection");
    for (setting, expected) in [
        ("tcp_keepalives_idle", "5"),
        ("tcp_keepalives_interval", "5"),
        ("tcp_keepalives_count", "3"),
    ] {
        let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT current_setting('{setting}')"
        )))
        .fetch_one(&mut connection)
        .await
        .unwrap();
        assert_eq!(value, expected, "{setting}");
    }
}
