package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/password"
)

// ApplyParams say how to apply a file.
type ApplyParams struct {
	// DryRun makes the whole apply in a transaction that is then rolled
	// back: the plan is exactly what applying would do, and nothing is
	// written.
	DryRun bool
	// Actor names who applies in the audit log (default "apply").
	Actor string
	// Secrets names each desk kind's secret settings, masked in the audit
	// log like those whose names say they are secrets (registry.Secrets).
	Secrets engine.SecretSettings
}

// ActorApply is the audit log's actor of an apply unless ApplyParams say
// otherwise.
const ActorApply = "apply"

// errRace says another instance created a workspace while this one was
// creating it too; applying again finds it. It wraps the *Error to report
// when applying again does not help: the id is a deleted workspace's.
type errRace struct{ err *Error }

func (e errRace) Error() string { return e.err.Error() }

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

// Apply makes the store match the file, for what the file declares, in one
// transaction, and returns what it changed:
//
//   - the workspaces, desks, bots, API keys, inbox agents and admin keys the
//     file names are created, or updated where they differ from it;
//     existing rows keep their creation time and what the file does not
//     declare (desk statuses, a bot's previous secret, an agent's disabled
//     flag, a key's scope and last use);
//   - the API keys, inbox agents and admin keys an apply created are
//     Managed: one the file no longer lists is removed. Those created
//     through the admin API are not managed and never removed;
//   - workspaces, desks and bots the file no longer names are left as they
//     are (delete them through the admin API);
//   - admin keys are managed only by a file with an admin_keys list (an
//     empty list removes the managed ones); without one they are left.
//
// Every change is recorded in the audit log under p.Actor, with the object
// before and after, secrets masked. Instances starting together on one
// database may all apply the same file.
func (f *File) Apply(ctx context.Context, store baton.Store, p ApplyParams) (Plan, error) {
	if p.Actor == "" {
		p.Actor = ActorApply
	}
	hashes, err := f.passwordHashes(ctx, store)
	if err != nil {
		return Plan{}, fmt.Errorf("reading the inbox agents: %w", err)
	}
	for try := 0; ; try++ {
		a := &applier{f: f, actor: p.Actor, secrets: p.Secrets, now: baton.Now(), hashes: hashes}
		err := store.Tx(ctx, func(tx baton.Tx) error {
			a.tx = tx
			if err := a.apply(); err != nil {
				return err
			}
			if p.DryRun {
				return errDryRun
			}
			return nil
		})
		var race errRace
		switch {
		case errors.Is(err, errDryRun):
			a.plan.DryRun = true
			return a.plan, nil
		case errors.As(err, &race) && try < 2:
			continue
		case errors.As(err, &race):
			return Plan{}, race.err
		case err != nil:
			return Plan{}, err
		}
		return a.plan, nil
	}
}

