//! The log filter the bot uses when `RAPPORTEUR_LOG` does not set one.
//!
//! The Matrix SDK logs much at `info` that an operator cannot act on, so its crates are kept at
//! `warn`. One of its warnings is kept out as well: matrix-sdk 0.18 starts a room-key backup
//! upload after every sync whether or not a backup was ever set up, and without one its crypto
//! crate warns "Trying to backup room keys but no backup key was found" on every sync (no 0.18
//! setting stops the attempt, which does no I/O; see `docs/sdk-costs.md`). A warning on every
//! sync teaches operators to ignore warnings, so that module is kept to errors.

/// The default `tracing` filter of `rapporteur`.
pub const DEFAULT_LOG_FILTER: &str = "info,matrix_sdk=warn,matrix_sdk_crypto=warn,\
matrix_sdk_crypto::backups=error,matrix_sdk_base=warn,matrix_sdk::http_client=off";
