-- Every message received, keyed by its channel and external ID (Matrix event ID, Message-ID), is
-- written here before it is handled, so a crash never loses it and a redelivery never repeats it.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    conversation TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    origin_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    disposition TEXT,
    command TEXT,
    handled_ms INTEGER,
    UNIQUE (channel, external_id)
);
CREATE INDEX inbox_pending ON inbox (state, id);

-- Every effect to carry out. Written in the same transaction that marks its inbox row handled;
-- the idempotency key doubles as the Matrix transaction ID, so a resend after a crash is
-- recognised by the homeserver and not shown twice.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    inbox_id INTEGER REFERENCES inbox (id),
    idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    destination TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    sent_ms INTEGER,
    remote_id TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);

-- Small durable facts of the adapters, such as the Matrix sync token.
CREATE TABLE adapter_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- When the bot first joined each room: events older than this are history, not commands.
CREATE TABLE matrix_rooms (
    room_id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    first_joined_ms INTEGER NOT NULL
);
