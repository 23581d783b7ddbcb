-- +goose Up
-- The delivery log: each attempt to post an event to its bot's webhook, the
-- last 20 of each event (the store drops older ones as it adds). Attempts
-- live as long as their event.
CREATE TABLE delivery_attempts (
	id INTEGER PRIMARY KEY,
	event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	workspace_id TEXT NOT NULL,
	bot_id TEXT NOT NULL,
	at INTEGER NOT NULL DEFAULT 0,
	status_code INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	duration_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, id);

-- The event a bot.webhook job posts: the event's delivery is pending while
-- such a job exists. Jobs written before this migration carry it in their
-- payload only.
ALTER TABLE jobs ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
UPDATE jobs SET event_id = COALESCE(json_extract(CAST(payload AS TEXT), '$.e'), '') WHERE kind = 'bot.webhook';
CREATE INDEX jobs_event ON jobs (event_id) WHERE event_id <> '';

-- +goose Down
DROP INDEX jobs_event;
ALTER TABLE jobs DROP COLUMN event_id;
DROP TABLE delivery_attempts;
