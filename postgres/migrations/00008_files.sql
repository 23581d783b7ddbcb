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

-- +goose Down
DROP TABLE files;
