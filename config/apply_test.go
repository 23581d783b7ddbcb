package config

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/sqlite"
)

// TestConfigApply applies a file twice and checks the store: what the file
// declares is there, desks keep the status they were given in between, keys
// and agents the file no longer lists are revoked, and another workspace
// cannot take a desk's id.
func TestConfigApply(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := parse(strings.Replace(good, "    bots:", "      - {id: later, kind: webhook}\n    bots:", 1))
	if err != nil {
		t.Fatal(err)
	}
	checked := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 2 {
		if err := c.Apply(ctx, store); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			continue
		}
		err := store.Tx(ctx, func(tx baton.Tx) error {
			return tx.SetDeskStatus(baton.DeskState{DeskID: "support", Status: baton.Unavailable, LastError: "down for the test", CheckedAt: checked})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err = store.Tx(ctx, func(tx baton.Tx) error {
		if k, err := tx.APIKey(baton.HashKey("acme-key-1")); err != nil || k.WorkspaceID != "acme" || k.Name != "prod" {
			return fmt.Errorf("api key: %+v %v", k, err)
		}
		if a, err := tx.InboxAgentByKey(baton.HashKey("ana-key-1")); err != nil || a.Name != "Ana" || a.DeskID != "inbox" || a.Email != "ana@acme.example" {
			return fmt.Errorf("agent: %+v %v", a, err)
		}
		b, err := tx.Bot("acme", "helpbot")
		if err != nil || b.WebhookSecret != configEnv["ACME_BOT_SECRET"] || b.DeskID != "support" || b.Name != "Help bot" {
			return fmt.Errorf("bot: %+v %v", b, err)
		}
		d, err := tx.Desk("acme", "support")
		if err != nil || d.Settings["secret"] != configEnv["ACME_DESK_SECRET"] || d.Policy == nil || d.Policy.Zone != "Europe/Paris" {
			return fmt.Errorf("desk support: %+v %v", d, err)
		}
		if d.Status != baton.Unavailable || d.LastError != "down for the test" || !d.CheckedAt.Equal(checked) {
			return fmt.Errorf("desk support lost its status when applied again: %s %q %v", d.Status, d.LastError, d.CheckedAt)
		}
		for id, name := range map[string]string{"inbox": "inbox", "later": "later"} {
			if d, err := tx.Desk("acme", id); err != nil || d.Name != name {
				return fmt.Errorf("desk %s: %+v %v", id, d, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	// A key or an agent the file no longer lists is revoked when it is applied again.
	rotated := maps.Clone(configEnv)
	rotated["ACME_API_KEY"], rotated["ANA_KEY"] = "acme-key-2", "ana-key-2"
	again, err := Parse(strings.NewReader(good), params(rotated))
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Apply(ctx, store); err != nil {
		t.Fatal(err)
	}
	err = store.Tx(ctx, func(tx baton.Tx) error {
		for key, want := range map[string]string{"acme-key-1": baton.ENOTFOUND, "acme-key-2": ""} {
			if _, err := tx.APIKey(baton.HashKey(key)); baton.ErrorCode(err) != want {
				return fmt.Errorf("api key %s after rotation: %v", key, err)
			}
		}
		for key, want := range map[string]string{"ana-key-1": baton.ENOTFOUND, "ana-key-2": ""} {
			if _, err := tx.InboxAgentByKey(baton.HashKey(key)); baton.ErrorCode(err) != want {
				return fmt.Errorf("agent key %s after rotation: %v", key, err)
			}
		}
		// The desk the second file no longer names is left in the store.
		if _, err := tx.Desk("acme", "later"); err != nil {
			return fmt.Errorf("desk later after the file dropped it: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	// Another workspace cannot take acme's desk id.
	otherEnv := maps.Clone(configEnv)
	otherEnv["ACME_API_KEY"], otherEnv["ANA_KEY"] = "other-key-1", "other-ana-1"
	other, err := Parse(strings.NewReader(strings.Replace(good, "id: acme", "id: other", 1)), params(otherEnv))
	if err != nil {
		t.Fatal(err)
	}
	err = other.Apply(ctx, store)
	var e *Error
	if err == nil || !strings.HasPrefix(err.Error(), "workspaces[0].desks[0].id (line 7): is taken by another workspace") ||
		!errors.As(err, &e) || baton.ErrorCode(e.Err) != baton.ECONFLICT {
		t.Errorf("got %v", err)
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
		InboxAgents: []Agent{{ID: "ana", Name: "Ana", Desk: "inbox", Key: "k"}}}}}
	if err := f.Validate(nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(ctx, store); err != nil {
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
		wg.Go(func() { errs[i] = c.Apply(t.Context(), store) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Error(err)
	}
}
