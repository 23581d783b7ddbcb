package engine

import (
	"context"

	"github.com/batonhq/baton"
)

// AdminKeyByID reads an admin key by its id, straight from the store (no
// cache): the web console re-reads its session's key on every request, so a
// revoked key's sessions end at once. ENOTFOUND when there is none.
func (e *Engine) AdminKeyByID(ctx context.Context, id string) (baton.AdminKey, error) {
	var found baton.AdminKey
	err := e.store.View(ctx, func(tx baton.Tx) error {
		keys, err := tx.AdminKeys()
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID == id {
				found = k
				return nil
			}
		}
		return baton.Errorf(baton.ENOTFOUND, "no admin key %s", id)
	})
	return found, err
}

// EndConsoleSessions ends every console session made with the admin key
// id: their cookies carry its old session generation.
func (e *Engine) EndConsoleSessions(ctx context.Context, id string) error {
	return e.store.Tx(ctx, func(tx baton.Tx) error { return tx.EndAdminSessions(id) })
}
