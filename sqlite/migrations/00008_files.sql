-- +goose Up
-- Uploaded files: an inbox agent's or a bot's, served by signed URLs, and no more
-- once their workspace is deleted.
CREATE TABLE files (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	name TEXT NOT NULL,
	type TEXT NOT NULL,
	size INTEGER NOT NULL,
	data BLOB NOT NULL,
	created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE files;
