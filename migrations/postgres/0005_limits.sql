-- The size of a quarantined mail as received. A mail over the size limit is kept as its header
-- section only (its body would fill the database), so the size of what is kept is not the size
-- of the mail. NULL for rows from before: their raw column holds the whole mail.
ALTER TABLE mail_quarantine ADD COLUMN size_bytes BIGINT;

-- The text of messages that were not commands is no longer kept once they are handled; the text
-- kept before this version goes too.
UPDATE inbox SET body = '' WHERE state = 'handled' AND disposition = 'not_a_command';
