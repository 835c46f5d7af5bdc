-- One sender per group: every outbox row names the group it belongs to, so only the process that
-- owns the group (holds its lease) delivers it, and a row is claimed before it is sent.
--
-- States of an outbox row: 'pending' (waiting for its next attempt), 'sending' (claimed by
-- claimed_by at claimed_ms, the attempt under way), 'sent', 'failed' (given up, for operators),
-- and 'uncertain': a claim abandoned by a process that died or lost its lease, on a channel that
-- cannot tell a resend from a new message (mail from any process, Matrix from another device).
-- The mail may or may not have left: it is held for an operator and never resent on its own.
ALTER TABLE outbox ADD COLUMN group_id TEXT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_ms BIGINT;

-- Rows written before this migration take the group of the input they answer; the others (such
-- as the question to a sender whose group is unclear) belong to no group, which the lease of the
-- empty group name covers.
UPDATE outbox SET group_id = (SELECT inbox.group_id FROM inbox WHERE inbox.id = outbox.inbox_id)
WHERE inbox_id IS NOT NULL;

CREATE INDEX outbox_claims ON outbox (state, group_id);