// passwordHashes returns, for every agent of the file with a password, the
// hash to store: the stored one when it is of the file's password, else a
// new one. Hashing and checking cost tens of milliseconds each, so they are
// done here, outside the write transaction.
func (f *File) passwordHashes(ctx context.Context, store baton.Store) (map[string]string, error) {
	stored := map[string]string{}
	err := store.View(ctx, func(tx baton.Tx) error {
		for _, w := range f.Workspaces {
			for _, a := range w.InboxAgents {
				if a.Password == "" {
					continue
				}
				old, err := tx.InboxAgent(w.ID, a.ID)
				if err == nil {
					stored[a.ID] = old.PasswordHash
				} else if baton.ErrorCode(err) != baton.ENOTFOUND {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	hashes := map[string]string{}
	for _, w := range f.Workspaces {
		for _, a := range w.InboxAgents {
			if a.Password == "" {
				continue
			}
			if h := stored[a.ID]; h != "" {
				if ok, _ := password.Check(a.Password, h); ok {
					hashes[a.ID] = h
					continue
				}
			}
			hashes[a.ID] = password.Hash(a.Password)
		}
	}
	return hashes, nil
}

// applier makes one attempt at applying a file in one transaction.
type applier struct {
	f       *File
	tx      baton.Tx
	actor   string
	secrets engine.SecretSettings
	now     time.Time
	hashes  map[string]string // agent id → the password hash to store
	plan    Plan
}

// record adds c to the plan and its entry to the audit log, with the
// object before and after (nil for none; see AuditJSON).
func (a *applier) record(c Change, before, after any) error {
	a.plan.Changes = append(a.plan.Changes, c)
	e := &baton.AuditEntry{At: a.now, Actor: a.actor, Action: auditAction(c), Object: string(c.Object),
		ObjectID: c.ID, WorkspaceID: c.WorkspaceID}
	if before != nil {
		e.Before = AuditJSON(before, a.secrets)
	}
	if after != nil {
		e.After = AuditJSON(after, a.secrets)
	}
	if err := a.tx.AddAudit(e); err != nil {
		return fmt.Errorf("recording the audit entry of %s: %w", c, err)
	}
	return nil
}

// auditAction is the audit log's word for c: a key that is deleted is
// revoked.
func auditAction(c Change) string {
	if c.Action == Delete && (c.Object == ObjectKey || c.Object == ObjectAdminKey) {
		return "revoke"
	}
	return string(c.Action)
}

func (a *applier) apply() error {
	for i, w := range a.f.Workspaces {
		p := fmt.Sprintf("workspaces[%d]", i)
		for _, step := range []func(string, Workspace) error{a.workspace, a.apiKeys, a.desks, a.bots, a.agents} {
			if err := step(p, w); err != nil {
				return err
			}
		}
	}
	return a.adminKeys()
}

func (a *applier) workspace(p string, w Workspace) error {
	old, err := a.tx.Workspace(w.ID)
	found, err := a.lookup(p, err)
	if err != nil {
		return err
	}
	ws := old
	if !found {
		ws = baton.Workspace{ID: w.ID, CreatedAt: a.now}
	}
	ws.Name = w.Name
	if ws.Name == "" {
		ws.Name = w.ID
	}
	c := Change{Object: ObjectWorkspace, WorkspaceID: w.ID, ID: w.ID}
	return a.put(p, c, found, changed(diff{"name", old.Name == ws.Name}), old, ws, func() error {
		if found {
			return a.tx.RenameWorkspace(w.ID, ws.Name)
		}
		err := a.tx.CreateWorkspace(ws)
		if baton.ErrorCode(err) == baton.ECONFLICT {
			// Another instance creating it too, or a deleted workspace
			// holding the id: applying again tells which.
			e := a.f.errorf(p+".id", "%q is the id of a deleted workspace; a deleted workspace's id is not used again", w.ID)
			e.Err = err
			return errRace{e}
		}
		return err
	})
}

// diff is one field an object has in the file, and whether the store has
// it the same.
type diff struct {
	name string
	same bool
}

// changed names the fields that differ.
func changed(fields ...diff) []string {
	var names []string
	for _, f := range fields {
		if !f.same {
			names = append(names, f.name)
		}
	}
	return names
}

// put writes an object the file names with write, unless the store has it
// as the file says already (found, no fields changed), and records c: a
// creation when it was not found, else an update of fields. Errors are
// placed at path.
func (a *applier) put(path string, c Change, found bool, fields []string, old, new any, write func() error) error {
	if found && len(fields) == 0 {
		return nil
	}
	if err := write(); err != nil {
		return a.f.stored(path, err)
	}
	c.Action = Create
	var before any
	if found {
		c.Action, c.Kind, c.Fields, before = Update, "", fields, old
	}
	return a.record(c, before, new)
}

// remove deletes an object with del and records c as its deletion.
func (a *applier) remove(path string, c Change, old any, del func() error) error {
	if err := del(); err != nil {
		return a.f.stored(path, err)
	}
	c.Action = Delete
	return a.record(c, old, nil)
}

// lookup tells whether err, from reading an object, found it; another error
// than ENOTFOUND is placed at path.
func (a *applier) lookup(path string, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return false, nil
	}
	return false, a.f.stored(path, err)
}

func (a *applier) apiKeys(p string, w Workspace) error {
	listed := map[string]bool{}
	for j, k := range w.APIKeys {
		kp := fmt.Sprintf("%s.api_keys[%d].key", p, j)
		h := baton.HashKey(k.Key)
		listed[h] = true
		if err := a.notAdminKey(kp, h); err != nil {
			return err
		}
		old, err := a.tx.APIKey(h)
		found, err := a.lookup(kp, err)
		if err != nil {
			return err
		}
		if found && old.WorkspaceID != w.ID {
			if !old.Managed {
				return a.f.errorf(kp, "is an API key of workspace %q made through the admin API", old.WorkspaceID)
			}
			// An earlier file gave the key to another workspace: it moves.
			c := Change{Object: ObjectKey, WorkspaceID: old.WorkspaceID, ID: old.ID, Name: old.Name}
			if err := a.remove(kp, c, old, func() error { return a.tx.DeleteAPIKey(old.WorkspaceID, old.ID) }); err != nil {
				return err
			}
			found = false
		}
		key := old // what the file does not declare stays: the scope, the last use
		if !found {
			key = baton.APIKey{ID: baton.KeyID(h), Hash: h, WorkspaceID: w.ID, Prefix: baton.KeyPrefix(k.Key),
				Scope: baton.ScopeFull, Managed: true, CreatedAt: a.now}
		}
		key.Name = k.Name
		c := Change{Object: ObjectKey, WorkspaceID: w.ID, ID: key.ID, Name: key.Name}
		if err := a.put(kp, c, found, changed(diff{"name", old.Name == key.Name}), old, key, func() error { return a.tx.PutAPIKey(key) }); err != nil {
			return err
		}
	}
	keys, err := a.tx.APIKeys(w.ID)
	if err != nil {
		return a.f.stored(p+".api_keys", err)
	}
	for _, k := range keys {
		if k.Managed && !listed[k.Hash] {
			c := Change{Object: ObjectKey, WorkspaceID: w.ID, ID: k.ID, Name: k.Name}
			if err := a.remove(p+".api_keys", c, k, func() error { return a.tx.DeleteAPIKey(w.ID, k.ID) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// notAdminKey refuses an API key whose hash is an admin key's: each kind
// works on its own API only, so one secret cannot be both.
func (a *applier) notAdminKey(path, hash string) error {
	_, err := a.tx.AdminKey(hash)
	if found, err := a.lookup(path, err); err != nil || !found {
		return err
	}
	return a.f.errorf(path, "is an admin key; an API key must be another secret")
}

func (a *applier) desks(p string, w Workspace) error {
	for j, d := range w.Desks {
		dp := fmt.Sprintf("%s.desks[%d]", p, j)
		old, err := a.tx.Desk(w.ID, d.ID)
		found, err := a.lookup(dp, err)
		if err != nil {
			return err
		}
		dc := d.config(w.ID)
		dc.CreatedAt = a.now
		if found {
			// What the file does not declare stays: status, creation time.
			dc.CreatedAt, dc.Status, dc.LastError, dc.CheckedAt = old.CreatedAt, old.Status, old.LastError, old.CheckedAt
		}
		c := Change{Object: ObjectDesk, WorkspaceID: w.ID, ID: d.ID, Kind: dc.Kind}
		if err := a.put(dp+".id", c, found, deskChanges(old, dc), old, dc, func() error { return a.tx.PutDesk(dc) }); err != nil {
			return err
		}
	}
	return nil
}

// deskChanges names the fields of a desk that differ, settings one by one.
func deskChanges(old, new baton.DeskConfig) []string {
	fields := changed(diff{"name", old.Name == new.Name}, diff{"kind", old.Kind == new.Kind})
	keys := maps.Clone(old.Settings)
	if keys == nil {
		keys = map[string]string{}
	}
	maps.Copy(keys, new.Settings)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if old.Settings[k] != new.Settings[k] { // absent is ""
			fields = append(fields, "settings."+k)
		}
	}
	return append(fields, changed(diff{"policy", samePolicy(old.Policy, new.Policy)})...)
}

// samePolicy compares policies as the store keeps them, in JSON.
func samePolicy(a, b *baton.Policy) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func (a *applier) bots(p string, w Workspace) error {
	for j, b := range w.Bots {
		bp := fmt.Sprintf("%s.bots[%d]", p, j)
		old, err := a.tx.Bot(w.ID, b.ID)
		found, err := a.lookup(bp, err)
		if err != nil {
			return err
		}
		bot := old // what the file does not declare stays: the previous secret, the creation time
		if !found {
			bot = baton.Bot{ID: b.ID, WorkspaceID: w.ID, CreatedAt: a.now}
		}
		bot.Name, bot.WebhookURL, bot.WebhookSecret, bot.DeskID, bot.Policy = b.Name, b.WebhookURL, b.WebhookSecret, b.Desk, b.Policy
		if bot.Name == "" {
			bot.Name = b.ID
		}
		fields := changed(
			diff{"name", old.Name == bot.Name},
			diff{"webhook_url", old.WebhookURL == bot.WebhookURL},
			diff{"webhook_secret", old.WebhookSecret == bot.WebhookSecret},
			diff{"desk", old.DeskID == bot.DeskID},
			diff{"policy", samePolicy(old.Policy, bot.Policy)},
		)
		c := Change{Object: ObjectBot, WorkspaceID: w.ID, ID: b.ID}
		if err := a.put(bp+".id", c, found, fields, old, bot, func() error { return a.tx.PutBot(bot) }); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) agents(p string, w Workspace) error {
	listed := map[string]bool{}
	for j, ag := range w.InboxAgents {
		ap := fmt.Sprintf("%s.inbox_agents[%d]", p, j)
		listed[ag.ID] = true
		old, err := a.tx.InboxAgent(w.ID, ag.ID)
		found, err := a.lookup(ap, err)
		if err != nil {
			return err
		}
		agent := old // what the file does not declare stays: disabled, managed, the creation time
		if !found {
			agent = baton.InboxAgent{ID: ag.ID, WorkspaceID: w.ID, Managed: true, CreatedAt: a.now}
		}
		agent.DeskID, agent.Name, agent.Email, agent.KeyHash, agent.PasswordHash = ag.Desk, ag.Name, ag.Email, "", ""
		if ag.Key != "" {
			agent.KeyHash = baton.HashKey(ag.Key)
		}
		if ag.Password != "" {
			agent.PasswordHash = a.hashes[ag.ID]
		}
		fields := changed(
			diff{"name", old.Name == agent.Name},
			diff{"email", old.Email == agent.Email},
			diff{"desk", old.DeskID == agent.DeskID},
			diff{"key", old.KeyHash == agent.KeyHash},
			diff{"password", old.PasswordHash == agent.PasswordHash},
		)
		c := Change{Object: ObjectAgent, WorkspaceID: w.ID, ID: ag.ID}
		if err := a.put(ap+".id", c, found, fields, old, agent, func() error { return a.tx.PutInboxAgent(agent) }); err != nil {
			return err
		}
	}
	agents, err := a.tx.InboxAgents(w.ID)
	if err != nil {
		return a.f.stored(p+".inbox_agents", err)
	}
	for _, ag := range agents {
		if ag.Managed && !listed[ag.ID] {
			c := Change{Object: ObjectAgent, WorkspaceID: w.ID, ID: ag.ID}
			if err := a.remove(p+".inbox_agents", c, ag, func() error { return a.tx.DeleteInboxAgent(w.ID, ag.ID) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// adminKeys applies the file's admin_keys, if it has the list.
func (a *applier) adminKeys() error {
	if a.f.AdminKeys == nil {
		return nil
	}
	listed := map[string]bool{}
	for i, k := range a.f.AdminKeys {
		kp := fmt.Sprintf("admin_keys[%d].key", i)
		h := baton.HashKey(k.Key)
		listed[h] = true
		_, err := a.tx.APIKey(h)
		if isAPIKey, err := a.lookup(kp, err); err != nil {
			return err
		} else if isAPIKey {
			return a.f.errorf(kp, "is an API key of a workspace; an admin key must be another secret")
		}
		old, err := a.tx.AdminKey(h)
		found, err := a.lookup(kp, err)
		if err != nil {
			return err
		}
		key := old // what the file does not declare stays: the last use
		if !found {
			key = baton.AdminKey{ID: baton.KeyID(h), Hash: h, Prefix: baton.KeyPrefix(k.Key), Managed: true, CreatedAt: a.now}
		}
		key.Name = k.Name
		c := Change{Object: ObjectAdminKey, ID: key.ID, Name: key.Name}
		if err := a.put(kp, c, found, changed(diff{"name", old.Name == key.Name}), old, key, func() error { return a.tx.PutAdminKey(key) }); err != nil {
			return err
		}
	}
	keys, err := a.tx.AdminKeys()
	if err != nil {
		return a.f.stored("admin_keys", err)
	}
	for _, k := range keys {
		if k.Managed && !listed[k.Hash] {
			c := Change{Object: ObjectAdminKey, ID: k.ID, Name: k.Name}
			if err := a.remove("admin_keys", c, k, func() error { return a.tx.DeleteAdminKey(k.ID) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// stored explains a store error met while applying the value at path.
func (f *File) stored(path string, err error) error {
	if baton.ErrorCode(err) == baton.ECONFLICT {
		e := f.errorf(path, "is taken by another workspace (%s)", baton.ErrorMessage(err))
		e.Err = err
		return e
	}
	e := f.errorf(path, "saving: %v", err)
	e.Err = err
	return e
}
