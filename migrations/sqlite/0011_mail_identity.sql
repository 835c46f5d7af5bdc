-- The secrets that tag the bot's Message-IDs (issue 17): the current one, and older ones kept
-- after a rotation so that replies to mail sent before still prove to be answers. In the
-- database, not in a file, so that every process of a deployment and every backup has them.
CREATE TABLE mail_identity_secrets (
    secret TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    -- Set when a newer secret replaced this one; the newest row without it is current.
    retired_ms BIGINT
);

-- Mail that got no answer on purpose (the bot's own, automatic, bounces, list traffic without
-- a command), with the reason, for the operator's view (`rapporteur mail ignored`): a wrong
-- decision must be visible. Kept 90 days.
CREATE TABLE ignored_mail (
    external_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    sender TEXT,
    subject TEXT,
    ignored_ms BIGINT NOT NULL
);
CREATE INDEX ignored_mail_by_time ON ignored_mail (ignored_ms);
