-- +goose Up
-- Uploaded files: an inbox agent's or a bot's, served by signed URLs, and no more
-- once their workspace is deleted.
CREATE TABLE files (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	name TEXT NOT NULL,
	type TEXT NOT NULL,
	size BIGINT NOT NULL,
	data BYTEA NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX files_made ON files (workspace_id, created_at);

-- Typing and reading: when the customer last typed, when the holding agent's
-- typing was last told to the bot, when that agent last read the transcript.
ALTER TABLE handoffs ADD COLUMN customer_typing_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN agent_typing_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN agent_read_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE handoffs DROP COLUMN agent_read_at;
ALTER TABLE handoffs DROP COLUMN agent_typing_at;
ALTER TABLE handoffs DROP COLUMN customer_typing_at;
DROP TABLE files;
