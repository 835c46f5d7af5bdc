-- The group's state as a log of changes: the core returns changes, they are appended here in the
-- transaction that marks their input handled, and the state is their fold. Nothing is updated in
-- place, so the history of every request is kept.
CREATE TABLE group_changes (
    id INTEGER PRIMARY KEY,
    group_id TEXT NOT NULL,
    inbox_id INTEGER REFERENCES inbox (id),
    change TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX group_changes_by_group ON group_changes (group_id, id);

-- The durable clock: inputs the core asked for at a later time. A due timer becomes an inbox item
-- (channel 'clock') in the same transaction that marks it fired, so it is handled exactly once.
-- Scheduling an existing key moves the timer.
CREATE TABLE timers (
    group_id TEXT NOT NULL,
    timer_key TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    timer TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, timer_key)
);
CREATE INDEX timers_due ON timers (state, due_ms);

-- The record a sent message is about (such as R-3), so that a reply to it inherits the context.
ALTER TABLE outbox ADD COLUMN about TEXT;
