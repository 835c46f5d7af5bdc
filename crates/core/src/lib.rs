//! The pure core: parsing, identity, permissions and every rule. Inputs and the current time go
//! in, effects come out as data. Nothing in this module performs I/O or imports an async runtime,
//! a database driver, a Matrix client or a mail library.

pub mod audience;
pub mod catalog;
pub mod commands;
pub mod consensus;
pub mod dates;
pub mod directory;
pub mod effects;
pub mod email_address;
pub mod engine;
pub mod feedback;
pub mod meetings;
pub mod rate_limits;
pub mod record;
pub mod reply;
pub mod several;
pub mod state;
pub mod surveys;
pub mod time_display;
pub mod tokenize;
