-- The public record's hash chain (issue 14): one row per link, per group, in order. A link is
-- never changed or deleted; a changed entry is a new link that corrects an earlier one.
CREATE TABLE record_chain (
    group_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    record_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    link TEXT NOT NULL,
    PRIMARY KEY (group_id, seq)
);
CREATE INDEX record_chain_by_key ON record_chain (group_id, record_key, seq);
