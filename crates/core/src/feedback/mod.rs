//! Feedback requests: a proposal goes back to every appointing organization, each acknowledges
//! it and responds by a deadline, and the bot reminds only those who still owe an answer.
//!
//! `model` holds what is known about a request, `plan` when its reminders and escalations fall
//! due, `commands` the chat and mail commands, `cycle` a reminder cycle (started by a chair or
//! by the clock), `timers` what happens when the durable clock fires, and `render` the texts.

pub mod answers;
pub mod commands;
pub mod cycle;
pub mod manage;
pub mod model;
pub mod plan;
pub mod render;
pub mod report;
pub mod reports;
pub mod response_times;
#[cfg(test)]
mod tests;
pub mod timers;
