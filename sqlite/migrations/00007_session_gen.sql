-- +goose Up
-- An inbox agent's web sessions carry this number: signing out, being
-- disabled or a new password moves it on, which ends every session made
-- before, for good (a re-enabled agent's old cookies stay dead).
ALTER TABLE inbox_agents ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE inbox_agents DROP COLUMN session_gen;
