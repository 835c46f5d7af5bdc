-- The public list archive (issue 14): every message of a group's list that reaches the bot,
-- as the archive shows it (addresses hidden, text and attachment names only), once per
-- Message-ID and group.
CREATE TABLE list_archive (
    group_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    date_ms BIGINT,
    message TEXT NOT NULL,
    PRIMARY KEY (group_id, message_id)
);
