package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/password"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
)

// eachStore runs fn on a fresh SQLite store and a fresh PostgreSQL one.
func eachStore(t *testing.T, fn func(t *testing.T, store baton.Store)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var store baton.Store
			var err error
			if name == "sqlite" {
				store, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"), make([]byte, 32))
			} else {
				store, err = postgres.Open(t.Context(), pgtest.Migrated(t), make([]byte, 32))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			fn(t, store)
		})
	}
}

// apply parses doc with env and applies it, failing the test on an error.
func apply(t *testing.T, store baton.Store, doc string, env map[string]string, p ApplyParams) Plan {
	t.Helper()
	f, err := Parse(strings.NewReader(doc), params(env))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := f.Apply(t.Context(), store, p)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// lines renders a plan's changes.
func lines(p Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.String())
	}
	return out
}

func audit(t *testing.T, store baton.Store) []baton.AuditEntry {
	t.Helper()
	var entries []baton.AuditEntry
	err := store.View(t.Context(), func(tx baton.Tx) (err error) {
		entries, err = tx.Audit(baton.AuditPage{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// goodPlan is what applying good to an empty store does.
var goodPlan = []string{
	"+ workspace acme",
	"+ key acme/prod",
	"+ desk acme/support (webhook)",
	"+ desk acme/inbox (inbox)",
	"+ bot acme/helpbot",
	"+ agent acme/ana",
	"+ admin_key ops",
}

// TestApplyPlan applies a file, applies it again, then a changed one, on
// both stores: the plans say what was created, changed and removed and
// nothing else, a dry run's plan is the one applying then makes and a dry
// run writes nothing, and every change has its audit entry, with no secret
// in it.
func TestApplyPlan(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store baton.Store) {
		dry := apply(t, store, good, configEnv, ApplyParams{DryRun: true})
		if got := lines(dry); !dry.DryRun || !slices.Equal(got, goodPlan) {
			t.Errorf("dry run: %v %q, want %q", dry.DryRun, got, goodPlan)
		}
		if n := len(audit(t, store)); n != 0 {
			t.Errorf("the dry run wrote %d audit entries", n)
		}
		err := store.View(t.Context(), func(tx baton.Tx) error {
			if ws, err := tx.Workspaces(); err != nil || len(ws) != 0 {
				return fmt.Errorf("the dry run left workspaces %v (%v)", ws, err)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}

		plan := apply(t, store, good, configEnv, ApplyParams{})
		if got := lines(plan); plan.DryRun || !slices.Equal(got, goodPlan) {
			t.Errorf("apply: %q, want %q", got, goodPlan)
		}
		if got, want := plan.Summary(), "apply: 7 created, 0 changed, 0 removed"; got != want {
			t.Errorf("Summary() = %q, want %q", got, want)
		}
		if again := apply(t, store, good, configEnv, ApplyParams{}); len(again.Changes) != 0 || again.Summary() != "apply: no changes" {
			t.Errorf("applying the same file again: %q", lines(again))
		}

		// A changed file: a bot's URL and policy, a desk's secret, an
		// agent's password, a rotated API key, a renamed admin key.
		changed := strings.Replace(good, `webhook_url: "https://bot.acme.example/baton"`, `webhook_url: "https://bot2.acme.example/baton", policy: {wait_timeout: 90s}`, 1)
		changed = strings.Replace(changed, "{name: ops,", "{name: operations,", 1)
		env := maps.Clone(configEnv)
		env["ACME_DESK_SECRET"], env["ANA_PASSWORD"], env["ACME_API_KEY"] = "another-desk-secret-0123456789", "another long password", "acme-api-key-0002"
		want := []string{
			"+ key acme/prod",
			"- key acme/prod",
			"~ desk acme/support: settings.secret",
			"~ bot acme/helpbot: webhook_url, policy",
			"~ agent acme/ana: password",
			"~ admin_key operations: name",
		}
		dry = apply(t, store, changed, env, ApplyParams{DryRun: true})
		if got := lines(dry); !slices.Equal(got, want) || dry.Summary() != "dry run: 1 to create, 4 to change, 1 to remove; nothing was written" {
			t.Errorf("dry run of the changed file: %q (%s), want %q", got, dry.Summary(), want)
		}
		before := len(goodPlan)
		if n := len(audit(t, store)); n != before {
			t.Fatalf("%d audit entries after %d changes", n, before)
		}
		plan = apply(t, store, changed, env, ApplyParams{Actor: "apply:test", Secrets: registry.Secrets})
		if got := lines(plan); !slices.Equal(got, want) {
			t.Errorf("applying the changed file: %q, want %q", got, want)
		}
		entries, changes := audit(t, store), slices.Concat(goodPlan, want)
		if len(entries) != len(changes) {
			t.Fatalf("%d audit entries after %d changes", len(entries), len(changes))
		}
		for i, e := range entries {
			c := changes[i]
			if e.Actor != ActorApply && i < before || e.Actor != "apply:test" && i >= before {
				t.Errorf("entry %d (%s): actor %q", i, c, e.Actor)
			}
			action := map[byte]string{'+': "create", '~': "update", '-': "delete"}[c[0]]
			if strings.Contains(c, " key ") && action == "delete" {
				action = "revoke"
			}
			object := strings.Fields(c)[1]
			if e.Action != action || e.Object != object || (e.Before == nil) != (action == "create") || (e.After == nil) != (action == "revoke") {
				t.Errorf("entry %d (%s): %s %s, before %s, after %s", i, c, e.Action, e.Object, e.Before, e.After)
			}
			for _, s := range slices.Concat(slices.Collect(maps.Values(configEnv)), slices.Collect(maps.Values(env))) {
				if strings.Contains(string(e.Before)+string(e.After), s) {
					t.Errorf("entry %d (%s) holds the secret %q: %s %s", i, c, s, e.Before, e.After)
				}
			}
			if strings.Contains(string(e.Before)+string(e.After), "argon2") {
				t.Errorf("entry %d (%s) holds a password hash", i, c)
			}
		}
		var desk struct {
			Settings map[string]string
			Secrets  map[string]string
		}
		if err := json.Unmarshal(entries[before+2].After, &desk); err != nil || desk.Settings["url"] != "https://support.acme.example/baton" ||
			desk.Secrets["secret"] != "set" || desk.Secrets["password"] != "unset" || len(desk.Settings) != 2 {
			t.Errorf("the desk's audit view: %s (%v)", entries[before+2].After, err)
		}
	})
}

// TestApplyStore: what applying writes, on both stores. Keys and agents get
// their stable ids and are managed, passwords are argon2id hashes that are
// kept while the file's password is the same, and what the file does not
// declare (a desk's status, an agent's disabled flag) is kept.
func TestApplyStore(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store baton.Store) {
		ctx := t.Context()
		apply(t, store, good, configEnv, ApplyParams{})
		checked := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		var hash string
		err := store.Tx(ctx, func(tx baton.Tx) error {
			k, err := tx.APIKey(baton.HashKey("acme-api-key-0001"))
			if want := (baton.APIKey{ID: baton.KeyID(baton.HashKey("acme-api-key-0001")), Hash: baton.HashKey("acme-api-key-0001"), WorkspaceID: "acme", Name: "prod",
				Prefix: baton.KeyPrefix("acme-api-key-0001"), Scope: baton.ScopeFull, Managed: true, CreatedAt: k.CreatedAt}); err != nil || k != want {
				return fmt.Errorf("api key: %+v %v, want %+v", k, err, want)
			}
			ak, err := tx.AdminKey(baton.HashKey("badm_admin-key-1"))
			if err != nil || ak.Name != "ops" || !ak.Managed || ak.ID != baton.KeyID(ak.Hash) {
				return fmt.Errorf("admin key: %+v %v", ak, err)
			}
			a, err := tx.InboxAgent("acme", "ana")
			if err != nil || a.Name != "Ana" || a.DeskID != "inbox" || a.Email != "ana@acme.example" || a.KeyHash != baton.HashKey("ana-agent-key-0001") || !a.Managed {
				return fmt.Errorf("agent: %+v %v", a, err)
			}
			if ok, err := password.Check(configEnv["ANA_PASSWORD"], a.PasswordHash); !ok || !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
				return fmt.Errorf("agent password hash %q: %v %v", a.PasswordHash, ok, err)
			}
			hash = a.PasswordHash
			a.Disabled = true
			if err := tx.PutInboxAgent(a); err != nil {
				return err
			}
			b, err := tx.Bot("acme", "helpbot")
			if err != nil || b.WebhookSecret != configEnv["ACME_BOT_SECRET"] || b.DeskID != "support" || b.Name != "Help bot" {
				return fmt.Errorf("bot: %+v %v", b, err)
			}
			d, err := tx.Desk("acme", "support")
			if err != nil || d.Settings["secret"] != configEnv["ACME_DESK_SECRET"] || d.Policy == nil || d.Policy.Zone != "Europe/Paris" {
				return fmt.Errorf("desk support: %+v %v", d, err)
			}
			return tx.SetDeskStatus(baton.DeskState{DeskID: "support", Status: baton.Unavailable, LastError: "down for the test", CheckedAt: checked})
		})
		if err != nil {
			t.Fatal(err)
		}
		// Applied again with a new desk name: the rest is kept.
		plan := apply(t, store, strings.Replace(good, "kind: webhook", "kind: webhook\n        name: Support", 1), configEnv, ApplyParams{})
		if got := lines(plan); !slices.Equal(got, []string{"~ desk acme/support: name"}) {
			t.Errorf("plan %q", got)
		}
		err = store.View(ctx, func(tx baton.Tx) error {
			a, err := tx.InboxAgent("acme", "ana")
			if err != nil || a.PasswordHash != hash || !a.Disabled {
				return fmt.Errorf("agent after applying again: hash %q (was %q), disabled %v, %v", a.PasswordHash, hash, a.Disabled, err)
			}
			d, err := tx.Desk("acme", "support")
			if err != nil || d.Name != "Support" || d.Status != baton.Unavailable || d.LastError != "down for the test" || !d.CheckedAt.Equal(checked) {
				return fmt.Errorf("desk support lost its status when applied again: %+v %v", d, err)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
}

// TestApplyManaged: an apply removes the keys, agents and admin keys an
// apply made that the file no longer lists, and never those made through
// the admin API; workspaces, desks and bots the file drops stay; admin
// keys are left alone by a file without admin_keys.
func TestApplyManaged(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store baton.Store) {
		ctx := t.Context()
		two := strings.Replace(good, "    bots:", "      - {id: later, kind: webhook}\n    bots:", 1) + "  - {name: ops2, key: badm_admin-key-2}\n"
		apply(t, store, two, configEnv, ApplyParams{})
		// What the admin API makes (Managed false).
		now := baton.Now()
		err := store.Tx(ctx, func(tx baton.Tx) error {
			h := baton.HashKey("bk_made-by-the-api")
			if err := tx.PutAPIKey(baton.APIKey{ID: baton.KeyID(h), Hash: h, WorkspaceID: "acme", Name: "api", Scope: baton.ScopeRead, CreatedAt: now}); err != nil {
				return err
			}
			h = baton.HashKey("badm_made-by-init")
			if err := tx.PutAdminKey(baton.AdminKey{ID: baton.KeyID(h), Hash: h, Name: "init", CreatedAt: now}); err != nil {
				return err
			}
			return tx.PutInboxAgent(baton.InboxAgent{ID: "bob", WorkspaceID: "acme", DeskID: "inbox", Name: "Bob", KeyHash: baton.HashKey("bob-key"), CreatedAt: now})
		})
		if err != nil {
			t.Fatal(err)
		}

		// The file without its agent, its API key, the desk "later" and
		// the second admin key; then without admin_keys at all; then with
		// an empty list.
		noAgent := good[:strings.Index(good, "    inbox_agents:")] + good[strings.Index(good, "admin_keys:"):]
		noAgent = strings.Replace(noAgent, `api_keys: [{name: prod, key: "${ACME_API_KEY}"}]`, "api_keys: []", 1)
		for _, c := range []struct {
			name, doc string
			want      []string
		}{
			{"dropped", noAgent, []string{"- key acme/prod", "- agent acme/ana", "- admin_key ops2"}},
			{"no admin_keys", noAgent[:strings.Index(noAgent, "admin_keys:")], nil},
			{"no admin keys", noAgent[:strings.Index(noAgent, "admin_keys:")] + "admin_keys: []\n", []string{"- admin_key ops"}},
		} {
			if got := lines(apply(t, store, c.doc, configEnv, ApplyParams{})); !slices.Equal(got, c.want) {
				t.Errorf("%s: plan %q, want %q", c.name, got, c.want)
			}
		}
		err = store.View(ctx, func(tx baton.Tx) error {
			keys, err := tx.APIKeys("acme")
			if err != nil || len(keys) != 1 || keys[0].Name != "api" {
				return fmt.Errorf("api keys left: %+v %v", keys, err)
			}
			admins, err := tx.AdminKeys()
			if err != nil || len(admins) != 1 || admins[0].Name != "init" {
				return fmt.Errorf("admin keys left: %+v %v", admins, err)
			}
			agents, err := tx.InboxAgents("acme")
			if err != nil || len(agents) != 1 || agents[0].ID != "bob" {
				return fmt.Errorf("agents left: %+v %v", agents, err)
			}
			if _, err := tx.Desk("acme", "later"); err != nil {
				return fmt.Errorf("desk later after the file dropped it: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
}

// TestApplyConflicts: ids and keys another workspace holds, a key of the
// other kind, and a deleted workspace's id are refused with the path and
// line of the value at fault, and the apply changes nothing.
func TestApplyConflicts(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store baton.Store) {
		ctx := t.Context()
		apply(t, store, good, configEnv, ApplyParams{})
		err := store.Tx(ctx, func(tx baton.Tx) error {
			if err := tx.CreateWorkspace(baton.Workspace{ID: "gone", Name: "Gone", CreatedAt: baton.Now()}); err != nil {
				return err
			}
			if err := tx.DeleteWorkspace("gone", baton.Now()); err != nil {
				return err
			}
			h := baton.HashKey("bk_of-acme-0123456789")
			return tx.PutAPIKey(baton.APIKey{ID: baton.KeyID(h), Hash: h, WorkspaceID: "acme", Name: "api", CreatedAt: baton.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		entries := len(audit(t, store))
		other := maps.Clone(configEnv)
		other["ACME_API_KEY"], other["ANA_KEY"], other["ADMIN_KEY"] = "other-api-key-0001", "other-agent-key-0001", "other-admin-key-1"
		for _, c := range []struct {
			name, doc string
			env       map[string]string
			want      string
		}{
			{"desk id", strings.Replace(good, "id: acme", "id: other", 1), other,
				"workspaces[0].desks[0].id (line 7): is taken by another workspace"},
			{"key made through the admin API for another workspace", "workspaces:\n  - id: other\n    api_keys: [{name: k, key: bk_of-acme-0123456789}]\n", nil,
				`workspaces[0].api_keys[0].key (line 3): is an API key of workspace "acme" made through the admin API`},
			{"admin key that is an API key", "admin_keys: [{name: k, key: bk_of-acme-0123456789}]\n", nil,
				"admin_keys[0].key (line 1): is an API key of a workspace; an admin key must be another secret"},
			{"API key that is an admin key", "workspaces:\n  - id: other\n    api_keys: [{name: k, key: badm_admin-key-1}]\n", nil,
				"workspaces[0].api_keys[0].key (line 3): is an admin key; an API key must be another secret"},
			{"deleted workspace", "workspaces:\n  - id: gone\n", nil,
				`workspaces[0].id (line 2): "gone" is the id of a deleted workspace; a deleted workspace's id is not used again`},
		} {
			f, err := Parse(strings.NewReader(c.doc), params(c.env))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			for _, dry := range []bool{true, false} {
				_, err = f.Apply(ctx, store, ApplyParams{DryRun: dry})
				var e *Error
				if err == nil || !strings.HasPrefix(err.Error(), c.want) || !errors.As(err, &e) {
					t.Errorf("%s (dry run %v): got %v, want %s", c.name, dry, err, c.want)
				}
			}
		}
		if n := len(audit(t, store)); n != entries {
			t.Errorf("refused applies left %d audit entries", n-entries)
		}
	})
}

// TestApplyMovesKey: a key an earlier file gave one workspace moves to the
// workspace that lists it now.
func TestApplyMovesKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	apply(t, store, "workspaces:\n  - {id: a, api_keys: [{name: k, key: the-key-0123456789}]}\n  - {id: b}\n", nil, ApplyParams{})
	plan := apply(t, store, "workspaces:\n  - {id: a}\n  - {id: b, api_keys: [{name: k, key: the-key-0123456789}]}\n", nil, ApplyParams{})
	if got, want := lines(plan), []string{"- key a/k", "+ key b/k"}; !slices.Equal(got, want) {
		t.Errorf("plan %q, want %q", got, want)
	}
	err = store.View(ctx, func(tx baton.Tx) error {
		k, err := tx.APIKey(baton.HashKey("the-key-0123456789"))
		if err != nil || k.WorkspaceID != "b" {
			return fmt.Errorf("key: %+v %v", k, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestApplyBuilt applies a file built in code, as the demo does: it has no
// lines, and its errors name paths alone.
func TestApplyBuilt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f := &File{Workspaces: []Workspace{{ID: "demo", Desks: []Desk{{ID: "inbox", Kind: baton.KindInbox}},
		InboxAgents: []Agent{{ID: "ana", Name: "Ana", Desk: "inbox", Key: "ana-agent-key-0001"}}}}}
	if err := f.Validate(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Apply(ctx, store, ApplyParams{}); err != nil {
		t.Fatal(err)
	}
	err = store.Tx(ctx, func(tx baton.Tx) error {
		w, err := tx.Workspace("demo")
		if err != nil || w.Name != "demo" {
			return fmt.Errorf("workspace: %+v %v", w, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	f.Workspaces[0].InboxAgents[0].Desk = "sales"
	if err := f.Validate(nil); err == nil || err.Error() != `workspaces[0].inbox_agents[0].desk: no desk "sales" in this workspace` {
		t.Errorf("got %v", err)
	}
	if got := f.WorkspaceIDs(); !reflect.DeepEqual(got, []string{"demo"}) {
		t.Errorf("WorkspaceIDs() = %q", got)
	}
}

// TestApplyRacePostgres applies one file from several goroutines at once,
// as instances starting together do: every one must succeed.
func TestApplyRacePostgres(t *testing.T) {
	t.Parallel()
	store, err := postgres.Open(t.Context(), pgtest.Migrated(t), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := parse(good)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.Apply(t.Context(), store, ApplyParams{}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Error(err)
	}
}

// TestPlanString: how a plan prints.
func TestPlanString(t *testing.T) {
	t.Parallel()
	p := Plan{Changes: []Change{
		{Action: Create, Object: ObjectDesk, WorkspaceID: "acme", ID: "support", Kind: baton.KindWebhook},
		{Action: Update, Object: ObjectBot, WorkspaceID: "acme", ID: "b1", Fields: []string{"webhook_url", "policy"}},
		{Action: Delete, Object: ObjectKey, WorkspaceID: "acme", ID: "key_0123", Name: "old-key"},
		{Action: Create, Object: ObjectWorkspace, WorkspaceID: "acme", ID: "acme"},
		{Action: Create, Object: ObjectAdminKey, ID: "key_4567", Name: "ops"},
	}}
	var b strings.Builder
	if err := p.Print(&b); err != nil {
		t.Fatal(err)
	}
	want := "+ desk acme/support (webhook)\n~ bot acme/b1: webhook_url, policy\n- key acme/old-key\n+ workspace acme\n+ admin_key ops\n" +
		"apply: 3 created, 1 changed, 1 removed\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, c := range []struct {
		p    Plan
		want string
	}{
		{Plan{}, "apply: no changes"},
		{Plan{DryRun: true}, "dry run: no changes"},
		{Plan{DryRun: true, Changes: p.Changes}, "dry run: 3 to create, 1 to change, 1 to remove; nothing was written"},
	} {
		if got := c.p.Summary(); got != c.want {
			t.Errorf("Summary() = %q, want %q", got, c.want)
		}
	}
}
