-- +goose Up
-- An admin key's console sessions carry this number: signing out moves it
-- on, which ends every console session made with the key before, copies of
-- the cookie included.
ALTER TABLE admin_keys ADD COLUMN session_gen BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE admin_keys DROP COLUMN session_gen;
