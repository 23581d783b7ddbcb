package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
)

// TestCheckDesks applies a file twice, checking its desks after each time,
// and reads their statuses: available when the adapter builds and its check
// passes, unavailable when the check fails, not_configured when required
// settings are missing.
func TestCheckDesks(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a := app.New(app.Params{Store: store, Desks: registry.New(registry.Params{Client: &http.Client{Transport: failing{}}})})
	c, err := config.Parse(strings.NewReader(`
workspaces:
  - id: acme
    desks:
      - {id: support, kind: webhook, settings: {url: "https://support.acme.example/baton", secret: "${ACME_DESK_SECRET}"}}
      - {id: inbox, kind: inbox}
      - {id: later, kind: webhook}
`), config.Params{Getenv: getenv(map[string]string{"ACME_DESK_SECRET": "desk-shared-secret-0123456789"}), Desk: a.Desks.Desk})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Apply(ctx, store, config.ApplyParams{}); err != nil {
			t.Fatal(err)
		}
		if err := a.CheckDesks(ctx, c.WorkspaceIDs()); err != nil {
			t.Fatal(err)
		}
	}
	err = store.Tx(ctx, func(tx baton.Tx) error {
		for id, want := range map[string]baton.DeskStatus{"support": baton.Unavailable, "inbox": baton.Available, "later": baton.NotConfigured} {
			d, err := tx.Desk("acme", id)
			if err != nil {
				return err
			}
			if d.Status != want || d.CheckedAt.IsZero() {
				return fmt.Errorf("desk %s: status %s (%s), want %s", id, d.Status, d.LastError, want)
			}
			if id == "support" && !strings.Contains(d.LastError, "no network in this test") {
				return fmt.Errorf("desk support: last error %q", d.LastError)
			}
			if id == "later" && d.LastError != "settings.url: required: the base URL of the company's service" {
				return fmt.Errorf("desk later: last error %q", d.LastError)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// failing is a transport with no network.
type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no network in this test")
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
