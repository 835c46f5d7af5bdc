//! The room's native polls (MSC3381, as Element and the other clients speak it today): the bot
//! starts a poll with answer IDs `"1"`, `"2"`, ... and ends it; answers come back as poll
//! responses (the stable `m.poll.response` and the unstable `org.matrix.msc3381.poll.response`)
//! or as reactions on the poll (`1️⃣`, `2`, ...). Reading an answer is a pure rule over the
//! event's JSON ([`poll_answer_of`]); which poll it answers is found among the bot's own sent
//! messages by the event ID it names, so an answer to anything else is ignored.

use super::rooms::RoomDirectory;
use super::send::{PollPayload, ReplyPayload};
use crate::delivery::DeliveryError;
use crate::storage::Store;
use matrix_sdk::ruma::events::poll::start::PollKind;
use matrix_sdk::ruma::events::poll::unstable_end::UnstablePollEndEventContent;
use matrix_sdk::ruma::events::poll::unstable_start::{
    NewUnstablePollStartEventContent, UnstablePollAnswer, UnstablePollAnswers,
    UnstablePollStartContentBlock, UnstablePollStartEventContent,
};
use matrix_sdk::ruma::{OwnedEventId, RoomId, uint};
use serde_json::Value;

/// The content of a poll start: the question, answers `"1"`..`"n"`, one choice each, results
/// shown as they come unless the poll is hidden. The unstable type is what clients read in
/// rooms of today's versions (none of which has extensible events).
pub fn poll_start_content(
    fallback: &str,
    question: &str,
    options: &[String],
    hidden: bool,
) -> Result<UnstablePollStartEventContent, String> {
    let answers: Vec<UnstablePollAnswer> = options
        .iter()
        .enumerate()
        .map(|(index, option)| UnstablePollAnswer::new((index + 1).to_string(), option.clone()))
        .collect();
    let answers = UnstablePollAnswers::try_from(answers)
        .map_err(|error| format!("the poll's options cannot be sent: {error}"))?;
    let mut block = UnstablePollStartContentBlock::new(question.to_string(), answers);
    block.kind = if hidden {
        PollKind::Undisclosed
    } else {
        PollKind::Disclosed
    };
    block.max_selections = uint!(1);
    Ok(NewUnstablePollStartEventContent::plain_text(fallback.to_string(), block).into())
}

pub fn poll_end_content(text: &str, start: OwnedEventId) -> UnstablePollEndEventContent {
    UnstablePollEndEventContent::new(text.to_string(), start)
}

/// Whether an outbox payload started a native poll.
pub fn starts_a_poll(payload: &str) -> bool {
    serde_json::from_str::<ReplyPayload>(payload)
        .is_ok_and(|payload| matches!(payload.poll, Some(PollPayload::Start { .. })))
}

/// The event that started the poll of record `about` in the room. Until the start is sent the
/// end waits (a transient failure, tried again); a record with no poll start is a permanent one.
pub async fn poll_start_event(
    store: &Store,
    rooms: &RoomDirectory,
    room_id: &RoomId,
    about: &str,
) -> Result<OwnedEventId, DeliveryError> {
    let messages = store
        .matrix_messages_about(about)
        .await
        .map_err(|error| DeliveryError {
            transient: true,
            message: format!("cannot look up the poll's start: {error}"),
        })?;
    let Some(start) = messages.iter().find(|message| {
        rooms.names_room(&message.destination, room_id) && starts_a_poll(&message.payload)
    }) else {
        return Err(DeliveryError::permanent(format!(
            "no poll was started for {about} in this room"
        )));
    };
    match &start.event_id {
        Some(event_id) => OwnedEventId::try_from(event_id.as_str())
            .map_err(|error| DeliveryError::permanent(format!("invalid poll event ID: {error}"))),
        None => Err(DeliveryError {
            transient: true,
            message: format!("the poll of {about} has not been started in the room yet"),
        }),
    }
}

/// An answer to a poll as an event gives it: the event it relates to, and the option number
/// chosen (from the answer ID, or the reaction's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollAnswerEvent {
    pub answers_event: String,
    pub option: u32,
    pub by_reaction: bool,
}

/// Reads a poll response or a reaction on a poll. Other events, reactions whose key names no
/// number, and responses that choose nothing give `None`.
pub fn poll_answer_of(event: &Value) -> Option<PollAnswerEvent> {
    let event_type = event.get("type")?.as_str()?;
    let content = event.get("content")?;
    let relation = content.get("m.relates_to")?;
    let answers_event = relation.get("event_id")?.as_str()?.to_string();
    let (choice, by_reaction) = match event_type {
        "m.poll.response" => (first_text(content.get("m.selections"))?, false),
        "org.matrix.msc3381.poll.response" => (
            first_text(
                content
                    .get("org.matrix.msc3381.poll.response")
                    .and_then(|response| response.get("answers")),
            )?,
            false,
        ),
        "m.reaction" => {
            if relation.get("rel_type").and_then(Value::as_str) != Some("m.annotation") {
                return None;
            }
            (relation.get("key")?.as_str()?.to_string(), true)
        }
        _ => return None,
    };
    let option = option_number(&choice)?;
    Some(PollAnswerEvent {
        answers_event,
        option,
        by_reaction,
    })
}

