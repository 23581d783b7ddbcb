package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

// The control plane: what the admin API changes. Each change is one write
// transaction that also appends its audit entry, so the log holds exactly
// the changes that were made. Idempotency keys of admin requests are kept
// per admin key, under the scope adminScope returns.

type actorKey struct{}

// WithActor returns ctx naming who makes the changes in it, for the audit
// log ("admin:<key name>", "apply", "init").
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

func actorOf(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

type adminScopeKey struct{}

// WithAdmin returns ctx for a request made with admin key k: it names the
// actor and scopes the request's Idempotency-Key to the key.
func WithAdmin(ctx context.Context, k baton.AdminKey) context.Context {
	ctx = WithActor(ctx, "admin:"+k.Name)
	return context.WithValue(ctx, adminScopeKey{}, "admin:"+k.ID)
}

// adminScope is where an admin request's idempotency record is kept.
func adminScope(ctx context.Context) string {
	s, _ := ctx.Value(adminScopeKey{}).(string)
	if s == "" {
		s = "admin:"
	}
	return s
}

// IdempotencyScope is where the idempotency record of a request in ws is
// kept: the workspace, or the admin key for an admin request.
func IdempotencyScope(ctx context.Context, ws string) string {
	if s, ok := ctx.Value(adminScopeKey{}).(string); ok {
		return s
	}
	return ws
}

// AuthenticateAdmin returns the admin key presented. A workspace API key is
// refused with a message that says so.
func (e *Engine) AuthenticateAdmin(ctx context.Context, key string) (baton.AdminKey, error) {
	hash := baton.HashKey(key)
	return e.admins.get("", hash, func() (found baton.AdminKey, err error) {
		err = e.store.View(ctx, func(tx baton.Tx) (err error) {
			found, err = tx.AdminKey(hash)
			if baton.ErrorCode(err) == baton.ENOTFOUND {
				if _, kerr := tx.APIKey(hash); kerr == nil {
					return baton.Errorf(baton.EUNAUTHORIZED, "this is a workspace API key: the admin API takes an admin key")
				}
				if _, aerr := tx.InboxAgentByKey(hash); aerr == nil {
					return baton.Errorf(baton.EUNAUTHORIZED, "this is an inbox agent key: the admin API takes an admin key")
				}
				return baton.Errorf(baton.EUNAUTHORIZED, "unknown admin key")
			}
			return err
		})
		if err == nil && time.Since(found.LastUsedAt) > touchEvery {
			found.LastUsedAt = now()
			e.touch(ctx, func(tx baton.Tx) error { return tx.TouchAdminKey(hash, found.LastUsedAt) })
		}
		return found, err
	})
}

// audit appends the audit entry of one change; before and after are views
// (see the View types), nil when the object did not exist or no longer does.
func audit(ctx context.Context, tx baton.Tx, ws, action, object, id string, before, after any) error {
	entry := baton.AuditEntry{At: now(), Actor: actorOf(ctx), Action: action, Object: object, ObjectID: id,
		WorkspaceID: ws, Before: snapshot(before), After: snapshot(after)}
	return tx.AddAudit(&entry)
}

func snapshot(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// admin runs one admin change in a write transaction scoped for its
// Idempotency-Key; fn returns the id of what it created or changed.
func (e *Engine) admin(ctx context.Context, fn func(tx *wtx) (string, error)) (string, bool, error) {
	return e.write(ctx, adminScope(ctx), fn)
}

// live reads a workspace that exists and is not deleted, and in a write
// transaction pins it: a delete running at the same time waits for the
// change being made in it.
func live(tx baton.Tx, ws string) (baton.Workspace, error) {
	if err := tx.Pin(baton.Pin{WorkspaceID: ws}); baton.ErrorCode(err) == baton.ENOTFOUND {
		return baton.Workspace{}, baton.Errorf(baton.ENOTFOUND, "no workspace %q", ws)
	} else if err != nil {
		return baton.Workspace{}, err
	}
	w, err := tx.Workspace(ws)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return w, baton.Errorf(baton.ENOTFOUND, "no workspace %q", ws)
	}
	return w, err
}

// WorkspaceInput creates a workspace.
type WorkspaceInput struct {
	ID   string // optional: a new id is made
	Name string
}

// CreateWorkspace adds a workspace.
func (e *Engine) CreateWorkspace(ctx context.Context, in WorkspaceInput) (baton.Workspace, error) {
	if in.ID == "" {
		in.ID = baton.NewID("ws")
	} else if err := checkID("id", in.ID); err != nil {
		return baton.Workspace{}, err
	}
	if err := checkName("name", in.Name, true); err != nil {
		return baton.Workspace{}, err
	}
	w := baton.Workspace{ID: in.ID, Name: in.Name, CreatedAt: now()}
	id, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if err := tx.CreateWorkspace(w); baton.ErrorCode(err) == baton.ECONFLICT {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "id", Message: fmt.Sprintf("workspace %q exists or existed", w.ID), Err: err}
		} else if err != nil {
			return "", err
		}
		return w.ID, audit(ctx, tx, w.ID, "create", "workspace", w.ID, nil, ViewWorkspace(w))
	})
	if err != nil {
		return baton.Workspace{}, err
	}
	return e.Workspace(ctx, id)
}

