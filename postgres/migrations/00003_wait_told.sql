-- +goose Up
-- When the bot was told of a wait timeout: its webhook took the event, or the
-- event was written for a bot that reads the stream. The grace before the
-- handoff ends counts from here, not from when the event was written.
ALTER TABLE handoffs ADD COLUMN wait_told_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE handoffs DROP COLUMN wait_told_at;