fn first_text(value: Option<&Value>) -> Option<String> {
    value?.as_array()?.first()?.as_str().map(str::to_string)
}

/// An option number from an answer ID (`"3"`) or a reaction key: a plain number, a keycap
/// emoji (`3️⃣`, with or without its variation selector) or the keycap ten (`🔟`).
fn option_number(key: &str) -> Option<u32> {
    let key = key.trim();
    if key == "\u{1F51F}" {
        return Some(10);
    }
    let digits = key
        .trim_end_matches('\u{20E3}')
        .trim_end_matches('\u{FE0F}');
    if digits.is_empty() || digits.len() > 2 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|number| *number >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_of_poll_answers() {
        let start = "$start:localhost";
        let cases = [
            (
                json!({"type": "org.matrix.msc3381.poll.response", "content": {
                    "org.matrix.msc3381.poll.response": {"answers": ["2"]},
                    "m.relates_to": {"rel_type": "m.reference", "event_id": start}}}),
                Some((2, false)),
            ),
            (
                json!({"type": "m.poll.response", "content": {
                    "m.selections": ["3"],
                    "m.relates_to": {"rel_type": "m.reference", "event_id": start}}}),
                Some((3, false)),
            ),
            (
                json!({"type": "m.reaction", "content": {"m.relates_to": {
                    "rel_type": "m.annotation", "event_id": start, "key": "1\u{FE0F}\u{20E3}"}}}),
                Some((1, true)),
            ),
            (
                json!({"type": "m.reaction", "content": {"m.relates_to": {
                    "rel_type": "m.annotation", "event_id": start, "key": "4\u{20E3}"}}}),
                Some((4, true)),
            ),
            (
                json!({"type": "m.reaction", "content": {"m.relates_to": {
                    "rel_type": "m.annotation", "event_id": start, "key": "\u{1F51F}"}}}),
                Some((10, true)),
            ),
            // A thumbs-up says nothing about which option.
            (
                json!({"type": "m.reaction", "content": {"m.relates_to": {
                    "rel_type": "m.annotation", "event_id": start, "key": "\u{1F44D}"}}}),
                None,
            ),
            // A response that withdraws every choice, and one with a made-up answer ID.
            (
                json!({"type": "org.matrix.msc3381.poll.response", "content": {
                    "org.matrix.msc3381.poll.response": {"answers": []},
                    "m.relates_to": {"rel_type": "m.reference", "event_id": start}}}),
                None,
            ),
            (
                json!({"type": "org.matrix.msc3381.poll.response", "content": {
                    "org.matrix.msc3381.poll.response": {"answers": ["<b>x</b>"]},
                    "m.relates_to": {"rel_type": "m.reference", "event_id": start}}}),
                None,
            ),
            (
                json!({"type": "m.room.message", "content": {"body": "2",
                    "m.relates_to": {"m.in_reply_to": {"event_id": start}}}}),
                None,
            ),
            (
                json!({"type": "org.matrix.msc3381.poll.response", "content": {
                    "org.matrix.msc3381.poll.response": {"answers": ["0"]},
                    "m.relates_to": {"rel_type": "m.reference", "event_id": start}}}),
                None,
            ),
        ];
        for (event, expected) in cases {
            let read = poll_answer_of(&event).map(|answer| {
                assert_eq!(answer.answers_event, start);
                (answer.option, answer.by_reaction)
            });
            assert_eq!(read, expected, "{event}");
        }
    }

    #[test]
    fn a_poll_start_carries_numbered_answers_and_its_kind() {
        let options = vec!["9 March".to_string(), "16 March".to_string()];
        let content =
            poll_start_content("R-1 poll: Which date?", "Which date?", &options, true).unwrap();
        let json = serde_json::to_value(&content).unwrap();
        let start = &json["org.matrix.msc3381.poll.start"];
        assert_eq!(start["kind"], "org.matrix.msc3381.poll.undisclosed");
        assert_eq!(start["max_selections"], 1);
        assert_eq!(start["answers"][0]["id"], "1");
        assert_eq!(start["answers"][1]["org.matrix.msc1767.text"], "16 March");
        assert_eq!(json["org.matrix.msc1767.text"], "R-1 poll: Which date?");
        let too_many: Vec<String> = (0..21).map(|n| n.to_string()).collect();
        assert!(poll_start_content("q", "q", &too_many, false).is_err());
    }
}
