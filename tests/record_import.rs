//! `rapporteur import-mbox`, as an operator runs it, on SQLite and PostgreSQL: an mbox with
//! `>From ` quoting, a message without a Message-ID and an entry that is no message is imported
//! once, however often it is run; an import killed with SIGKILL in the middle of a large mbox
//! and run again ends with each message exactly once; a Maildir is imported too.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn write_config(folder: &Path, database_url: Option<&str>) -> PathBuf {
    std::fs::write(
        folder.join("group.toml"),
        "[group]\nshort_name = \"G\"\nname = \"Group\"\ntime_zone = \"UTC\"\n\
         consensus_designations = [\"Consensus\"]\n",
    )
    .expect("write group");
    let database = database_url
        .map(|url| {
            format!(
                "[database]\nurl = {}\n\n",
                serde_json::to_string(url).unwrap()
            )
        })
        .unwrap_or_default();
    let config = folder.join("rapporteur.toml");
    std::fs::write(
        &config,
        format!(
            "[bot]\ndata_dir = \"data\"\n\n{database}[matrix]\nhomeserver_url = \"http://127.0.0.1:9\"\n\
             user_id = \"@bot:localhost\"\n\n[[groups]]\nid = \"g\"\nroom = \"#g:localhost\"\n\
             group_file = \"group.toml\"\n"
        ),
    )
    .expect("write config");
    config
}

fn command(config: &Path, arguments: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rapporteur"));
    command
        .arg("--config")
        .arg(config)
        .args(arguments)
        .env("RAPPORTEUR_MATRIX_PASSWORD", "not-a-real-password")
        .env("RAPPORTEUR_LOG", "warn")
        .env_remove("RAPPORTEUR_DATABASE_URL")
        .env_remove("RAPPORTEUR_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run(config: &Path, arguments: &[&str]) -> Output {
    command(config, arguments).output().expect("run the binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `count` list messages in mbox form, every tenth answering the one before.
fn mbox(count: usize) -> String {
    let mut out = String::new();
    for index in 0..count {
        let reply = if index % 10 == 9 {
            format!("In-Reply-To: <m{}@example.org>\n", index - 1)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "From sender{index}@example.org Mon Dec  7 10:00:00 2026\n\
             From: Sender {index} <sender{index}@example.org>\nSubject: Message {index}\n\
             Message-ID: <m{index}@example.org>\n{reply}Date: Mon, 7 Dec 2026 10:00:00 +0000\n\n\
             Body of message {index}, with some words to read.\n>From the archive, quoted.\n\n"
        ));
    }
    out
}

/// The database URL for the backend (`None`: the default SQLite file in the data folder), or
/// `None` when PostgreSQL is not there (the test then skips, or fails when servers are required).
async fn database_url(backend: support::Backend) -> Option<(Option<String>, ())> {
    match backend {
        support::Backend::Sqlite => Some((None, ())),
        support::Backend::Postgres => {
            let url = support::fresh_postgres_url().await?;
            Some((Some(url), ()))
        }
    }
}

async fn archived(config_folder: &Path, database: Option<&str>) -> Vec<String> {
    archived_so_far(config_folder, database)
        .await
        .expect("read the archive")
}

/// The archive's Message-IDs, or an error while the importer has not created its tables yet.
async fn archived_so_far(
    config_folder: &Path,
    database: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    let url = database.map(String::from).unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            config_folder.join("data/rapporteur.db").display()
        )
    });
    let Ok(store) = rapporteur::storage::Store::connect(&url, 1).await else {
        return Err(sqlx::Error::PoolClosed);
    };
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT message_id FROM list_archive ORDER BY message_id")
            .fetch_all(store.pool())
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

