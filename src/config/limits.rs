//! The `[limits]` section: how much the bot answers one mail sender and mails one address in a
//! window (`core::rate_limits`). Every key is optional and defaults to
//! `RateLimits::default()`.

use super::position::{ConfigProblem, SourceText};
use super::raw::RawLimitsSection;
use crate::core::rate_limits::RateLimits;
use jiff::SignedDuration;
use toml::Spanned;

/// The longest window: a week. Counting over longer would keep a sender silenced for longer
/// than anyone would understand.
const MOST_WINDOW_MINUTES: u32 = 7 * 24 * 60;

pub(super) fn load_limits_section(
    section: Option<&Spanned<RawLimitsSection>>,
    source: &SourceText,
    problems: &mut Vec<ConfigProblem>,
) -> RateLimits {
    let defaults = RateLimits::default();
    let Some(section) = section else {
        return defaults;
    };
    let section = section.get_ref();
    let mut at_least_one =
        |value: &Option<Spanned<u32>>, key: &str, default: u32, most: u32| match value {
            Some(spanned) if *spanned.get_ref() == 0 || *spanned.get_ref() > most => {
                problems.push(
                    source.problem_at(spanned.span(), format!("{key} must be from 1 to {most}")),
                );
                default
            }
            Some(spanned) => *spanned.get_ref(),
            None => default,
        };
    let default_minutes = u32::try_from(defaults.window.as_secs() / 60).unwrap_or(60);
    let window_minutes = at_least_one(
        &section.window_minutes,
        "window_minutes",
        default_minutes,
        MOST_WINDOW_MINUTES,
    );
    let answers_per_sender = at_least_one(
        &section.answers_per_sender,
        "answers_per_sender",
        defaults.answers_per_sender,
        1_000_000,
    );
    let mails_per_address = at_least_one(
        &section.mails_per_address,
        "mails_per_address",
        defaults.mails_per_address,
        1_000_000,
    );
    RateLimits {
        window: SignedDuration::from_mins(i64::from(window_minutes)),
        answers_per_sender,
        mails_per_address,
    }
}
