-- Survey answers (issue 13), kept apart from the change log: a ballot names nobody and has
-- no time, no order and no link to the message it came in. Its key is random, so reading the
-- table in key order says nothing of when a ballot was stored. The "has answered" marks are
-- ordinary changes in the change log.
CREATE TABLE survey_ballots (
    ballot_key TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    ballot TEXT NOT NULL
) ;
