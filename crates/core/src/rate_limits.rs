//! How much the bot answers one sender and how much it mails one address, members included, so
//! that nobody can use it to mail anyone without limit and two robots cannot keep each other
//! busy. Pure rules over counts that storage keeps (what the bot did in the last window) and the
//! current time.
//!
//! Two limits over one sliding window:
//! - **per sender**: at most [`RateLimits::answers_per_sender`] of one sender's messages are acted
//!   on and answered in a window. The message that goes over gets one short answer saying so;
//!   after that the sender's messages are neither carried out nor answered until the count falls
//!   under the limit. A loop through an unmarked autoresponder (it answers every mail the bot
//!   sends, with no `Auto-Submitted` header) therefore ends after at most the limit and one
//!   notice: the autoresponder's answer to the notice meets silence, and the loop has nothing to
//!   answer.
//! - **per address**: at most [`RateLimits::mails_per_address`] mails go to one address in a
//!   window, whoever asked for them (replies, announcements, reminders); the rest are not sent.
//!
//! Senders are limited by mail, where every answer is a mail (see [`limits_senders_on`]);
//! timers have no sender; the mail that room commands and timers send counts for its addresses
//! like any other.

use crate::effects::Effect;
use crate::engine::{Channel, Decision, Disposition};
use crate::reply::{LineBuilder, ReplyDocument};
use jiff::{SignedDuration, Timestamp};

/// The limits, from the configuration's `[limits]` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// The sliding window the counts cover.
    pub window: SignedDuration,
    /// How many messages of one sender are carried out and answered in a window.
    pub answers_per_sender: u32,
    /// How many mails go to one address in a window.
    pub mails_per_address: u32,
}

impl Default for RateLimits {
    /// An hour; 30 answered mails per sender (more than anyone writes to a bot by hand in an
    /// hour, far fewer than a robot does); 40 mails per address (a member of several
    /// organizations gets a reminder from each, and answers of their own).
    fn default() -> RateLimits {
        RateLimits {
            window: SignedDuration::from_mins(60),
            answers_per_sender: 30,
            mails_per_address: 40,
        }
    }
}

/// What the bot did for one sender within the current window, as storage counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderHistory {
    /// The sender's messages that were acted on and answered.
    pub answered: u32,
    /// Whether the sender was already told that they reached the limit.
    pub told_of_limit: bool,
}

/// What to do with a sender's message that would be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderVerdict {
    /// Within the limit: carry it out and answer.
    Answer,
    /// The first message over the limit in the window: say so, once, and do nothing else.
    TellOfLimit,
    /// Over the limit and already told: do nothing, say nothing.
    Quiet,
}

impl RateLimits {
    /// The start of the window that ends now: what happened at or after it counts.
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        now.checked_sub(self.window).unwrap_or(Timestamp::MIN)
    }

    pub fn judge_sender(&self, history: SenderHistory) -> SenderVerdict {
        if history.answered < self.answers_per_sender {
            SenderVerdict::Answer
        } else if history.told_of_limit {
            SenderVerdict::Quiet
        } else {
            SenderVerdict::TellOfLimit
        }
    }

    /// Whether one more mail may go to an address that was sent `sent_in_window` mails.
    pub fn admits_mail(&self, sent_in_window: u32) -> bool {
        sent_in_window < self.mails_per_address
    }

    /// The decision that replaces the engine's for a sender over the limit: the notice, or
    /// nothing. The command is not carried out either way (no changes).
    pub fn limited_decision(&self, verdict: SenderVerdict, now: Timestamp) -> Option<Decision> {
        let effects = match verdict {
            SenderVerdict::Answer => return None,
            SenderVerdict::TellOfLimit => vec![Effect::Reply {
                document: self.notice(now),
            }],
            SenderVerdict::Quiet => Vec::new(),
        };
        let disposition = match verdict {
            SenderVerdict::TellOfLimit => Disposition::RateLimitNotice,
            _ => Disposition::RateLimited,
        };
        Some(Decision {
            command: None,
            disposition,
            changes: Vec::new(),
            effects,
        })
    }

    fn notice(&self, now: Timestamp) -> ReplyDocument {
        let minutes = self.window.as_secs() / 60;
        let until = now
            .checked_add(self.window)
            .unwrap_or(now)
            .strftime("%Y-%m-%d %H:%M UTC");
        let mut document = ReplyDocument::new();
        document.push_line(LineBuilder::new().text(format!(
            "I have answered {} of your messages in the last {minutes} minutes, the most I answer \
             one sender in that time.",
            self.answers_per_sender
        )));
        document.push_line(LineBuilder::new().text(format!(
            "For up to {minutes} minutes more (until {until} at the latest) I neither carry out \
             nor answer your commands, and this is the only message about it. Send them again \
             after that."
        )));
        document
    }
}

