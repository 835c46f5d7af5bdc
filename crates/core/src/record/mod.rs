//! The public record: what the bot publishes of a group, as entries with stable keys
//! (`meetings/m-3`, `requests/r-5`, `outcomes/r-7`, `actions/a-2`), each with the facts that
//! make it up as canonical data; and the hash chain that makes the published record
//! tamper-evident (`record.jsonl`). Pure: the site writer and the chain's storage are adapters.
//!
//! New kinds of entries are new arms of [`entries::record_entries`]: the chain, the feed and
//! the site take any entry with a key, a title, a time and its data.

pub mod chain;
pub mod deadlines;
pub mod entries;
pub mod pages;
pub mod publication;

#[cfg(test)]
mod tests;

/// "In the public record: <permalink>", when the group's record has an address.
pub fn permalink_line(
    group: &crate::directory::Group,
    key: &str,
) -> Option<crate::reply::LineBuilder> {
    group.permalink(key).map(|url| {
        crate::reply::LineBuilder::new()
            .text("In the public record: ")
            .link(url)
    })
}

pub use chain::{ChainError, ChainLink, GENESIS_HASH, canonical_json, content_hash, verify_chain};
pub use entries::{EntryKind, RecordEntry, record_entries};
