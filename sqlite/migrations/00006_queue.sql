-- +goose Up
-- The queue: a handoff waits in its desk's queue from queued until an agent
-- takes it (taken_at, the end of its wait; 0 while nobody has), in the order
-- it entered (queued_at, then id). desk_position is the desk's own figure
-- for its place there, when the desk reports one (0: none).
ALTER TABLE handoffs ADD COLUMN taken_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN desk_position INTEGER NOT NULL DEFAULT 0;
-- Handoffs an agent took before this migration: the first reply, or the
-- join (the agent's first time when no reply came yet).
UPDATE handoffs SET taken_at = CASE WHEN active_at > 0 THEN active_at WHEN last_agent_at > 0 THEN last_agent_at ELSE queued_at END
WHERE active_at > 0 OR agent <> '{}';
CREATE INDEX handoffs_queue ON handoffs (desk_id, queued_at, id) WHERE state = 'queued' AND taken_at = 0;
CREATE INDEX handoffs_taken ON handoffs (desk_id, taken_at) WHERE taken_at > 0;

-- +goose Down
DROP INDEX handoffs_taken;
DROP INDEX handoffs_queue;
ALTER TABLE handoffs DROP COLUMN desk_position;
ALTER TABLE handoffs DROP COLUMN taken_at;
