-- Mail that could not be handled (too large, not mail at all, not vouched for): kept whole with
-- the reason, so an operator can look at it and retry it. One row per message.
CREATE TABLE mail_quarantine (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    sender TEXT,
    subject TEXT,
    raw BYTEA NOT NULL,
    received_ms BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'held',
    released_ms BIGINT
);

-- Replies that may be sent at most once per key, such as one answer per day to a sender the
-- group does not know. Claimed in the transaction that stores the reply.
CREATE TABLE reply_limits (
    limit_key TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL
);
