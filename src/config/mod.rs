//! Configuration: the main TOML file, the group files it names, environment overrides and
//! secrets. Loading either yields complete, validated [`Settings`] or every problem found, each at
//! a file:line:column, so `rapporteur check-config` and `rapporteur run` report the same list.

mod addresses;
mod feedback;
mod groups;
mod limits;
mod load;
mod mail;
mod meetings;
mod person_ids;
mod position;
mod raw;
mod secret;
mod surveys;

pub use addresses::{is_email_address, is_matrix_room, is_matrix_user_id};
pub use groups::load_group_file;
pub use load::{Environment, load_settings, process_environment};
pub use mail::{
    ImapSettings, MailSecurity, MailSettings, MailTimeouts, OutgoingMail, SmtpSettings,
    is_loopback_host,
};
pub use position::ConfigProblem;
pub use secret::{Secret, SecretError, SecretSource, resolve_secret};

use crate::core::directory::Group;
use std::path::PathBuf;
use url::Url;

/// The configuration file used when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "config/rapporteur.toml";

#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: PathBuf,
    pub data_dir: PathBuf,
    /// Where the public record's site is published (`[bot] site_dir`, default
    /// `<data_dir>/site`).
    pub site_dir: PathBuf,
    /// Where the HTTP server listens (`[http] listen`): the public record, `/healthz`,
    /// `/readyz` and `/metrics`; `None` runs no server.
    pub http_listen: Option<std::net::SocketAddr>,
    pub default_time_zone: String,
    pub command_prefix: String,
    pub database: DatabaseSettings,
    /// The Matrix channel; absent when the bot serves only mail.
    pub matrix: Option<MatrixSettings>,
    /// The mailing-list channel; absent when the bot serves only Matrix.
    pub mail: Option<MailSettings>,
    /// How much one mail sender is answered and one address mailed (`[limits]`).
    pub limits: crate::core::rate_limits::RateLimits,
    pub groups: Vec<GroupSettings>,
    /// How long a task of `run` may fail at every attempt before the bot stops so that its
    /// supervisor starts it afresh (see `supervision`).
    pub task_failure_limit: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `postgres://...`; may contain a password, so log it only through
    /// [`crate::storage::redact_database_url`].
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone)]
pub struct MatrixSettings {
    pub homeserver_url: Url,
    pub user_id: String,
    pub device_display_name: String,
    pub password: Option<Secret>,
    pub access_token: Option<Secret>,
    pub store_passphrase: Option<Secret>,
    /// How long an encrypted event whose key has not arrived is kept and retried before the
    /// bot gives up and tells its sender.
    pub undecryptable_wait: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct GroupSettings {
    pub id: String,
    /// A room ID (`!...`) or alias (`#...`); none for a group served by its list only.
    pub room: Option<String>,
    /// The list's posting address, in lower case.
    pub mailing_list: Option<String>,
    /// The List-Id the list writes into every post (without angle brackets).
    pub list_id: Option<String>,
    pub group_file: PathBuf,
    pub group: Group,
}

impl Settings {
    pub fn group(&self, id: &str) -> Option<&GroupSettings> {
        self.groups.iter().find(|group| group.id == id)
    }
}
