package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
)

// actorInit is the audit log's actor of baton admin init.
const actorInit = "init"

// adminInit creates an admin key and prints its secret, once. It refuses
// when the store has admin keys already, unless force.
func adminInit(ctx context.Context, e env, o fileOpts, log *slog.Logger, stdout io.Writer) error {
	name := strings.TrimSpace(o.name)
	if name == "" {
		return fmt.Errorf("admin init: --name must not be empty; try: baton admin init --help")
	}
	store, _, err := openStore(ctx, e, log)
	if err != nil {
		return err
	}
	defer store.Close()
	secret := baton.NewKey(baton.PrefixAdminKey)
	h := baton.HashKey(secret)
	key := baton.AdminKey{ID: baton.KeyID(h), Hash: h, Name: name, Prefix: baton.KeyPrefix(secret), CreatedAt: baton.Now()}
	err = store.Tx(ctx, func(tx baton.Tx) error {
		keys, err := tx.AdminKeys()
		if err != nil {
			return err
		}
		if len(keys) > 0 && !o.force {
			names := make([]string, len(keys))
			for i, k := range keys {
				names[i] = fmt.Sprintf("%q", k.Name)
			}
			return fmt.Errorf("admin init: %s has %s already (%s); use one to make others through the admin API, or add one anyway with --force",
				e.where(), count(len(keys), "admin key"), strings.Join(names, ", "))
		}
		if err := tx.PutAdminKey(key); err != nil {
			return err
		}
		return tx.AddAudit(&baton.AuditEntry{At: key.CreatedAt, Actor: actorInit, Action: string(config.Create),
			Object: string(config.ObjectAdminKey), ObjectID: key.ID, After: config.AuditJSON(key, nil)})
	})
	if err != nil {
		return err
	}
	log.Info("admin key created", "id", key.ID, "name", key.Name, "db", e.where())
	fmt.Fprintf(stdout, "%s\nadmin key %q created (%s) in %s: store it now; it is not shown again.\n"+
		"It authenticates the admin API: Authorization: Bearer <key> on /v1/admin/...\n", secret, key.Name, key.ID, e.where())
	return nil
}

// warnNoWorkspace warns, through the log, when the store has no workspace:
// nothing can use Baton until one is made.
func warnNoWorkspace(ctx context.Context, store baton.Store, log *slog.Logger) error {
	var n int
	err := store.View(ctx, func(tx baton.Tx) error {
		ws, err := tx.Workspaces()
		n = len(ws)
		return err
	})
	if err != nil {
		return fmt.Errorf("listing the workspaces: %w", err)
	}
	if n == 0 {
		log.Warn("the store has no workspace, so no bot can use this Baton yet: create an admin key with " +
			"`baton admin init` and a workspace with the admin API (POST /v1/admin/workspaces), " +
			"or declare workspaces in a YAML file (baton serve --config baton.yaml, or baton apply -f baton.yaml)")
	}
	return nil
}
