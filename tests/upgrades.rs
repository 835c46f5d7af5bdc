//! Upgrades of the database, on SQLite and PostgreSQL: a database of every earlier schema
//! (made by running the migrations up to that point and writing representative rows at each
//! step, in that step's form) is migrated by the current version and its rows read back; a
//! database made by a newer version of the bot is refused, with a message that says so, before
//! anything touches it.

mod support;

use rapporteur::storage::{StorageError, Store};

on_both_backends!(
    a_database_of_a_newer_version_is_refused_and_left_as_it_is,
    |store: Store| async move {
        let known = Store::known_schema_version();
        assert!(known >= 13, "the migrations are embedded");
        assert_eq!(store.schema_version().await.unwrap(), Some(known));
        // What a newer version's migration leaves behind.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, 'a migration of a newer version', TRUE, $2, 0)",
        )
        .bind(known + 1)
        .bind(vec![0u8; 48])
        .execute(store.pool())
        .await
        .expect("record a newer migration");

        let refused = store
            .migrate()
            .await
            .expect_err("a newer schema is refused");
        assert!(
            matches!(refused, StorageError::NewerSchema { found, known: k } if found == known + 1 && k == known),
            "{refused:?}"
        );
        let said = refused.to_string();
        assert!(
            said.contains(&format!("schema version {}", known + 1))
                && said.contains("newer rapporteur")
                && said.contains("restore a backup"),
            "{said}"
        );
        assert_eq!(
            store.schema_version().await.unwrap(),
            Some(known + 1),
            "nothing was changed"
        );
    }
);

/// Representative rows of the tables a migration made, in that migration's form: written into
/// a database of that version, then carried forward by the later migrations as an upgrade
/// carries a real deployment's rows.
fn rows_made_by(version: i64) -> Vec<String> {
    let change = serde_json::to_string(&rapporteur::core::state::Change::RequestOpened {
        number: 1,
        title: "Budget".into(),
        kind: rapporteur::core::feedback::model::RequestKind::Feedback,
        organizations: vec!["GNSO".into()],
        acknowledge_by: "2026-12-10T00:00:00Z".parse().unwrap(),
        respond_by: "2026-12-20T00:00:00Z".parse().unwrap(),
        document: None,
        opened_by: "ana".into(),
        at: "2026-12-01T00:00:00Z".parse().unwrap(),
    })
    .unwrap()
    .replace('\'', "''");
    match version {
        1 => vec![
            "INSERT INTO inbox (channel, external_id, group_id, conversation, sender, body, origin_ms, received_ms, state, disposition, command, handled_ms) \
             VALUES ('matrix', '$handled', 'g', '!room:x', '@ana:x', '!ping', 1, 1, 'handled', 'replied', '!ping', 2)".into(),
            "INSERT INTO inbox (channel, external_id, group_id, conversation, sender, body, origin_ms, received_ms) \
             VALUES ('matrix', '$pending', 'g', '!room:x', '@ana:x', '!whoami', 3, 3)".into(),
            "INSERT INTO outbox (inbox_id, idempotency_key, channel, destination, payload, next_attempt_ms, created_ms) \
             VALUES ((SELECT id FROM inbox WHERE external_id = '$handled'), 'matrix:$handled:0', 'matrix', '!room:x', '{}', 2, 2)".into(),
            "INSERT INTO adapter_state (key, value, updated_ms) VALUES ('matrix.sync_token', 's1', 1)".into(),
            "INSERT INTO matrix_rooms (room_id, group_id, first_joined_ms) VALUES ('!room:x', 'g', 1)".into(),
        ],
        3 => vec![
            format!("INSERT INTO group_changes (group_id, inbox_id, change, created_ms) VALUES ('g', (SELECT id FROM inbox WHERE external_id = '$handled'), '{change}', 2)"),
            "INSERT INTO timers (group_id, timer_key, due_ms, timer, updated_ms) \
             VALUES ('g', 'R-1:follow-up', 4102444800000, '{\"timer\":\"request_follow_up\",\"number\":1}', 2)".into(),
        ],
        6 => vec![
            "INSERT INTO matrix_undecryptable (event_id, room_id, group_id, sender, event_json, origin_ms, first_seen_ms) \
             VALUES ('$secret', '!room:x', 'g', '@bea:x', '{}', 5, 5)".into(),
        ],
        9 => vec!["INSERT INTO survey_ballots (ballot_key, group_id, ballot) VALUES ('k1', 'g', '{}')".into()],
        12 => vec![
            "INSERT INTO record_chain (group_id, seq, record_key, content_hash, hash, link) \
             VALUES ('g', 1, 'requests/r-1', 'c', 'h', '{\"seq\":1}')".into(),
        ],
        13 => vec![
            "INSERT INTO list_archive (group_id, message_id, date_ms, message) \
             VALUES ('g', '<a@x>', 1, '{\"message_id\":\"<a@x>\",\"subject\":\"Hi\",\"author\":\"A\",\"date_ms\":1,\"parent\":null,\"passages\":[],\"attachments\":[]}')".into(),
        ],
        _ => Vec::new(),
    }
}

