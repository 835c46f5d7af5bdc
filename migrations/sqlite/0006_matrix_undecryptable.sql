-- Encrypted Matrix events the bot could not decrypt yet (their room key had not arrived). Stored
-- in the transaction that stores the sync token moving past them, so a restart before the key
-- arrives loses nothing; deleted when the event is decrypted (and recorded in the inbox) or when
-- the bot gives up on it and reports that once.
CREATE TABLE matrix_undecryptable (
    event_id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    -- The encrypted event as the homeserver sent it, to decrypt when the key arrives.
    event_json TEXT NOT NULL,
    origin_ms INTEGER NOT NULL,
    first_seen_ms INTEGER NOT NULL
);
CREATE INDEX matrix_undecryptable_age ON matrix_undecryptable (first_seen_ms);
