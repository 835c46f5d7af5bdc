//! What the core asks the outside world to do. Adapters carry these out; the core never performs
//! I/O itself. Each effect is stored in the outbox in the same transaction as the state change
//! that produced it, so it is carried out once even across crashes.

use super::reply::ReplyDocument;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Answer the message being handled, on the channel it came from (in a Matrix room as a reply
    /// to the event; by mail to its author in the next step of the project).
    Reply { document: ReplyDocument },
}
