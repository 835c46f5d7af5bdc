//! When the public record is published: a few seconds after the last change to a group's
//! state, through the durable clock. Every decision that changes the state (moves) one timer
//! per group; when it fires, the core asks for a publication ([`Effect::Publish`]). A burst
//! of commands (a roll call, a meeting's minutes) is one publication, and a change committed
//! just before a crash is published after the restart, because its timer was committed with it.

use crate::effects::{Effect, Timer};
use crate::engine::Decision;
use crate::surveys::changes::is_ballot;
use jiff::{SignedDuration, Timestamp};

/// The key of a group's publication timer: one per group, moved by every change.
pub const PUBLICATION_TIMER_KEY: &str = "record-publish";

/// How long after the last change the record is published.
pub const PUBLICATION_DELAY: SignedDuration = SignedDuration::from_secs(3);

/// Adds the publication timer to a decision that changes the group's state. A survey ballot
/// does not count: it is kept apart from the state's log and is never part of the record.
pub fn schedule_publication(decision: &mut Decision, now: Timestamp) {
    if decision.changes.iter().any(|change| !is_ballot(change))
        && decision_is_not_the_publication(decision)
    {
        let at = now.checked_add(PUBLICATION_DELAY).unwrap_or(now);
        decision.effects.push(Effect::Schedule {
            key: PUBLICATION_TIMER_KEY.to_string(),
            at,
            timer: Timer::PublishRecord,
        });
    }
}

/// The publication timer itself changes nothing, so it never schedules itself again; this is
/// said outright so that a later change to the rule above cannot make a loop.
fn decision_is_not_the_publication(decision: &Decision) -> bool {
    decision.command.as_deref() != Some(&format!("timer {PUBLICATION_TIMER_KEY}"))
}

/// The publication timer as adapters store it outside a decision (a list message archived, an
/// import done): its key, its due time and its JSON, `PUBLICATION_DELAY` after `now`.
pub fn publication_timer_at(now: Timestamp) -> (&'static str, Timestamp, String) {
    (
        PUBLICATION_TIMER_KEY,
        now.checked_add(PUBLICATION_DELAY).unwrap_or(now),
        serde_json::to_string(&Timer::PublishRecord).unwrap_or_default(),
    )
}

/// The publication timer fired: publish the group's record.
pub fn on_timer() -> Vec<Effect> {
    vec![Effect::Publish]
}
