//! rapporteur: record-keeping for cross-community coordination groups.
pub mod config;
pub mod core;
pub mod handling;
pub mod storage;