/// A database of schema `version`, with the rows of every migration up to it.
async fn database_of_version(store: &Store, version: i64) {
    for step in 1..=version {
        store.migrate_to(step).await.expect("migrate to a step");
        for statement in rows_made_by(step) {
            sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                .execute(store.pool())
                .await
                .unwrap_or_else(|error| panic!("schema {step}: {statement}: {error}"));
        }
        if step == 2 {
            sqlx::query(
                "INSERT INTO mail_quarantine (external_id, source, reason, raw, received_ms) \
                 VALUES ('<q@x>', 'imap', 'unparseable', $1, 1)",
            )
            .bind(b"not mail".to_vec())
            .execute(store.pool())
            .await
            .expect("a quarantined mail");
        }
    }
}

/// The current version reads back what each earlier schema held: the pending input, the
/// reply waiting to be sent (with its group filled in by migration 4), the state from the
/// change log, the timer, the quarantined mail, and what the later tables held.
async fn reads_back(store: &Store, version: i64) {
    let pending = store.pending_inbox(10).await.expect("the inbox");
    assert_eq!(
        pending
            .iter()
            .map(|item| item.external_id.as_str())
            .collect::<Vec<_>>(),
        ["$pending"],
        "schema {version}"
    );
    let outbox = store.outbox_counts().await.expect("the outbox");
    assert_eq!(outbox, vec![("pending".to_string(), 1)], "schema {version}");
    let group: Option<String> = sqlx::query_scalar(
        "SELECT group_id FROM outbox WHERE idempotency_key = 'matrix:$handled:0'",
    )
    .fetch_one(store.pool())
    .await
    .expect("the outbox's group");
    assert_eq!(
        group.as_deref(),
        Some("g"),
        "schema {version}: migration 4 fills it in"
    );
    let figures = store.health_figures(0).await.expect("figures");
    assert_eq!(
        figures.quarantined_mail,
        i64::from(version >= 2),
        "schema {version}"
    );
    if version >= 3 {
        let states = rapporteur::record::publish::states_from_store(store)
            .await
            .expect("the change log");
        assert!(states["g"].request(1).is_some(), "schema {version}");
        let timers = store.timers("g").await.expect("timers");
        assert_eq!(timers.len(), 1, "schema {version}");
    }
    if version >= 12 {
        assert_eq!(store.record_chain("g").await.unwrap().len(), 1);
    }
    if version >= 13 {
        assert_eq!(store.list_archive("g").await.unwrap().len(), 1);
    }
    assert_eq!(
        store.schema_version().await.unwrap(),
        Some(Store::known_schema_version())
    );
}

async fn every_earlier_schema_is_upgraded(backend: fn() -> support::Backend) {
    for version in 1..=Store::known_schema_version() {
        let Some((store, _guard)) = support::fresh_unmigrated_store(backend()).await else {
            return;
        };
        database_of_version(&store, version).await;
        assert_eq!(store.schema_version().await.unwrap(), Some(version));
        store.migrate().await.unwrap_or_else(|error| {
            panic!("the database of schema {version} does not migrate: {error}")
        });
        reads_back(&store, version).await;
        store.close().await;
    }
}

#[tokio::test]
async fn a_database_of_every_earlier_schema_opens_and_reads_back_on_sqlite() {
    every_earlier_schema_is_upgraded(|| support::Backend::Sqlite).await;
}

#[tokio::test]
async fn a_database_of_every_earlier_schema_opens_and_reads_back_on_postgres() {
    every_earlier_schema_is_upgraded(|| support::Backend::Postgres).await;
}
