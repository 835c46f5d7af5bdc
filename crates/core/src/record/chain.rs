//! The hash chain of a group's record. Every record entry that is new, or whose facts changed,
//! is appended as a link: SHA-256 over the canonical serialization of the link (its sequence
//! number, the entry, what it corrects, and the previous link's hash). A changed entry is a new
//! link that points at the one it corrects; nothing is rewritten. The published
//! `record.jsonl` holds one link per line, each exactly its canonical serialization, so
//! [`verify_chain`] catches any changed byte: in a value (the hash no longer matches), in the
//! layout (the line is no longer canonical), or in a link's order (the previous hash differs).

use super::entries::RecordEntry;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The "previous hash" of a chain's first link.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One link of the chain, as `record.jsonl` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainLink {
    /// 1, 2, 3, ... within the group's chain.
    pub seq: u64,
    pub group: String,
    /// The entry's key and permalink path (`meetings/m-3`).
    pub key: String,
    pub kind: String,
    pub label: String,
    pub title: String,
    pub at: Timestamp,
    pub data: Value,
    /// The link this one corrects: the same key's previous link, when the facts changed.
    pub corrects: Option<u64>,
    /// When the link was appended: when the entry, or its correction, was published.
    pub recorded: Timestamp,
    pub prev: String,
    pub hash: String,
}

impl ChainLink {
    /// The link that appends `entry` after a link whose hash is `prev`, recorded at `recorded`.
    pub fn new(
        seq: u64,
        group: &str,
        entry: &RecordEntry,
        corrects: Option<u64>,
        prev: &str,
        recorded: Timestamp,
    ) -> ChainLink {
        let mut link = ChainLink {
            seq,
            group: group.to_string(),
            key: entry.key.clone(),
            kind: entry.kind.name().to_string(),
            label: entry.label.clone(),
            title: entry.title.clone(),
            at: entry.at,
            data: entry.data.clone(),
            corrects,
            recorded,
            prev: prev.to_string(),
            hash: String::new(),
        };
        link.hash = link.computed_hash();
        link
    }

    /// SHA-256 over the canonical serialization of everything but the hash itself.
    pub fn computed_hash(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.remove("hash");
        }
        sha256_hex(canonical_json(&value).as_bytes())
    }

    /// The link's line in `record.jsonl`.
    pub fn line(&self) -> String {
        canonical_json(&serde_json::to_value(self).unwrap_or(Value::Null))
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What identifies an entry's content: the hash of its kind, key, label, title, time and data.
/// A link is appended for an entry only when this differs from its key's latest link.
pub fn content_hash(entry: &RecordEntry) -> String {
    let value = serde_json::json!({
        "kind": entry.kind.name(),
        "key": entry.key,
        "label": entry.label,
        "title": entry.title,
        "at": entry.at,
        "data": entry.data,
    });
    sha256_hex(canonical_json(&value).as_bytes())
}

/// JSON with object keys sorted and no insignificant whitespace: the one serialization the
/// hashes are taken over, whatever order a map was built in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (index, (key, value)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

/// The entries to append, each with the link it corrects: those whose key has no link yet, and
/// those whose content differs from their key's latest link. `latest` maps a key to its latest
/// link's sequence number and content hash.
pub fn entries_to_append<'a>(
    latest: &BTreeMap<String, (u64, String)>,
    entries: &'a [RecordEntry],
) -> Vec<(&'a RecordEntry, Option<u64>)> {
    entries
        .iter()
        .filter_map(|entry| match latest.get(&entry.key) {
            None => Some((entry, None)),
            Some((seq, hash)) if *hash != content_hash(entry) => Some((entry, Some(*seq))),
            Some(_) => None,
        })
        .collect()
}

/// Why a chain does not verify, naming the first line that does not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {reason}", seq.map(|seq| format!(" (entry {seq})")).unwrap_or_default())]
pub struct ChainError {
    /// 1-based line of `record.jsonl`.
    pub line: usize,
    pub seq: Option<u64>,
    pub reason: String,
}

/// Checks a whole `record.jsonl`: every line a canonical link, numbered 1, 2, 3, ..., each
/// naming the previous link's hash and carrying its own correct hash; a correction names an
/// earlier link of the same key. Returns the number of links.
pub fn verify_chain(text: &str) -> Result<usize, ChainError> {
    let mut previous_hash = GENESIS_HASH.to_string();
    let mut keys: BTreeMap<u64, String> = BTreeMap::new();
    let mut count = 0;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let fail = |seq: Option<u64>, reason: String| ChainError {
            line: line_number,
            seq,
            reason,
        };
        let link: ChainLink = serde_json::from_str(line)
            .map_err(|error| fail(None, format!("not a link of the chain: {error}")))?;
        let seq = Some(link.seq);
        if link.seq != count as u64 + 1 {
            return Err(fail(seq, format!("expected entry {}", count + 1)));
        }
        if link.prev != previous_hash {
            return Err(fail(
                seq,
                "its previous hash is not the hash of the entry before it".into(),
            ));
        }
        if link.computed_hash() != link.hash {
            return Err(fail(seq, "its content does not match its hash".into()));
        }
        if link.line() != line {
            return Err(fail(
                seq,
                "the line is not the entry's canonical form (a byte was changed)".into(),
            ));
        }
        if let Some(corrected) = link.corrects
            && keys.get(&corrected) != Some(&link.key)
        {
            return Err(fail(
                seq,
                format!("it corrects entry {corrected}, which is no earlier entry of the same key"),
            ));
        }
        keys.insert(link.seq, link.key.clone());
        previous_hash = link.hash.clone();
        count += 1;
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(ChainError {
            line: count,
            seq: Some(count as u64),
            reason: "the file does not end with a line break: it was cut or changed".into(),
        });
    }
    Ok(count)
}
