-- +goose Up
-- Until when the agent put the handoff aside (Intercom's snooze): its
-- timers count from then, not from the last message.
ALTER TABLE handoffs ADD COLUMN paused_until INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE handoffs DROP COLUMN paused_until;
