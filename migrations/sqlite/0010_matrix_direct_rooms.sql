-- Direct-message rooms (issue 13): a known person may talk to the bot in a room of their own,
-- where a survey can be answered privately. The row's group is the person's group; the person
-- is kept so that a room whose invite came from someone else is never taken for theirs.
ALTER TABLE matrix_rooms ADD COLUMN direct_with TEXT;
