//! The configuration files as written, with the position of every value kept so that problems
//! can be reported at file:line:column.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawMainConfig {
    #[serde(default)]
    pub bot: RawBotSection,
    #[serde(default)]
    pub database: RawDatabaseSection,
    pub matrix: Option<Spanned<RawMatrixSection>>,
    pub mail: Option<Spanned<RawMailSection>>,
    pub limits: Option<Spanned<RawLimitsSection>>,
    #[serde(default)]
    pub http: RawHttpSection,
    #[serde(default)]
    pub groups: Vec<Spanned<RawGroupEntry>>,
}

/// `[http]`: see `config/example.toml`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawHttpSection {
    pub listen: Option<Spanned<String>>,
}

/// `[limits]`: see `config/example.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimitsSection {
    pub window_minutes: Option<Spanned<u32>>,
    pub answers_per_sender: Option<Spanned<u32>>,
    pub mails_per_address: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawBotSection {
    pub data_dir: Option<Spanned<String>>,
    pub default_time_zone: Option<Spanned<String>>,
    pub command_prefix: Option<Spanned<String>>,
    pub task_failure_limit_seconds: Option<Spanned<u64>>,
    pub record_base_url: Option<Spanned<String>>,
    pub site_dir: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDatabaseSection {
    pub url: Option<Spanned<String>>,
    pub max_connections: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatrixSection {
    pub homeserver_url: Spanned<String>,
    pub user_id: Spanned<String>,
    pub device_display_name: Option<String>,
    pub password_file: Option<Spanned<String>>,
    pub access_token_file: Option<Spanned<String>>,
    pub store_passphrase_file: Option<Spanned<String>>,
    pub undecryptable_wait_minutes: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMailSection {
    pub address: Spanned<String>,
    pub display_name: Option<String>,
    pub message_id_domain: Option<Spanned<String>>,
    pub size_limit_bytes: Option<Spanned<u64>>,
    pub trusted_authserv_id: Option<Spanned<String>>,
    pub receiving_host: Option<Spanned<String>>,
    #[serde(default)]
    pub list_server_hosts: Vec<Spanned<String>>,
    pub list_author_header: Option<Spanned<String>>,
    pub smtp: Option<Spanned<RawSmtpSection>>,
    pub imap: Option<Spanned<RawImapSection>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtpSection {
    pub host: Option<Spanned<String>>,
    pub port: Option<Spanned<u16>>,
    pub security: Option<Spanned<String>>,
    pub username: Option<String>,
    pub password_file: Option<Spanned<String>>,
    pub pool_size: Option<Spanned<u32>>,
    pub file_directory: Option<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
    pub allow_plain_on_network: Option<bool>,
    pub connect_timeout_seconds: Option<Spanned<u64>>,
    pub command_timeout_seconds: Option<Spanned<u64>>,
    pub data_timeout_seconds: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImapSection {
    pub host: Option<Spanned<String>>,
    pub port: Option<Spanned<u16>>,
    pub security: Option<Spanned<String>>,
    pub username: Spanned<String>,
    pub password_file: Option<Spanned<String>>,
    pub mailbox: Option<String>,
    pub idle: Option<bool>,
    pub poll_interval_seconds: Option<Spanned<u64>>,
    pub ca_file: Option<Spanned<String>>,
    pub allow_plain_on_network: Option<bool>,
    pub connect_timeout_seconds: Option<Spanned<u64>>,
    pub command_timeout_seconds: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroupEntry {
    pub id: Spanned<String>,
    /// Optional: a group may be served by its mailing list alone.
    pub room: Option<Spanned<String>>,
    pub mailing_list: Option<Spanned<String>>,
    pub list_id: Option<Spanned<String>>,
    pub group_file: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroupFile {
    pub group: RawGroupSection,
    #[serde(default)]
    pub organizations: Vec<Spanned<RawOrganization>>,
    #[serde(default)]
    pub people: Vec<Spanned<RawPerson>>,
    pub feedback: Option<RawFeedbackSection>,
    pub meetings: Option<RawMeetingsSection>,
    pub consensus: Option<RawConsensusSection>,
    #[serde(default)]
    pub surveys: Vec<Spanned<RawSurveyEntry>>,
    pub record: Option<RawRecordSection>,
}

/// The group file's `[record]` section: when progress reports are due.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecordSection {
    pub progress_report_days_before: Option<Spanned<u32>>,
    #[serde(default)]
    pub icann_meetings: Vec<Spanned<RawIcannMeeting>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIcannMeeting {
    pub date: Spanned<String>,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroupSection {
    pub short_name: Spanned<String>,
    pub name: String,
    pub time_zone: Option<Spanned<String>>,
    pub meeting_cadence: Option<String>,
    pub consensus_designations: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganization {
    pub short_name: Spanned<String>,
    pub name: String,
    pub seats: Spanned<u32>,
    pub contact: Option<Spanned<String>>,
    #[serde(default)]
    pub answerers: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPerson {
    /// Optional here so that a missing id is reported with a suggestion, in the same list as
    /// every other problem, rather than as a bare parse error that stops at the first person.
    pub id: Option<Spanned<String>>,
    pub name: Spanned<String>,
    #[serde(default)]
    pub matrix_ids: Vec<Spanned<String>>,
    #[serde(default)]
    pub emails: Vec<Spanned<String>>,
    pub organization: Option<Spanned<String>>,
    #[serde(default)]
    pub roles: Vec<Spanned<String>>,
}

/// The group file's `[feedback]` section; every key is optional and takes the value of
/// `FeedbackPolicy::default()` when absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeedbackSection {
    pub acknowledge_within_days: Option<Spanned<u32>>,
    pub respond_within_days: Option<Spanned<u32>>,
    pub reminder_days_before: Option<Vec<Spanned<u32>>>,
    pub overdue_reminder_every_days: Option<Spanned<u32>>,
    pub minimum_reminder_interval_hours: Option<Spanned<u32>>,
    pub escalate_after_days_overdue: Option<Spanned<u32>>,
    pub deadlines_end: Option<Spanned<String>>,
    pub answering: Option<Spanned<String>>,
}

/// The group file's `[meetings]` section; every key is optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeetingsSection {
    pub reminders: Option<Vec<Spanned<String>>>,
    pub default_duration: Option<Spanned<String>>,
    pub quorum_organizations: Option<Spanned<u32>>,
    #[serde(default)]
    pub recurring: Vec<Spanned<RawRecurringMeeting>>,
}

/// The `[consensus]` section: reminders before calls for consensus and polls close.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsensusSection {
    pub reminders: Option<Vec<Spanned<String>>>,
}

/// One `[[surveys]]` entry: a survey's name and the file with its questions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSurveyEntry {
    pub id: Spanned<String>,
    pub file: Spanned<String>,
}

/// One `[[meetings.recurring]]` schedule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecurringMeeting {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub rule: Spanned<String>,
    pub starting: Spanned<String>,
    pub until: Option<Spanned<String>>,
    pub duration: Option<Spanned<String>>,
    pub mode: Option<Spanned<String>>,
    pub location: Option<Spanned<String>>,
}
