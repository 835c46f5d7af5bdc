//! The one way effects leave the bot: each channel's adapter implements [`ChannelDelivery`],
//! and the dispatcher (`dispatcher.rs`) drives any of them the same way, with one error type
//! that says whether trying again may help. Adapters depend on this and on storage's outbox
//! item, never on the handling module above them.

use crate::core::engine::Channel;
use crate::storage::OutboxItem;

/// Why an outbox item could not be delivered, and whether trying again later may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// Worth retrying: the server was unreachable, overloaded or rate-limiting.
    pub transient: bool,
    pub message: String,
}

impl DeliveryError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            transient: false,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            transient: true,
            message: message.into(),
        }
    }
}

/// A channel's adapter as the dispatcher sees it.
pub trait ChannelDelivery: Send + Sync + 'static {
    /// The channel whose outbox items this adapter delivers.
    fn channel(&self) -> Channel;

    /// How many deliveries may run at once (one keeps the order of messages in a room).
    fn concurrency(&self) -> usize;

    /// Delivers one item; returns the ID the remote side gave it (event ID, Message-ID).
    fn deliver(
        &self,
        item: &OutboxItem,
    ) -> impl std::future::Future<Output = Result<String, DeliveryError>> + Send;
}
