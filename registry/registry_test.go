package registry_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/registry"
)

// TestDeskBuiltOnce: a desk is built once for its id and settings, and
// again when its settings change; a desk without an id is never kept.
func TestDeskBuiltOnce(t *testing.T) {
	t.Parallel()
	var builds atomic.Int32
	r := registry.New(registry.Params{Kinds: []registry.Kind{{Name: baton.KindWebhook, Build: func(dc baton.DeskConfig, _ *http.Client) (baton.Desk, error) {
		builds.Add(1)
		return &fakeDesk{url: dc.Settings["url"]}, nil
	}}}})
	dc := baton.DeskConfig{ID: "d1", Kind: baton.KindWebhook, Settings: map[string]string{"url": "https://a.example"}}
	first, err := r.Desk(dc)
	if err != nil {
		t.Fatal(err)
	}
	dc.Status, dc.Policy = baton.Unavailable, &baton.Policy{} // not settings: the same desk
	if again, _ := r.Desk(dc); again != first || builds.Load() != 1 {
		t.Fatalf("rebuilt for the same settings: %d builds", builds.Load())
	}
	dc.Settings = map[string]string{"url": "https://b.example"}
	changed, _ := r.Desk(dc)
	if changed == first || changed.(*fakeDesk).url != "https://b.example" || builds.Load() != 2 {
		t.Fatalf("settings changed: got %+v after %d builds", changed, builds.Load())
	}
	// A key and value that concatenate alike are other settings.
	dc.Settings = map[string]string{"url": "https://b.exampl", "e": ""}
	if d, _ := r.Desk(dc); d == changed {
		t.Fatal("different settings gave the same desk")
	}
	anon := baton.DeskConfig{Kind: baton.KindWebhook, Settings: dc.Settings}
	a, _ := r.Desk(anon)
	if b, _ := r.Desk(anon); a == b {
		t.Fatal("a desk without an id was kept")
	}
}

// TestUnknownKind names the field and the kinds served.
func TestUnknownKind(t *testing.T) {
	t.Parallel()
	_, err := registry.New(registry.Params{}).Desk(baton.DeskConfig{ID: "d", Kind: "carrier-pigeon"})
	if baton.ErrorField(err) != "kind" || err.Error() != `invalid: kind: "carrier-pigeon" is not a desk kind this build serves; want `+registry.Served() {
		t.Fatalf("err %v", err)
	}
}

// TestCheck: the status a credential check gives, and the problem found.
func TestCheck(t *testing.T) {
	t.Parallel()
	r := registry.New(registry.Params{})
	tests := []struct {
		name string
		dc   baton.DeskConfig
		want baton.DeskStatus
		msg  string
	}{
		{"inbox", baton.DeskConfig{ID: "i", Kind: baton.KindInbox}, baton.Available, ""},
		{"missing setting", baton.DeskConfig{ID: "w", Kind: baton.KindWebhook}, baton.NotConfigured, "settings.url: required: the base URL of the company's service"},
		{"wrong setting", baton.DeskConfig{ID: "w2", Kind: baton.KindWebhook, Settings: map[string]string{"url": "ftp://x", "secret": "0123456789abcdef0123"}}, baton.Unavailable, ""},
	}
	for _, tt := range tests {
		got, msg := registry.Check(context.Background(), r, tt.dc, nil)
		if got != tt.want || (tt.msg != "" && msg != tt.msg) || (tt.want != baton.Available && msg == "") {
			t.Errorf("%s: %s %q, want %s %q", tt.name, got, msg, tt.want, tt.msg)
		}
	}
	failing := baton.DesksFunc(func(baton.DeskConfig) (baton.Desk, error) { return &fakeDesk{check: errors.New("refused")}, nil })
	if got, msg := registry.Check(context.Background(), failing, baton.DeskConfig{ID: "f"}, nil); got != baton.Unavailable || msg != "refused" {
		t.Errorf("failing check: %s %q", got, msg)
	}
}

// fakeDesk is a desk that only checks.
type fakeDesk struct {
	baton.Desk
	url   string
	check error
}

func (d *fakeDesk) Check(context.Context) error { return d.check }

// TestServed lists the kinds as people read them.
func TestServed(t *testing.T) {
	t.Parallel()
	if got := registry.Served(); got != "inbox, webhook, livechat, gorgias or intercom" {
		t.Errorf("Served() = %q", got)
	}
}

// TestLLMSettings: every kind takes the LLM endpoint's settings, checked by
// the registry and not given to the kind; llm_key is a secret of each.
func TestLLMSettings(t *testing.T) {
	t.Parallel()
	r := registry.New(registry.Params{})
	llmSet := map[string]string{"llm_url": "https://llm.example/v1", "llm_key": "sk-1", "llm_model": "m"}
	for _, k := range registry.Kinds() {
		if !slices.Contains(registry.Secrets(k.Name), "llm_key") {
			t.Errorf("%s: llm_key is not a secret", k.Name)
		}
	}
	web := map[string]string{"url": "https://support.example/baton", "secret": "0123456789abcdef0123"}
	dc := baton.DeskConfig{Kind: baton.KindWebhook, Settings: web}
	if _, err := r.Desk(dc); err != nil {
		t.Fatal(err)
	}
	dc.Settings = maps.Clone(web)
	maps.Copy(dc.Settings, llmSet)
	if _, err := r.Desk(dc); err != nil {
		t.Fatalf("a webhook desk with an LLM endpoint: %v", err)
	}
	if _, err := r.Desk(baton.DeskConfig{Kind: baton.KindInbox, Settings: llmSet}); err != nil {
		t.Fatalf("an inbox desk with an LLM endpoint: %v", err)
	}
	dc.Settings["llm_url"] = "not a url"
	if _, err := r.Desk(dc); baton.ErrorField(err) != "settings.llm_url" {
		t.Fatalf("bad llm_url: %v", err)
	}
}