// Workspace reads a workspace.
func (e *Engine) Workspace(ctx context.Context, id string) (w baton.Workspace, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error { w, err = live(tx, id); return err })
	return w, err
}

// Workspaces lists the workspaces.
func (e *Engine) Workspaces(ctx context.Context) (ws []baton.Workspace, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error { ws, err = tx.Workspaces(); return err })
	return ws, err
}

// RenameWorkspace changes a workspace's name.
func (e *Engine) RenameWorkspace(ctx context.Context, id, name string) (baton.Workspace, error) {
	if err := checkName("name", name, true); err != nil {
		return baton.Workspace{}, err
	}
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		w, err := live(tx, id)
		if err != nil {
			return "", err
		}
		if err := tx.RenameWorkspace(id, name); err != nil {
			return "", err
		}
		after := w
		after.Name = name
		return id, audit(ctx, tx, id, "update", "workspace", id, ViewWorkspace(w), ViewWorkspace(after))
	})
	if err != nil {
		return baton.Workspace{}, err
	}
	return e.Workspace(ctx, id)
}

// DeleteWorkspace deletes a workspace and revokes its keys. While handoffs
// are open it is refused unless force, which ends them bot_closed (their
// close still reaches the desk). It returns how many it ended.
func (e *Engine) DeleteWorkspace(ctx context.Context, id string, force bool) (int, error) {
	var ended int
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		w, err := tx.Workspace(id)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return "", baton.Errorf(baton.ENOTFOUND, "no workspace %q", id)
		} else if err != nil {
			return "", err
		}
		// Deleted first, so that a handoff being made in it commits before
		// the count below, which then sees it, or finds the workspace gone.
		if err := tx.DeleteWorkspace(id, now()); err != nil {
			return "", err
		}
		open, err := tx.OpenHandoffs(baton.OpenQuery{WorkspaceID: id})
		if err != nil {
			return "", err
		}
		if len(open) > 0 && !force {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "force", Message: fmt.Sprintf("the workspace has %d open handoffs; delete with force=true to end them bot_closed", len(open))}
		}
		tx.c.Workspace = id
		for _, h := range open {
			l, err := e.load(tx, id, h.ID)
			if err != nil {
				return "", err
			}
			if err := e.end(tx, &l, baton.BotClosed, true); err != nil {
				return "", err
			}
		}
		ended = len(open)
		return id, audit(ctx, tx, id, "delete", "workspace", id, ViewWorkspace(w), nil)
	})
	e.forget()
	return ended, err
}

