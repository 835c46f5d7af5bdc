//! Sending a reply from the outbox. The outbox item's idempotency key is the Matrix transaction
//! ID, so a send repeated after a crash (before the outbox row was marked sent) is recognised by
//! the homeserver as the same message.

use super::rooms::RoomDirectory;
use crate::delivery::{ChannelDelivery, DeliveryError};
use crate::latency::LatencyProbe;
use crate::storage::{OutboxItem, Store};
use matrix_sdk::Client;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::relation::Reply;
use matrix_sdk::ruma::events::room::message::{Relation, RoomMessageEventContent};
use matrix_sdk::ruma::{EventId, OwnedTransactionId, OwnedUserId, RoomId};

use serde::{Deserialize, Serialize};

/// What the Matrix adapter needs to send a message: a reply to a command, or an announcement
/// that mentions the people it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPayload {
    /// The event being answered; empty for an announcement.
    pub in_reply_to: String,
    /// The author of that message, who is the only person a reply mentions; empty for an
    /// announcement.
    pub mention: String,
    /// The people an announcement mentions (`m.mentions`), never the whole room.
    #[serde(default)]
    pub mentions: Vec<String>,
    pub plain: String,
    pub html: String,
    /// A native poll to start or end instead of a message (the plain text is its fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollPayload>,
}

/// The room's native poll of a record (`R-6`): started with its options, answer IDs `"1"`,
/// `"2"`, ... (the numbers every channel names them by), or ended with a result text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "poll", rename_all = "snake_case")]
pub enum PollPayload {
    Start {
        question: String,
        options: Vec<String>,
        hidden: bool,
    },
    /// Ends the poll the bot started for the outbox item's record (`about`), found by the
    /// event ID the homeserver gave its start.
    End,
}

/// The Matrix channel's delivery: one message at a time, so replies keep their order in the
/// room; the latency probe learns when each reply's send began.
pub struct MatrixDelivery {
    pub client: Client,
    pub latency: LatencyProbe,
    /// Where ending a poll finds the event that started it, in the room named by ID or alias.
    pub store: Store,
    pub rooms: RoomDirectory,
}

impl ChannelDelivery for MatrixDelivery {
    fn channel(&self) -> crate::core::engine::Channel {
        crate::core::engine::Channel::Matrix
    }

    fn concurrency(&self) -> usize {
        1
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<String, DeliveryError> {
        if let Some(answered) = &item.in_reply_to_external_id {
            self.latency.observe_send_start(answered);
        }
        deliver_reply(&self.client, &self.store, &self.rooms, item).await
    }
}

fn is_transient(error: &matrix_sdk::Error) -> bool {
    match error {
        matrix_sdk::Error::Http(http) => match http.as_client_api_error() {
            Some(api) => api.status_code.is_server_error() || api.status_code.as_u16() == 429,
            None => true,
        },
        _ => false,
    }
}

/// The message content of a reply or an announcement: a notice (bots answer in notices, which
/// other bots ignore), in HTML and plain text. A reply is a reply to the command and mentions
/// only its author; an announcement mentions exactly the people it is for, never the room.
pub fn reply_content(payload: &ReplyPayload) -> RoomMessageEventContent {
    // A message too long for its HTML to fit one event is sent as plain text (see
    // `handling::fit_for_matrix`).
    let mut content = if payload.html.is_empty() {
        RoomMessageEventContent::notice_plain(payload.plain.clone())
    } else {
        RoomMessageEventContent::notice_html(payload.plain.clone(), payload.html.clone())
    };
    if let Ok(event_id) = <&EventId>::try_from(payload.in_reply_to.as_str()) {
        content.relates_to = Some(Relation::Reply(Reply::with_event_id(event_id.to_owned())));
    }
    // Explicit mentions: clients that honour them ping nobody because of text in the body (such
    // as a user's "@room" echoed back), only the people named here.
    let mentioned: Vec<OwnedUserId> = std::iter::once(payload.mention.as_str())
        .chain(payload.mentions.iter().map(String::as_str))
        .filter_map(|user_id| OwnedUserId::try_from(user_id).ok())
        .collect();
    content.mentions = Some(Mentions::with_user_ids(mentioned));
    content
}

/// Sends one reply, announcement or poll event; returns the event ID the homeserver gave it.
pub async fn deliver_reply(
    client: &Client,
    store: &Store,
    rooms: &RoomDirectory,
    item: &OutboxItem,
) -> Result<String, DeliveryError> {
    let payload: ReplyPayload = serde_json::from_str(&item.payload)
        .map_err(|e| DeliveryError::permanent(format!("unreadable outbox payload: {e}")))?;
    let room_id = <&RoomId>::try_from(item.destination.as_str())
        .map_err(|e| DeliveryError::permanent(format!("invalid room id: {e}")))?;
    let Some(room) = client.get_room(room_id) else {
        // The client may not have synced the room yet after a start: worth another try.
        return Err(DeliveryError {
            transient: true,
            message: format!("room {room_id} is not known to the client yet"),
        });
    };
    let transaction_id: OwnedTransactionId = item.idempotency_key.clone().into();
    let sent = match &payload.poll {
        None => {
            room.send(reply_content(&payload))
                .with_transaction_id(transaction_id)
                .await
        }
        Some(PollPayload::Start {
            question,
            options,
            hidden,
        }) => {
            let content =
                super::polls::poll_start_content(&payload.plain, question, options, *hidden)
                    .map_err(DeliveryError::permanent)?;
            room.send(content).with_transaction_id(transaction_id).await
        }
        Some(PollPayload::End) => {
            let about = item.about.as_deref().unwrap_or_default();
            let start = super::polls::poll_start_event(store, rooms, room_id, about).await?;
            let content = super::polls::poll_end_content(&payload.plain, start);
            room.send(content).with_transaction_id(transaction_id).await
        }
    };
    match sent {
        Ok(result) => Ok(result.response.event_id.to_string()),
        Err(error) => Err(DeliveryError {
            transient: is_transient(&error),
            message: error.to_string(),
        }),
    }
}
