//! The Matrix adapter: logs in as one persistent device, turns timeline events of the configured
//! rooms into inbox records (committed before the sync token that follows them), joins
//! the configured rooms, and sends replies from the outbox with the outbox key as transaction ID.
//! In encrypted rooms, `trust` decides which senders' events count, and events that cannot be
//! decrypted yet are held in the database until their keys arrive (see `sync`).

mod conversation;
pub mod inbound;
mod polls;
pub use conversation::{
    DIRECT_MESSAGE, MATRIX_POLL_ANSWER, MatrixConversation, REACTION_ANSWER, direct_conversation,
    matrix_conversation,
};
mod rooms;
mod send;
mod session;
mod sync;
pub mod trust;

pub use rooms::{RoomDirectory, resolve_rooms};
pub use send::{MatrixDelivery, PollPayload, ReplyPayload, deliver_reply};
pub use session::connect;
pub use sync::{SYNC_TOKEN_KEY, SyncLoop};

#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("cannot set up the Matrix client: {0}")]
    Client(String),
    #[error("Matrix login failed: {0}")]
    Login(String),
    #[error("cannot keep the Matrix session: {0}")]
    Session(String),
    #[error("Matrix room {room}: {reason}")]
    Room { room: String, reason: String },
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}
