//! rapporteur: record-keeping for cross-community coordination groups, in a Matrix room and on a
//! mailing list. See ARCHITECTURE.md for the code map.

pub mod channels;
pub mod config;
/// The pure core lives in its own crate (`crates/core`); this name keeps `crate::core::…` paths.
pub use rapporteur_core as core;
pub mod delivery;
pub mod dispatcher;
pub mod doctor;
pub mod handling;
pub mod init;
pub mod latency;
pub mod logging;
pub mod mail;
pub mod matrix;
pub mod observe;
pub mod ownership;
pub mod record;
pub mod runtime;
pub mod storage;
pub mod supervision;
pub mod web;
