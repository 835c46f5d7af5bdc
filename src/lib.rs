//! rapporteur: record-keeping for cross-community coordination groups, in a Matrix room and on a
//! mailing list. See ARCHITECTURE.md for the code map.

pub mod config;
pub mod core;
pub mod dispatcher;
pub mod handling;
pub mod latency;
pub mod mail;
pub mod matrix;
pub mod runtime;
pub mod storage;
