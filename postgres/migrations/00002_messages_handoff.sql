-- +goose Up
CREATE INDEX messages_handoff ON messages (handoff_id, seq);

-- +goose Down
DROP INDEX messages_handoff;