// forget drops every cached key, so that a revocation made here takes
// effect at once on this instance (others follow within keyTTL).
func (e *Engine) forget() {
	e.keys.clear()
	e.admins.clear()
}

// KeyInput creates a workspace API key.
type KeyInput struct {
	Name  string
	Scope baton.KeyScope // default full (full, read, bot or mcp)
	BotID string         // optional: the key reaches only this bot
}

// CreateKey makes a workspace API key. The secret is in the answer only:
// the store keeps its hash. A replayed request answers the key without it.
func (e *Engine) CreateKey(ctx context.Context, ws string, in KeyInput) (baton.APIKey, string, error) {
	if err := checkName("name", in.Name, true); err != nil {
		return baton.APIKey{}, "", err
	}
	switch in.Scope {
	case "":
		in.Scope = baton.ScopeFull
	case baton.ScopeFull, baton.ScopeRead, baton.ScopeBot, baton.ScopeMCP:
	default:
		return baton.APIKey{}, "", baton.FieldErrorf("scope", "must be %q, %q, %q or %q", baton.ScopeFull, baton.ScopeRead, baton.ScopeBot, baton.ScopeMCP)
	}
	secret := baton.NewKey(baton.PrefixAPIKey)
	k := baton.APIKey{ID: baton.NewID("key"), Hash: baton.HashKey(secret), WorkspaceID: ws, Name: in.Name,
		Prefix: baton.KeyPrefix(secret), Scope: in.Scope, BotID: in.BotID, CreatedAt: now()}
	id, replay, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		if k.BotID != "" {
			if err := tx.Pin(baton.Pin{WorkspaceID: ws, BotID: k.BotID}); baton.ErrorCode(err) == baton.ENOTFOUND {
				return "", &baton.Error{Code: baton.EINVALID, Field: "bot_id", Message: fmt.Sprintf("no bot %q in this workspace", k.BotID), Err: err}
			} else if err != nil {
				return "", err
			}
		}
		if err := tx.PutAPIKey(k); err != nil {
			return "", err
		}
		return k.ID, audit(ctx, tx, ws, "create", "key", k.ID, nil, ViewKey(k))
	})
	if err != nil {
		return baton.APIKey{}, "", err
	}
	if replay {
		secret = ""
	}
	got, err := e.key(ctx, ws, id)
	return got, secret, err
}

func (e *Engine) key(ctx context.Context, ws, id string) (baton.APIKey, error) {
	keys, err := e.Keys(ctx, ws)
	if err != nil {
		return baton.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return baton.APIKey{}, baton.Errorf(baton.ENOTFOUND, "no key %q in this workspace", id)
}

// Keys lists a workspace's API keys.
func (e *Engine) Keys(ctx context.Context, ws string) (keys []baton.APIKey, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := live(tx, ws); err != nil {
			return err
		}
		keys, err = tx.APIKeys(ws)
		return err
	})
	return keys, err
}

// RevokeKey revokes a workspace API key: refused at once here, within
// keyTTL on every other instance.
func (e *Engine) RevokeKey(ctx context.Context, ws, id string) error {
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		keys, err := tx.APIKeys(ws)
		if err != nil {
			return "", err
		}
		i := slices.IndexFunc(keys, func(k baton.APIKey) bool { return k.ID == id })
		if i < 0 {
			return "", baton.Errorf(baton.ENOTFOUND, "no key %q in this workspace", id)
		}
		if err := tx.DeleteAPIKey(ws, id); err != nil {
			return "", err
		}
		return id, audit(ctx, tx, ws, "revoke", "key", id, ViewKey(keys[i]), nil)
	})
	e.forget()
	return err
}

// Audit lists a page of the audit log.
func (e *Engine) Audit(ctx context.Context, p baton.AuditPage) (entries []baton.AuditEntry, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error { entries, err = tx.Audit(p); return err })
	return entries, err
}
