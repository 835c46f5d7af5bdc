//! What the running bot tells its operator besides its log: how each channel is doing
//! (`health`, read by `/readyz`) and its metrics (`metrics`, read by `/metrics`), served by
//! `crate::web`.

pub mod health;
pub mod metrics;
pub mod systemd;
