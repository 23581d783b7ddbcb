-- Baton's schema. Times are unix microseconds in UTC (0 = unset); JSON is
-- stored as text; settings, webhook_secret and desk_data are AES-256-GCM sealed.

-- +goose Up
CREATE TABLE workspaces (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL DEFAULT '',
	event_seq BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
	hash TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	name TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE bots (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	name TEXT NOT NULL DEFAULT '',
	webhook_url TEXT NOT NULL DEFAULT '',
	webhook_secret BYTEA,
	desk_id TEXT NOT NULL DEFAULT '',
	policy TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX bots_workspace ON bots (workspace_id, created_at);

CREATE TABLE desks (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	name TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL DEFAULT '',
	settings BYTEA,
	policy TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT '',
	last_error TEXT NOT NULL DEFAULT '',
	checked_at BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX desks_workspace ON desks (workspace_id, created_at);

CREATE TABLE inbox_agents (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	desk_id TEXT NOT NULL DEFAULT '',
	name TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT '',
	key_hash TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX inbox_agents_key ON inbox_agents (key_hash) WHERE key_hash <> '';

CREATE TABLE conversations (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	bot_id TEXT NOT NULL,
	external_id TEXT NOT NULL,
	customer TEXT NOT NULL DEFAULT '{}',
	owner TEXT NOT NULL DEFAULT '',
	epoch BIGINT NOT NULL DEFAULT 0,
	handoff_id TEXT NOT NULL DEFAULT '',
	msg_seq BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (workspace_id, bot_id, external_id)
);

CREATE TABLE handoffs (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	conversation_id TEXT NOT NULL DEFAULT '',
	external_id TEXT NOT NULL DEFAULT '',
	bot_id TEXT NOT NULL DEFAULT '',
	desk_id TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL DEFAULT '',
	end_reason TEXT NOT NULL DEFAULT '',
	epoch BIGINT NOT NULL DEFAULT 0,
	desk_ref TEXT NOT NULL DEFAULT '',
	desk_data BYTEA,
	agent TEXT NOT NULL DEFAULT '{}',
	routing TEXT NOT NULL DEFAULT '',
	decision TEXT NOT NULL DEFAULT '',
	question TEXT NOT NULL DEFAULT '',
	needs_email BOOLEAN NOT NULL DEFAULT FALSE,
	reply TEXT NOT NULL DEFAULT '',
	summary TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL DEFAULT 0,
	queued_at BIGINT NOT NULL DEFAULT 0,
	active_at BIGINT NOT NULL DEFAULT 0,
	ended_at BIGINT NOT NULL DEFAULT 0,
	waiting_since BIGINT NOT NULL DEFAULT 0,
	wait_notified_at BIGINT NOT NULL DEFAULT 0,
	last_customer_at BIGINT NOT NULL DEFAULT 0,
	last_agent_at BIGINT NOT NULL DEFAULT 0,
	last_message_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX handoffs_conversation ON handoffs (conversation_id, created_at);
CREATE INDEX handoffs_ref ON handoffs (desk_id, desk_ref);
CREATE INDEX handoffs_state ON handoffs (desk_id, state, created_at);
CREATE INDEX handoffs_count ON handoffs (state, end_reason);

CREATE TABLE messages (
	id TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	handoff_id TEXT NOT NULL DEFAULT '',
	seq BIGINT NOT NULL,
	author TEXT NOT NULL DEFAULT '',
	agent_name TEXT NOT NULL DEFAULT '',
	text TEXT NOT NULL DEFAULT '',
	attachments TEXT NOT NULL DEFAULT '',
	epoch BIGINT NOT NULL DEFAULT 0,
	late BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (conversation_id, seq)
);

CREATE TABLE events (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	bot_id TEXT NOT NULL DEFAULT '',
	seq BIGINT NOT NULL,
	type TEXT NOT NULL DEFAULT '',
	handoff_id TEXT NOT NULL DEFAULT '',
	conversation_id TEXT NOT NULL DEFAULT '',
	epoch BIGINT NOT NULL DEFAULT 0,
	data TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (workspace_id, seq)
);
CREATE INDEX events_bot ON events (workspace_id, bot_id, seq);

-- An identity: an id is never reused, so a stale worker's FinishJob(id)
-- cannot hit a newer job.
CREATE TABLE jobs (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind TEXT NOT NULL,
	lane TEXT NOT NULL DEFAULT '',
	key TEXT UNIQUE,
	handoff_id TEXT NOT NULL DEFAULT '',
	run_at BIGINT NOT NULL,
	locked_until BIGINT NOT NULL DEFAULT 0,
	head BOOLEAN NOT NULL DEFAULT TRUE,
	attempts INTEGER NOT NULL DEFAULT 0,
	payload BYTEA NOT NULL DEFAULT '',
	last_error TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL DEFAULT 0
);
-- head marks the job a lane may run now: the oldest of its lane, or any job
-- with no lane. Only heads are ever claimed, so the claim reads this index
-- however long the queues behind the heads grow.
CREATE INDEX jobs_ready ON jobs (run_at, id) WHERE head;
CREATE INDEX jobs_lane ON jobs (lane, id);
-- Only held jobs: NextJobAt finds the earliest lease end here.
CREATE INDEX jobs_held ON jobs (locked_until) WHERE locked_until > 0;

CREATE TABLE desk_events (
	desk_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	seen_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (desk_id, event_id)
);
CREATE INDEX desk_events_seen ON desk_events (seen_at);

CREATE TABLE idempotency (
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	key TEXT NOT NULL,
	request TEXT NOT NULL DEFAULT '',
	ref TEXT NOT NULL DEFAULT '',
	status INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (workspace_id, key)
);

-- +goose Down
DROP TABLE idempotency;
DROP TABLE desk_events;
DROP TABLE jobs;
DROP TABLE events;
DROP TABLE messages;
DROP TABLE handoffs;
DROP TABLE conversations;
DROP TABLE inbox_agents;
DROP TABLE desks;
DROP TABLE bots;
DROP TABLE api_keys;
DROP TABLE workspaces;
