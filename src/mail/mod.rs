//! The mailing-list channel. `examine`, `trust`, `authored` and `html_text` are pure: they judge raw
//! mail and extract commands without any I/O, so the IMAP reader, `rapporteur ingest-mail`,
//! quarantine retries, the golden corpus and the fuzz target all share one judgement.

pub mod archive;
pub mod authored;
pub mod examine;
pub mod flowed;
pub mod group_choice;
pub mod html_text;
#[doc(hidden)]
pub mod html_tree;
pub mod identity;
pub mod imap;
pub mod imap_probe;
pub mod ingest;
pub mod operator;
pub mod outgoing;
pub mod smtp_pool;
pub mod thread;
pub mod timeouts;
pub mod tls;
pub mod trust;

pub use examine::{ExaminedMail, IgnoreReason, MailRules, Outcome, QuarantineReason, examine_mail};
pub use identity::{MailIdentity, MailIdentityError};
pub use trust::{ListAuthorHeader, ListTrust};

/// The channel name stored with mail's inbox and outbox rows.
pub const MAIL_CHANNEL: &str = crate::core::engine::Channel::Mail.name();