async fn an_mbox_is_imported_once(backend: support::Backend) {
    let Some((database, _guard)) = database_url(backend).await else {
        return;
    };
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), database.as_deref());
    let path = folder.path().join("archive.mbox");
    let mut contents = mbox(3);
    // A message without a Message-ID gets a stable derived one; `>From ` quoting is undone.
    contents.push_str(
        "From nobody Mon Dec  7 11:00:00 2026\nFrom: Old Timer <old@example.org>\n\
         Subject: From the old days\n\n>From here on, history.\n\n",
    );
    std::fs::write(&path, &contents).unwrap();
    let first = run(
        &config,
        &["import-mbox", path.to_str().unwrap(), "--group", "g"],
    );
    assert!(first.status.success(), "{first:?}");
    assert!(
        text(&first.stdout).contains("imported 4 messages (4 new)"),
        "{}",
        text(&first.stdout)
    );
    let again = run(
        &config,
        &["import-mbox", path.to_str().unwrap(), "--group", "g"],
    );
    assert!(
        text(&again.stdout).contains("(0 new"),
        "{}",
        text(&again.stdout)
    );
    let ids = archived(folder.path(), database.as_deref()).await;
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(ids.iter().any(|id| id.ends_with("@derived.invalid>")));
    // The running bot publishes what was imported: the group's publication timer is armed.
    let url = database.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            folder.path().join("data/rapporteur.db").display()
        )
    });
    let store = rapporteur::storage::Store::connect(&url, 1).await.unwrap();
    let timers = store.timers("g").await.unwrap();
    store.close().await;
    assert!(
        timers
            .iter()
            .any(|timer| timer.key == "record-publish" && timer.state == "pending"),
        "{timers:?}"
    );

    // Refusals say what is wrong.
    let no_group = run(
        &config,
        &["import-mbox", path.to_str().unwrap(), "--group", "nope"],
    );
    assert_eq!(no_group.status.code(), Some(2));
    assert!(text(&no_group.stderr).contains("no group \"nope\""));
    let missing = run(
        &config,
        &["import-mbox", "/nonexistent.mbox", "--group", "g"],
    );
    assert!(text(&missing.stderr).contains("does not exist"));

    // Published, the archive shows the message whose `From ` line was quoted, unquoted.
    let published = run(
        &config,
        &[
            "publish",
            "--out",
            folder.path().join("site").to_str().unwrap(),
        ],
    );
    assert!(published.status.success(), "{published:?}");
    let list = std::fs::read_to_string(folder.path().join("site/g/list/index.html")).unwrap();
    assert!(list.contains("4 messages"), "{list}");
}

async fn a_killed_import_resumes_and_keeps_each_message_once(backend: support::Backend) {
    let Some((database, _guard)) = database_url(backend).await else {
        return;
    };
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), database.as_deref());
    let path = folder.path().join("big.mbox");
    const COUNT: usize = 20_000;
    std::fs::write(&path, mbox(COUNT)).unwrap();
    let mut child = command(
        &config,
        &["import-mbox", path.to_str().unwrap(), "--group", "g"],
    )
    .spawn()
    .expect("start the import");
    // Killed once some batches are in, well before the end.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = archived_so_far(folder.path(), database.as_deref())
            .await
            .map_or(0, |ids| ids.len());
        if done >= 1_000 {
            break;
        }
        assert!(Instant::now() < deadline, "the import made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let partial = archived(folder.path(), database.as_deref()).await.len();
    assert!(partial < COUNT, "killed in the middle: {partial}");
    let resumed = run(
        &config,
        &["import-mbox", path.to_str().unwrap(), "--group", "g"],
    );
    assert!(resumed.status.success(), "{resumed:?}");
    assert!(
        text(&resumed.stdout).contains("resumed at"),
        "{}",
        text(&resumed.stdout)
    );
    let ids = archived(folder.path(), database.as_deref()).await;
    assert_eq!(ids.len(), COUNT, "each message once");
}

#[tokio::test]
async fn an_mbox_is_imported_once_on_sqlite() {
    an_mbox_is_imported_once(support::Backend::Sqlite).await;
}

#[tokio::test]
async fn an_mbox_is_imported_once_on_postgres() {
    an_mbox_is_imported_once(support::Backend::Postgres).await;
}

#[tokio::test]
async fn a_killed_import_resumes_on_sqlite() {
    a_killed_import_resumes_and_keeps_each_message_once(support::Backend::Sqlite).await;
}

#[tokio::test]
async fn a_killed_import_resumes_on_postgres() {
    a_killed_import_resumes_and_keeps_each_message_once(support::Backend::Postgres).await;
}

#[tokio::test]
async fn a_maildir_is_imported() {
    let folder = tempfile::tempdir().expect("temp dir");
    let config = write_config(folder.path(), None);
    let maildir = folder.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for index in 0..3 {
        std::fs::write(
            maildir.join(if index == 2 { "new" } else { "cur" }).join(format!("17000000{index}.M1P1.host:2,S")),
            format!("From: A <a@example.org>\nSubject: M{index}\nMessage-ID: <d{index}@example.org>\n\nText {index}\n"),
        )
        .unwrap();
    }
    let imported = run(
        &config,
        &["import-mbox", maildir.to_str().unwrap(), "--group", "g"],
    );
    assert!(imported.status.success(), "{imported:?}");
    assert!(
        text(&imported.stdout).contains("imported 3 messages (3 new)"),
        "{}",
        text(&imported.stdout)
    );
    assert_eq!(archived(folder.path(), None).await.len(), 3);
}
