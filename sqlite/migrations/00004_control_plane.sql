-- +goose Up
-- The control plane: admin keys, key ids, scopes and use, bot secret
-- rotation, agent passwords, soft-deleted workspaces and the audit log.
-- Keys and agents that exist already came from a configuration file, so
-- they are managed by it.
ALTER TABLE workspaces ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE api_keys ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
ALTER TABLE api_keys ADD COLUMN bot_id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
UPDATE api_keys SET id = 'key_' || substr(hash, 1, 16), managed = TRUE;
CREATE UNIQUE INDEX api_keys_id ON api_keys (id);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE admin_keys (
	hash TEXT PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	prefix TEXT NOT NULL DEFAULT '',
	managed BOOLEAN NOT NULL DEFAULT FALSE,
	created_at INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE bots ADD COLUMN previous_secret BLOB;
ALTER TABLE bots ADD COLUMN previous_until INTEGER NOT NULL DEFAULT 0;

ALTER TABLE inbox_agents ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox_agents ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE inbox_agents ADD COLUMN managed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE inbox_agents SET managed = TRUE;
CREATE INDEX inbox_agents_workspace ON inbox_agents (workspace_id, created_at);

CREATE TABLE audit (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	at INTEGER NOT NULL DEFAULT 0,
	actor TEXT NOT NULL DEFAULT '',
	action TEXT NOT NULL DEFAULT '',
	object TEXT NOT NULL DEFAULT '',
	object_id TEXT NOT NULL DEFAULT '',
	workspace_id TEXT NOT NULL DEFAULT '',
	before TEXT NOT NULL DEFAULT '',
	after TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_workspace ON audit (workspace_id, seq);

-- Admin requests keep idempotency records too, under a scope that is not a
-- workspace: the key no longer references workspaces (SQLite rebuilds the table).
CREATE TABLE idempotency_scoped (
	workspace_id TEXT NOT NULL,
	key TEXT NOT NULL,
	request TEXT NOT NULL DEFAULT '',
	ref TEXT NOT NULL DEFAULT '',
	status INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (workspace_id, key)
) WITHOUT ROWID;
INSERT INTO idempotency_scoped SELECT workspace_id, key, request, ref, status, created_at FROM idempotency;
DROP TABLE idempotency;
ALTER TABLE idempotency_scoped RENAME TO idempotency;

-- +goose Down
DROP TABLE audit;
DROP TABLE admin_keys;
DROP INDEX inbox_agents_workspace;
DROP INDEX api_keys_workspace;
DROP INDEX api_keys_id;
ALTER TABLE inbox_agents DROP COLUMN managed;
ALTER TABLE inbox_agents DROP COLUMN disabled;
ALTER TABLE inbox_agents DROP COLUMN password_hash;
ALTER TABLE bots DROP COLUMN previous_until;
ALTER TABLE bots DROP COLUMN previous_secret;
ALTER TABLE api_keys DROP COLUMN last_used_at;
ALTER TABLE api_keys DROP COLUMN managed;
ALTER TABLE api_keys DROP COLUMN bot_id;
ALTER TABLE api_keys DROP COLUMN scope;
ALTER TABLE api_keys DROP COLUMN prefix;
ALTER TABLE api_keys DROP COLUMN id;
ALTER TABLE workspaces DROP COLUMN deleted_at;
