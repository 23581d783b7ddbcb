package main

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
)

// good is a valid config; the error cases below each break one thing in it.
const good = `
workspaces:
  - id: acme
    name: Acme
    api_keys: [{name: prod, key: "${ACME_API_KEY}"}]
    desks:
      - id: support
        kind: webhook
        settings: {url: "https://support.acme.example/baton", secret: "${ACME_DESK_SECRET}", username: "", password: ""}
        policy: {zone: Europe/Paris, periods: [{kind: weekly, days: [mon,tue,wed,thu,fri], start: "09:00", end: "18:00"}], out_of_hours_reply: "Closed.", wait_timeout: 60s}
      - id: inbox
        kind: inbox
    bots:
      - {id: helpbot, name: Help bot, webhook_url: "https://bot.acme.example/baton", webhook_secret: "${ACME_BOT_SECRET}", desk: support}
    inbox_agents:
      - {id: ana, name: Ana, email: ana@acme.example, desk: inbox, key: "${ANA_KEY}"}
`

var configEnv = map[string]string{
	"ACME_API_KEY":     "acme-key-1",
	"ACME_DESK_SECRET": "desk-shared-secret-0123456789",
	"ACME_BOT_SECRET":  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	"ANA_KEY":          "ana-key-1",
}

func parse(yaml string) (*config, error) {
	return parseConfig(strings.NewReader(yaml), getenv(configEnv), registry.New(registry.Params{Client: http.DefaultClient}))
}

func TestConfigGood(t *testing.T) {
	c, err := parse(good)
	if err != nil {
		t.Fatal(err)
	}
	w := c.Workspaces[0]
	if w.APIKeys[0].Key != "acme-key-1" || w.Desks[0].Settings["secret"] != configEnv["ACME_DESK_SECRET"] {
		t.Errorf("${VAR}s not expanded: %+v", w)
	}
	p := w.Desks[0].Policy
	if p == nil || p.Zone != "Europe/Paris" || len(p.Periods) != 1 || p.Periods[0].Days[4] != "fri" || p.WaitTimeout.D().Seconds() != 60 {
		t.Errorf("policy read as %+v", p)
	}
	if w.Desks[1].Policy != nil || w.Desks[1].Settings != nil {
		t.Errorf("the inbox desk got settings or a policy: %+v", w.Desks[1])
	}
}

