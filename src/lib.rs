//! rapporteur: record-keeping for cross-community coordination groups.
pub mod config;
pub mod core;
