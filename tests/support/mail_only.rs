//! A bot that serves mail only (no `[matrix]` section): its config, its process and its log. The
//! group has a mailing list and no room, which is how a group served by its list alone is
//! configured.

use super::matrix::unique_name;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The one member of the test group; mail from this address is a member's.
pub const MEMBER_ADDRESS: &str = "mail.member@example.org";

pub struct MailOnlyBot {
    pub folder: tempfile::TempDir,
    pub config_path: PathBuf,
    pub bot_address: String,
    pub list_address: String,
    child: Option<Child>,
}

impl Drop for MailOnlyBot {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- bot log ---\n{}--- end of bot log ---", self.log());
        }
    }
}

impl MailOnlyBot {
    /// Writes the config: `mail_sections` is the text of `[mail.smtp]` and `[mail.imap]` (or a
    /// `file_directory`), given whole by each test.
    pub fn configure(mail_sections: &str) -> MailOnlyBot {
        let folder = tempfile::tempdir().expect("temp dir");
        let name = unique_name("mailbot");
        let bot_address = format!("{name}@localhost");
        let list_address = format!("{name}list@lists.localhost");
        let group = format!(
            "[group]\nshort_name = \"MAIL-CCG\"\nname = \"Mail Coordination Group\"\n\
             time_zone = \"Europe/Brussels\"\nconsensus_designations = [\"Consensus\"]\n\n[[organizations]]\nshort_name = \"GNSO\"\n\
             name = \"Generic Names Supporting Organization\"\nseats = 2\n\n[[people]]\n\
             id = \"mail-member\"\nname = \"Mail Member\"\nemails = [\"{MEMBER_ADDRESS}\"]\n\
             organization = \"GNSO\"\nroles = [\"member\", \"chair\"]\n"
        );
        std::fs::write(folder.path().join("group.toml"), group).expect("write group file");
        let config = format!(
            "[bot]\ndata_dir = \"data\"\ntask_failure_limit_seconds = 60\n\n\
             [[groups]]\nid = \"mail-ccg\"\nmailing_list = \"{list_address}\"\n\
             group_file = \"group.toml\"\n\n\
             [mail]\naddress = \"{bot_address}\"\nmessage_id_domain = \"rapporteur.localhost\"\n\n\
             {mail_sections}\n"
        );
        let config_path = folder.path().join("rapporteur.toml");
        std::fs::write(&config_path, config).expect("write config");
        MailOnlyBot {
            folder,
            config_path,
            bot_address,
            list_address,
            child: None,
        }
    }

    /// Keeps the bot's records in the database at `url` instead of the data folder's SQLite.
    pub fn use_database(&self, url: &str) {
        let config = std::fs::read_to_string(&self.config_path).expect("read config");
        let config = config.replacen(
            "[[groups]]",
            &format!("[database]\nurl = {}\n\n[[groups]]", quoted(url)),
            1,
        );
        std::fs::write(&self.config_path, config).expect("write config");
    }

    pub fn data_dir(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.folder.path().join("bot.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn start(&mut self) {
        self.start_with_environment(&[]);
    }

    /// As [`MailOnlyBot::start`], with these variables set for the bot.
    pub fn start_with_environment(&mut self, variables: &[(&str, &str)]) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_rapporteur"))
            .arg("--config")
            .arg(&self.config_path)
            .arg("run")
            .env("RAPPORTEUR_LOG", "info,rapporteur=debug")
            .env_remove("RAPPORTEUR_DATABASE_URL")
            .env_remove("RAPPORTEUR_DATA_DIR")
            .env_remove("RAPPORTEUR_HOMESERVER_URL")
            .env_remove("RAPPORTEUR_MATRIX_USER_ID")
            .env_remove("RAPPORTEUR_MATRIX_PASSWORD")
            .env_remove("RAPPORTEUR_MATRIX_PASSWORD_FILE")
            .env_remove("RAPPORTEUR_SMTP_HOST")
            .env_remove("RAPPORTEUR_SMTP_PORT")
            .env_remove("RAPPORTEUR_IMAP_HOST")
            .env_remove("RAPPORTEUR_IMAP_PORT")
            .env_remove("RAPPORTEUR_IMAP_PASSWORD")
            .env_remove("RAPPORTEUR_IMAP_PASSWORD_FILE")
            .env_remove("RAPPORTEUR_SMTP_PASSWORD")
            .env_remove("RAPPORTEUR_SMTP_PASSWORD_FILE")
            .envs(variables.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start the bot");
        self.child = Some(child);
    }

    /// Waits until the log contains `text`; fails the test after `timeout`, or at once if the
    /// bot exits first.
    pub async fn wait_for_log(&mut self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "the bot never logged {text:?} within {timeout:?}"
            );
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("the bot exited ({status}) before logging {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the process to exit by itself; `None` if it still runs after `timeout`.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut()?;
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A TOML string.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("string")
}

pub fn path_text(path: &Path) -> String {
    quoted(&path.display().to_string())
}
