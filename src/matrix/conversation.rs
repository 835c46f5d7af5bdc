//! What the Matrix adapter writes into an inbox record's conversation: the room the message
//! came from, then, after a space (room IDs have none), how it came when that matters to the
//! core: an answer given in the room's native poll or by a reaction on it, or a message in a
//! direct conversation with the bot that nobody else reads.

use crate::core::consensus::model::AnswerChannel;

pub const MATRIX_POLL_ANSWER: &str = "matrix_poll";
pub const REACTION_ANSWER: &str = "reaction";
pub const DIRECT_MESSAGE: &str = "direct";

/// A Matrix record's conversation, read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixConversation<'a> {
    /// Where replies go.
    pub room: &'a str,
    pub poll_answer: Option<AnswerChannel>,
    /// Written in a direct-message room with the bot and the sender alone.
    pub private: bool,
}

pub fn matrix_conversation(conversation: &str) -> MatrixConversation<'_> {
    let (room, how) = match conversation.split_once(' ') {
        Some((room, how)) => (room, Some(how)),
        None => (conversation, None),
    };
    MatrixConversation {
        room,
        poll_answer: match how {
            Some(MATRIX_POLL_ANSWER) => Some(AnswerChannel::MatrixPoll),
            Some(REACTION_ANSWER) => Some(AnswerChannel::Reaction),
            _ => None,
        },
        private: how == Some(DIRECT_MESSAGE),
    }
}

/// The conversation of a message in a private direct-message room.
pub fn direct_conversation(room_id: &str) -> String {
    format!("{room_id} {DIRECT_MESSAGE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_read_back_as_written() {
        let cases: &[(&str, &str, Option<AnswerChannel>, bool)] = &[
            ("!room:x", "!room:x", None, false),
            (
                "!room:x matrix_poll",
                "!room:x",
                Some(AnswerChannel::MatrixPoll),
                false,
            ),
            (
                "!room:x reaction",
                "!room:x",
                Some(AnswerChannel::Reaction),
                false,
            ),
            ("!room:x direct", "!room:x", None, true),
            // A mark this version does not know is neither a poll answer nor private.
            ("!room:x later-mark", "!room:x", None, false),
        ];
        for (written, room, poll_answer, private) in cases {
            let read = matrix_conversation(written);
            assert_eq!(
                (read.room, read.poll_answer, read.private),
                (*room, *poll_answer, *private),
                "{written}"
            );
        }
        assert_eq!(
            matrix_conversation(&direct_conversation("!dm:x")),
            MatrixConversation {
                room: "!dm:x",
                poll_answer: None,
                private: true
            }
        );
    }
}
