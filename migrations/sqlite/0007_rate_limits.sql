-- The rate limits (`core::rate_limits`) count a sender's answered messages and the mails queued
-- for an address over the last window; these indexes keep both counts to a few rows.
CREATE INDEX inbox_by_sender ON inbox (sender, handled_ms);
CREATE INDEX outbox_by_inbox ON outbox (inbox_id);
CREATE INDEX outbox_by_destination ON outbox (destination, created_ms);
