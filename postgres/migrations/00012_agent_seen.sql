-- +goose Up
-- When an inbox agent last used the inbox (its key or a web session): the
-- agents seen lately are the ones the availability read counts as online.
ALTER TABLE inbox_agents ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE inbox_agents DROP COLUMN seen_at;