func TestConfigEmpty(t *testing.T) {
	for _, s := range []string{"", "# nothing\n", "workspaces: []\n"} {
		if c, err := parse(s); err != nil || len(c.Workspaces) != 0 {
			t.Errorf("%q: %v %+v", s, err, c)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	eleven := "[" + strings.Repeat(`{kind: weekly, days: [mon], start: "09:00", end: "10:00"}, `, 10) + `{kind: weekly, days: [tue], start: "09:00", end: "10:00"}]`
	for _, c := range []struct {
		name     string
		old, new string // replace old by new in good
		want     string
	}{
		{"unknown field", `out_of_hours_reply: "Closed."`, `out_of_hours_reply: "Closed.", wait_timeuot: 60s`,
			"workspaces[0].desks[0].policy.wait_timeuot: unknown field (line 10); want one of zone, periods, out_of_hours_reply, wait_timeout, wait_grace, session_timeout, idle_expiry, history_rounds, require_email, transfer"},
		{"unknown top field", "workspaces:", "workspace: []\nworkspaces:",
			"workspace: unknown field (line 2); want one of workspaces"},
		{"unknown bot field", "desk: support}", "desk: support, colour: blue}",
			"workspaces[0].bots[0].colour: unknown field (line 14); want one of id, name, webhook_url, webhook_secret, desk, policy"},
		{"bad zone", "zone: Europe/Paris", "zone: Europe/Pariss",
			`workspaces[0].desks[0].policy.zone: unknown time zone "Europe/Pariss"`},
		{"11 periods", `periods: [{kind: weekly, days: [mon,tue,wed,thu,fri], start: "09:00", end: "18:00"}]`, "periods: " + eleven,
			"workspaces[0].desks[0].policy.periods: at most 10 rules are allowed, got 11"},
		{"bad period start", `start: "09:00"`, `start: "9am"`,
			`workspaces[0].desks[0].policy.periods[0].start: "9am" is not a time between "00:00" and "23:59"`},
		{"bad duration", "wait_timeout: 60s", "wait_timeout: soon",
			`workspaces[0].desks[0].policy.wait_timeout: "soon" is not a duration like "60s" or "30m"`},
		{"unknown desk kind", "kind: inbox", "kind: zendesk",
			`workspaces[0].desks[1].kind: "zendesk" is not a desk kind this build serves; want inbox, webhook or livechat`},
		{"missing desk kind", "        kind: inbox\n", "",
			"workspaces[0].desks[1].kind: is required: inbox, webhook or livechat"},
		{"bad bot secret", `webhook_secret: "${ACME_BOT_SECRET}"`, `webhook_secret: "whsec_c2hvcnQ="`,
			`workspaces[0].bots[0].webhook_secret: secret key is 5 bytes, want 24 to 64; want "whsec_" and the base64 of 24 to 64 random bytes`},
		{"bot secret not base64", `webhook_secret: "${ACME_BOT_SECRET}"`, `webhook_secret: "hunter2!"`,
			"workspaces[0].bots[0].webhook_secret: secret is not valid base64: illegal base64 data at input byte 7; want \"whsec_\" and the base64 of 24 to 64 random bytes"},
		{"bot url without secret", `, webhook_secret: "${ACME_BOT_SECRET}"`, "",
			"workspaces[0].bots[0].webhook_secret: is required with webhook_url"},
		{"bot desk unknown", "desk: support}", "desk: sales}",
			`workspaces[0].bots[0].desk: no desk "sales" in this workspace`},
		{"bad desk url", `url: "https://support.acme.example/baton"`, `url: "ftp://support.acme.example"`,
			`workspaces[0].desks[0].settings.url: scheme must be http or https, not "ftp"`},
		{"unknown desk setting", `password: ""}`, `password: "", region: eu}`,
			"workspaces[0].desks[0].settings.region: unknown setting; a webhook desk reads url, username, password and secret"},
		{"inbox settings", "        kind: inbox\n", "        kind: inbox\n        settings: {url: x}\n",
			"workspaces[0].desks[1].settings: the inbox desk takes no settings"},
		{"unset variable", `key: "${ANA_KEY}"`, `key: "${ANA_KYE}"`,
			"workspaces[0].inbox_agents[0].key: environment variable ANA_KYE is not set"},
		{"agent on a webhook desk", "desk: inbox, key:", "desk: support, key:",
			`workspaces[0].inbox_agents[0].desk: desk "support" is a webhook desk; inbox agents answer inbox desks`},
		{"duplicate desk id", "id: inbox", "id: support",
			`workspaces[0].desks[1].id: "support" is already used at workspaces[0].desks[0].id`},
		{"bad id", "id: acme", "id: acme corp",
			`workspaces[0].id: "acme corp" must be 1 to 64 letters, digits, '-', '_' or '.'`},
		{"same key twice", `key: "${ANA_KEY}"`, `key: "${ACME_API_KEY}"`,
			"workspaces[0].inbox_agents[0].key: is the same key as workspaces[0].api_keys[0].key"},
		{"wrong type", "name: Acme", "name: [Acme]",
			"workspaces[0].name: want a string, not a list"},
		{"repeated field", "name: Acme", "name: Acme\n    name: Acme2",
			"workspaces[0].name: given twice (line 5)"},
		{"wrong scalar", "kind: weekly,", "kind: weekly, closed: perhaps,",
			"workspaces[0].desks[0].policy.periods[0].closed: line 10: cannot unmarshal !!str `perhaps` into bool"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(good, c.old) {
				t.Fatalf("the good config lacks %q", c.old)
			}
			_, err := parse(strings.Replace(good, c.old, c.new, 1))
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestConfigTwoDocuments(t *testing.T) {
	if _, err := parse(good + "---\n" + good); err == nil || !strings.Contains(err.Error(), "one YAML document") {
		t.Errorf("got %v", err)
	}
}

func TestExpand(t *testing.T) {
	d := decoder{getenv: getenv(map[string]string{"A": "1", "B_2": "two"})}
	for in, want := range map[string]string{
		"plain": "plain", "${A}": "1", "x${A}y${B_2}z": "x1ytwoz", "$A and $$": "$A and $$", "pa$$word": "pa$$word",
	} {
		if got, err := d.expand(in); err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"${", "${A", "${}", "${1A}", "${A-B}", "${C}"} {
		if got, err := d.expand(in); err == nil {
			t.Errorf("expand(%q) = %q, want an error", in, got)
		}
	}
}

// TestConfigApply applies a config twice and checks the store and the desk statuses.
func TestConfigApply(t *testing.T) {
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
	a := app.New(app.Params{Store: store, Desks: registry.New(registry.Params{Client: &http.Client{Transport: failing{}}})})
	for range 2 {
		if err := c.apply(ctx, store); err != nil {
			t.Fatal(err)
		}
		if err := a.CheckDesks(ctx, []string{"acme"}); err != nil {
			t.Fatal(err)
		}
	}
	err = store.Tx(ctx, func(tx baton.Tx) error {
		if k, err := tx.APIKey(hash("acme-key-1")); err != nil || k.WorkspaceID != "acme" || k.Name != "prod" {
			return fmt.Errorf("api key: %+v %v", k, err)
		}
		if a, err := tx.InboxAgentByKey(hash("ana-key-1")); err != nil || a.Name != "Ana" || a.DeskID != "inbox" {
			return fmt.Errorf("agent: %+v %v", a, err)
		}
		b, err := tx.Bot("acme", "helpbot")
		if err != nil || b.WebhookSecret != configEnv["ACME_BOT_SECRET"] || b.DeskID != "support" {
			return fmt.Errorf("bot: %+v %v", b, err)
		}
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

	// A key or an agent the file no longer lists is revoked when it is applied again.
	rotated := maps.Clone(configEnv)
	rotated["ACME_API_KEY"], rotated["ANA_KEY"] = "acme-key-2", "ana-key-2"
	again, err := parseConfig(strings.NewReader(good), getenv(rotated), a.Desks)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.apply(ctx, store); err != nil {
		t.Fatal(err)
	}
	err = store.Tx(ctx, func(tx baton.Tx) error {
		for key, want := range map[string]string{"acme-key-1": baton.ENOTFOUND, "acme-key-2": ""} {
			if _, err := tx.APIKey(hash(key)); baton.ErrorCode(err) != want {
				return fmt.Errorf("api key %s after rotation: %v", key, err)
			}
		}
		for key, want := range map[string]string{"ana-key-1": baton.ENOTFOUND, "ana-key-2": ""} {
			if _, err := tx.InboxAgentByKey(hash(key)); baton.ErrorCode(err) != want {
				return fmt.Errorf("agent key %s after rotation: %v", key, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	// Another workspace cannot take acme's desk id.
	otherEnv := maps.Clone(configEnv)
	otherEnv["ACME_API_KEY"], otherEnv["ANA_KEY"] = "other-key-1", "other-ana-1"
	other, err := parseConfig(strings.NewReader(strings.Replace(good, "id: acme", "id: other", 1)), getenv(otherEnv), a.Desks)
	if err != nil {
		t.Fatal(err)
	}
	err = other.apply(ctx, store)
	if err == nil || !strings.HasPrefix(err.Error(), "workspaces[0].desks[0].id: is taken by another workspace") {
		t.Errorf("got %v", err)
	}
}

// failing is a transport with no network.
type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no network in this test")
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func hash(key string) string { return baton.HashKey(key) }
