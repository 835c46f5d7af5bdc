-- The room's native polls (issue 13): an answer to a poll names the poll's start event, which
-- is found among the bot's sent messages by the event ID the homeserver gave it; ending a poll
-- finds its start by the record it is about (`R-6`) in the room.
CREATE INDEX outbox_by_remote_id ON outbox (remote_id);
CREATE INDEX outbox_by_about ON outbox (about, destination);