/// Whether a message's sender is limited on a channel: mail senders are, since every answer to
/// them is a mail. In the room an answer is a message in the room, which the homeserver already
/// limits per sender and every member sees; the mail a room command sends (announcements) counts
/// for its addresses. The clock has no sender.
pub fn limits_senders_on(channel: Channel) -> bool {
    channel == Channel::Mail
}

/// Whether a decision sends anything (an answer or an announcement): only those count against
/// the sender, so talk in the room that is not a command costs nothing.
pub fn speaks(decision: &Decision) -> bool {
    decision
        .effects
        .iter()
        .any(|effect| matches!(effect, Effect::Reply { .. } | Effect::Announce { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RateLimits {
        RateLimits {
            window: SignedDuration::from_mins(60),
            answers_per_sender: 3,
            mails_per_address: 5,
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("RFC 3339")
    }

    #[test]
    fn a_sender_is_answered_up_to_the_limit_told_once_then_left_alone() {
        let cases = [
            (0, false, SenderVerdict::Answer),
            (2, false, SenderVerdict::Answer),
            // A notice from an earlier window does not silence a sender under the limit.
            (2, true, SenderVerdict::Answer),
            (3, false, SenderVerdict::TellOfLimit),
            (7, false, SenderVerdict::TellOfLimit),
            (3, true, SenderVerdict::Quiet),
            (40, true, SenderVerdict::Quiet),
        ];
        for (answered, told_of_limit, expected) in cases {
            let history = SenderHistory {
                answered,
                told_of_limit,
            };
            assert_eq!(limits().judge_sender(history), expected, "for {history:?}");
        }
    }

    #[test]
    fn an_address_gets_mail_up_to_its_limit() {
        for (sent, admitted) in [(0, true), (4, true), (5, false), (50, false)] {
            assert_eq!(limits().admits_mail(sent), admitted, "after {sent}");
        }
        let none = RateLimits {
            mails_per_address: 0,
            ..limits()
        };
        assert!(!none.admits_mail(0));
    }

    #[test]
    fn the_window_ends_now_and_starts_one_window_before() {
        let now = at("2026-12-07T10:30:00Z");
        assert_eq!(limits().window_start(now), at("2026-12-07T09:30:00Z"));
        assert_eq!(limits().window_start(Timestamp::MIN), Timestamp::MIN);
    }

    #[test]
    fn over_the_limit_nothing_is_carried_out_and_at_most_the_notice_is_sent() {
        let now = at("2026-12-07T10:30:00Z");
        assert_eq!(limits().limited_decision(SenderVerdict::Answer, now), None);
        let notice = limits()
            .limited_decision(SenderVerdict::TellOfLimit, now)
            .expect("a notice");
        assert_eq!(notice.disposition, Disposition::RateLimitNotice);
        assert!(notice.changes.is_empty());
        let text = notice.reply().expect("the notice").plain_text();
        assert!(
            text.contains("answered 3 of your messages in the last 60 minutes"),
            "{text}"
        );
        assert!(text.contains("2026-12-07 11:30 UTC"), "{text}");
        let quiet = limits()
            .limited_decision(SenderVerdict::Quiet, now)
            .expect("a decision");
        assert_eq!(quiet.disposition, Disposition::RateLimited);
        assert!(quiet.effects.is_empty() && quiet.changes.is_empty());
        assert!(!speaks(&quiet) && speaks(&notice));
    }

    #[test]
    fn only_mail_senders_are_limited_as_senders() {
        for (channel, limited) in [
            (Channel::Mail, true),
            (Channel::Matrix, false),
            (Channel::Clock, false),
        ] {
            assert_eq!(limits_senders_on(channel), limited, "{channel:?}");
        }
    }
}
