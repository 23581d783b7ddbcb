-- +goose Up
-- The dashboard's history of desks: one row each time a desk's status
-- changes (kind 'status', with the new status and its error) and each time
-- a call to it fails (kind 'failure', with the call and its error). Rows
-- older than 90 days are pruned as new ones are written, except each
-- desk's latest status change before then, which says what its status was
-- at the start of any range the dashboard covers.
CREATE TABLE desk_history (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	desk_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT '',
	op TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT '',
	at BIGINT NOT NULL
);
CREATE INDEX desk_history_ws ON desk_history (workspace_id, kind, at);
CREATE INDEX desk_history_desk ON desk_history (desk_id, kind, at);
-- The status each desk has now is where its history starts.
INSERT INTO desk_history (workspace_id, desk_id, kind, status, error, at)
	SELECT workspace_id, id, 'status', status, last_error, checked_at FROM desks WHERE status <> '';
-- The dashboard counts a workspace's handoffs by the time they were made.
CREATE INDEX handoffs_created ON handoffs (workspace_id, created_at);

-- +goose Down
DROP INDEX handoffs_created;
DROP TABLE desk_history;
