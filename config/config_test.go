package config

import (
	"errors"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/registry"
)

// good is a valid file; the error cases below each break one thing in it.
const good = `
workspaces:
  - id: acme
    name: Acme
    api_keys: [{name: prod, key: "${ACME_API_KEY}"}]
    desks:
      - id: support
        kind: webhook
        settings: {url: "https://support.acme.example/baton", secret: "${ACME_DESK_SECRET}", username: "", password: ""}
        policy: {zone: Europe/Paris, periods: [{kind: weekly, days: [mon,tue,wed,thu,fri], start: "09:00", end: "18:00"}], out_of_hours_reply: "Closed.", wait_timeout: 60s, trigger_description: "The customer asks for a person."}
      - id: inbox
        kind: inbox
    bots:
      - {id: helpbot, name: Help bot, webhook_url: "https://bot.acme.example/baton", webhook_secret: "${ACME_BOT_SECRET}", desk: support}
    inbox_agents:
      - {id: ana, name: Ana, email: ana@acme.example, desk: inbox, key: "${ANA_KEY}", password: "${ANA_PASSWORD}"}
admin_keys:
  - {name: ops, key: "${ADMIN_KEY}"}
`

var configEnv = map[string]string{
	"ACME_API_KEY":     "acme-api-key-0001",
	"ACME_DESK_SECRET": "desk-shared-secret-0123456789",
	"ACME_BOT_SECRET":  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	"ANA_KEY":          "ana-agent-key-0001",
	"ANA_PASSWORD":     "ana's long password",
	"ADMIN_KEY":        "badm_admin-key-1",
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// newDesk builds desks as the server does.
func newDesk(client *http.Client) func(baton.DeskConfig) (baton.Desk, error) {
	return registry.New(registry.Params{Client: client}).Desk
}

func params(env map[string]string) Params {
	return Params{Getenv: getenv(env), Desk: newDesk(http.DefaultClient)}
}

func parse(yaml string) (*File, error) {
	return Parse(strings.NewReader(yaml), params(configEnv))
}

func TestConfigGood(t *testing.T) {
	t.Parallel()
	c, err := parse(good)
	if err != nil {
		t.Fatal(err)
	}
	w := c.Workspaces[0]
	if w.APIKeys[0].Key != "acme-api-key-0001" || w.Desks[0].Settings["secret"] != configEnv["ACME_DESK_SECRET"] {
		t.Errorf("${VAR}s not expanded: %+v", w)
	}
	p := w.Desks[0].Policy
	if p != nil && p.TriggerDescription != "The customer asks for a person." {
		t.Errorf("trigger_description read as %q", p.TriggerDescription)
	}
	if p == nil || p.Zone != "Europe/Paris" || len(p.Periods) != 1 || p.Periods[0].Days[4] != "fri" || p.WaitTimeout.D().Seconds() != 60 {
		t.Errorf("policy read as %+v", p)
	}
	if w.Desks[1].Policy != nil || w.Desks[1].Settings != nil {
		t.Errorf("the inbox desk got settings or a policy: %+v", w.Desks[1])
	}
	if got := c.WorkspaceIDs(); !reflect.DeepEqual(got, []string{"acme"}) {
		t.Errorf("WorkspaceIDs() = %q", got)
	}
	if a := w.InboxAgents[0]; a.Key != "ana-agent-key-0001" || a.Password != "ana's long password" {
		t.Errorf("agent read as %+v", a)
	}
	if want := []AdminKey{{Name: "ops", Key: "badm_admin-key-1"}}; !reflect.DeepEqual(c.AdminKeys, want) {
		t.Errorf("admin_keys read as %+v", c.AdminKeys)
	}
	d, ok := c.Desk("inbox")
	if want := (baton.DeskConfig{ID: "inbox", WorkspaceID: "acme", Name: "inbox", Kind: baton.KindInbox}); !ok || !reflect.DeepEqual(d, want) {
		t.Errorf("Desk(inbox) = %+v, %v; want %+v", d, ok, want)
	}
	if _, ok := c.Desk("sales"); ok {
		t.Errorf("Desk(sales) found a desk the file does not declare")
	}
}

func TestConfigEmpty(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "# nothing\n", "workspaces: []\n"} {
		if c, err := parse(s); err != nil || len(c.Workspaces) != 0 {
			t.Errorf("%q: %v %+v", s, err, c)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	eleven := "[" + strings.Repeat(`{kind: weekly, days: [mon], start: "09:00", end: "10:00"}, `, 10) + `{kind: weekly, days: [tue], start: "09:00", end: "10:00"}]`
	for _, c := range []struct {
		name     string
		old, new string // replace old by new in good
		want     string
	}{
		{"unknown field", `out_of_hours_reply: "Closed."`, `out_of_hours_reply: "Closed.", wait_timeuot: 60s`,
			"workspaces[0].desks[0].policy.wait_timeuot (line 10): unknown field; want one of zone, periods, out_of_hours_reply, wait_timeout, wait_grace, session_timeout, idle_expiry, history_rounds, require_email, transfer, trigger_description, session_payloads"},
		{"unknown top field", "workspaces:", "workspace: []\nworkspaces:",
			"workspace (line 2): unknown field; want one of workspaces, admin_keys"},
		{"unknown bot field", "desk: support}", "desk: support, colour: blue}",
			"workspaces[0].bots[0].colour (line 14): unknown field; want one of id, name, webhook_url, webhook_secret, desk, policy"},
		{"bad zone", "zone: Europe/Paris", "zone: Europe/Pariss",
			`workspaces[0].desks[0].policy.zone (line 10): unknown time zone "Europe/Pariss"`},
		{"11 periods", `periods: [{kind: weekly, days: [mon,tue,wed,thu,fri], start: "09:00", end: "18:00"}]`, "periods: " + eleven,
			"workspaces[0].desks[0].policy.periods (line 10): at most 10 rules are allowed, got 11"},
		{"bad period start", `start: "09:00"`, `start: "9am"`,
			`workspaces[0].desks[0].policy.periods[0].start (line 10): "9am" is not a time between "00:00" and "23:59"`},
		{"bad duration", "wait_timeout: 60s", "wait_timeout: soon",
			`workspaces[0].desks[0].policy.wait_timeout (line 10): "soon" is not a duration like "60s" or "30m"`},
		{"unknown desk kind", "kind: inbox", "kind: zendesk",
			`workspaces[0].desks[1].kind (line 12): "zendesk" is not a desk kind this build serves; want ` + registry.Served()},
		{"missing desk kind", "        kind: inbox\n", "",
			"workspaces[0].desks[1].kind (line 11): is required: " + registry.Served()},
		{"bad bot secret", `webhook_secret: "${ACME_BOT_SECRET}"`, `webhook_secret: "whsec_c2hvcnQ="`,
			`workspaces[0].bots[0].webhook_secret (line 14): secret key is 5 bytes, want 24 to 64; want "whsec_" and the base64 of 24 to 64 random bytes`},
		{"bot secret not base64", `webhook_secret: "${ACME_BOT_SECRET}"`, `webhook_secret: "hunter2!"`,
			"workspaces[0].bots[0].webhook_secret (line 14): secret is not valid base64: illegal base64 data at input byte 7; want \"whsec_\" and the base64 of 24 to 64 random bytes"},
		{"bot url without secret", `, webhook_secret: "${ACME_BOT_SECRET}"`, "",
			"workspaces[0].bots[0].webhook_secret (line 14): is required with webhook_url"},
		{"bot secret without url", `webhook_url: "https://bot.acme.example/baton", `, "",
			"workspaces[0].bots[0].webhook_secret (line 14): is only for a bot with a webhook_url (one that reads the event stream needs none)"},
		{"desk setting faulty beside a missing one", `url: "https://support.acme.example/baton", `, `colour: red, `,
			"workspaces[0].desks[0].settings.colour (line 9): unknown setting; a webhook desk reads url, username, password and secret"},
		{"bot desk unknown", "desk: support}", "desk: sales}",
			`workspaces[0].bots[0].desk (line 14): no desk "sales" in this workspace`},
		{"bad desk url", `url: "https://support.acme.example/baton"`, `url: "ftp://support.acme.example"`,
			`workspaces[0].desks[0].settings.url (line 9): scheme must be http or https, not "ftp"`},
		{"unknown desk setting", `password: ""}`, `password: "", region: eu}`,
			"workspaces[0].desks[0].settings.region (line 9): unknown setting; a webhook desk reads url, username, password and secret"},
		{"inbox settings", "        kind: inbox\n", "        kind: inbox\n        settings: {url: x}\n",
			"workspaces[0].desks[1].settings (line 13): the inbox desk takes no settings but an LLM endpoint's (llm_url, llm_key, llm_model, llm_timeout)"},
		{"bad llm url", `password: ""}`, `password: "", llm_url: "ftp://llm.example", llm_model: m}`,
			`workspaces[0].desks[0].settings.llm_url (line 9): "ftp://llm.example" is not an http or https URL`},
		{"bad llm timeout", `password: ""}`, `password: "", llm_url: "https://llm.example/v1", llm_model: m, llm_timeout: forever}`,
			`workspaces[0].desks[0].settings.llm_timeout (line 9): "forever" is not a duration between 0 and 1m, such as 3s`},
		{"unset variable", `key: "${ANA_KEY}"`, `key: "${ANA_KYE}"`,
			"workspaces[0].inbox_agents[0].key (line 16): environment variable ANA_KYE is not set"},
		{"agent on a webhook desk", "desk: inbox, key:", "desk: support, key:",
			`workspaces[0].inbox_agents[0].desk (line 16): desk "support" is a webhook desk; inbox agents answer inbox desks`},
		{"duplicate desk id", "id: inbox", "id: support",
			`workspaces[0].desks[1].id (line 11): "support" is already used at workspaces[0].desks[0].id`},
		{"bad id", "id: acme", "id: acme corp",
			`workspaces[0].id (line 3): "acme corp" must be 1 to 64 letters, digits, '-', '_' or '.'`},
		{"same key twice", `key: "${ANA_KEY}"`, `key: "${ACME_API_KEY}"`,
			"workspaces[0].inbox_agents[0].key (line 16): is the same key as workspaces[0].api_keys[0].key"},
		{"wrong type", "name: Acme", "name: [Acme]",
			"workspaces[0].name (line 4): want a string, not a list"},
		{"repeated field", "name: Acme", "name: Acme\n    name: Acme2",
			"workspaces[0].name (line 5): given twice"},
		{"wrong scalar", "kind: weekly,", "kind: weekly, closed: perhaps,",
			"workspaces[0].desks[0].policy.periods[0].closed (line 10): cannot unmarshal !!str `perhaps` into bool"},
		{"whole file a list", good, "- workspaces: []\n",
			"config (line 1): want a mapping of fields, not a list"},
		{"repeated setting", `password: ""}`, `password: "", url: "https://x.example"}`,
			"workspaces[0].desks[0].settings.url (line 9): given twice"},
		{"trigger description too long", `trigger_description: "The customer asks for a person."}`, `trigger_description: "` + strings.Repeat("é", baton.MaxTriggerDescription+1) + `"}`,
			"workspaces[0].desks[0].policy.trigger_description (line 10): is 2001 characters; at most 2000 are allowed"},
		{"admin key without a name", "{name: ops, key:", "{key:",
			"admin_keys[0].name (line 18): is required"},
		{"admin key is an api key", `key: "${ADMIN_KEY}"`, `key: "${ACME_API_KEY}"`,
			"admin_keys[0].key (line 18): is the same key as workspaces[0].api_keys[0].key"},
		{"admin key with spaces", `key: "${ADMIN_KEY}"`, `key: " badm_x"`,
			"admin_keys[0].key (line 18): is required and must not start or end with white space"},
		{"short api key", `key: "${ACME_API_KEY}"`, `key: "acme-key"`,
			"workspaces[0].api_keys[0].key (line 5): is 8 characters; a key must be at least 16 (make one with: openssl rand -hex 24)"},
		{"short agent key", `key: "${ANA_KEY}"`, `key: "ana-key-0123456"`,
			"workspaces[0].inbox_agents[0].key (line 16): is 15 characters; a key must be at least 16 (make one with: openssl rand -hex 24)"},
		{"short admin key", `key: "${ADMIN_KEY}"`, `key: "badm_ééé"`,
			"admin_keys[0].key (line 18): is 8 characters; a key must be at least 16 (make one with: openssl rand -hex 24)"},
		{"unknown admin key field", "{name: ops,", "{name: ops, scope: read,",
			"admin_keys[0].scope (line 18): unknown field; want one of name, key"},
		{"agent with neither key nor password", `, key: "${ANA_KEY}", password: "${ANA_PASSWORD}"}`, "}",
			"workspaces[0].inbox_agents[0].key (line 16): is required when there is no password: the agent signs in with a key, a password or both"},
		{"short password", `password: "${ANA_PASSWORD}"`, `password: "short"`,
			"workspaces[0].inbox_agents[0].password (line 16): must be at least 10 characters"},
		{"settings not a mapping", `settings: {url: "https://support.acme.example/baton", secret: "${ACME_DESK_SECRET}", username: "", password: ""}`, "settings: [url]",
			"workspaces[0].desks[0].settings (line 9): want a mapping, not a list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(good, c.old) {
				t.Fatalf("the good config lacks %q", c.old)
			}
			_, err := parse(strings.Replace(good, c.old, c.new, 1))
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line == 0 {
				t.Errorf("%v is not an *Error with a line", err)
			}
		})
	}
}

// TestConfigKeyLen: a key of exactly baton.MinKeyLen characters is
// accepted, of every kind.
func TestConfigKeyLen(t *testing.T) {
	t.Parallel()
	env := maps.Clone(configEnv)
	env["ACME_API_KEY"], env["ANA_KEY"], env["ADMIN_KEY"] = "acme-0123456789a", "ana-0123456789ab", "badm_0123456789a"
	for _, k := range []string{env["ACME_API_KEY"], env["ANA_KEY"], env["ADMIN_KEY"]} {
		if len(k) != baton.MinKeyLen {
			t.Fatalf("%q is %d characters, want %d", k, len(k), baton.MinKeyLen)
		}
	}
	if _, err := Parse(strings.NewReader(good), params(env)); err != nil {
		t.Error(err)
	}
}

// TestConfigAliasLine: a value repeated by an alias is placed on the
// alias's line, where its path is in the file.
func TestConfigAliasLine(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(good, "- {id: helpbot,", "- &bot {id: helpbot,", 1)
	doc = strings.Replace(doc, "    inbox_agents:", "      - *bot\n    inbox_agents:", 1)
	want := `workspaces[0].bots[1].id (line 15): "helpbot" is already used at workspaces[0].bots[0].id`
	if _, err := parse(doc); err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestConfigTwoDocuments(t *testing.T) {
	t.Parallel()
	if _, err := parse(good + "---\n" + good); err == nil || !strings.Contains(err.Error(), "one YAML document") {
		t.Errorf("got %v", err)
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	r := reader{getenv: getenv(map[string]string{"A": "1", "B_2": "two"})}
	for in, want := range map[string]string{
		"plain": "plain", "${A}": "1", "x${A}y${B_2}z": "x1ytwoz", "$A and $$": "$A and $$", "pa$$word": "pa$$word",
	} {
		if got, err := r.expand(in); err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"${", "${A", "${}", "${1A}", "${A-B}", "${C}"} {
		if got, err := r.expand(in); err == nil {
			t.Errorf("expand(%q) = %q, want an error", in, got)
		}
	}
	if got, err := (&reader{}).expand("${A}"); err == nil {
		t.Errorf("with no Getenv, expand(${A}) = %q, want an error", got)
	}
}

// TestPolicyFields: the reader knows every field of baton.Policy,
// baton.Period, baton.TransferRules and baton.SessionPayloads under its yaml tag, in order, so a
// field added there is not refused here.
func TestPolicyFields(t *testing.T) {
	t.Parallel()
	r := &reader{}
	for _, c := range []struct {
		typ  reflect.Type
		fill fill
	}{
		{reflect.TypeFor[baton.Policy](), r.policy(new(baton.Policy))},
		{reflect.TypeFor[baton.Period](), r.period(new(baton.Period))},
		{reflect.TypeFor[baton.TransferRules](), r.transfer(new(baton.TransferRules))},
		{reflect.TypeFor[baton.SessionPayloads](), r.payloads(new(baton.SessionPayloads))},
	} {
		var tags []string
		for f := range c.typ.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			tags = append(tags, tag)
		}
		// The unknown-field error lists what the reader knows.
		err := c.fill(value{path: "p", node: mapping("not_a_field")})
		want := "p: unknown field; want one of " + strings.Join(tags, ", ")
		if err == nil || !strings.HasPrefix(err.Error(), "p.not_a_field") || !strings.HasSuffix(err.Error(), strings.TrimPrefix(want, "p:")) {
			t.Errorf("%s: got %v, want the fields %s", c.typ, err, strings.Join(tags, ", "))
		}
	}
}

// mapping returns a YAML mapping node with the given keys, each null.
func mapping(keys ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
	}
	return n
}

// README.md's yaml blocks are tested in cmd/baton (TestREADMEConfig), where
// they are loaded and applied as baton serve --config does.

// TestAliasWithoutValue: a node tree the parser would not make, an alias
// of nothing or of itself, is an error, not a crash or a hang.
func TestAliasWithoutValue(t *testing.T) {
	t.Parallel()
	self := &yaml.Node{Kind: yaml.AliasNode, Value: "a", Line: 3}
	self.Alias = self
	for _, n := range []*yaml.Node{{Kind: yaml.AliasNode, Value: "a", Line: 3}, self} {
		var f File
		r := &reader{lines: map[string]int{}}
		err := r.read("workspaces", n, nil, n, list(r, &f.Workspaces, r.workspace))
		if err == nil || err.Error() != "workspaces (line 3): the YAML alias *a stands for no value" {
			t.Errorf("got %v", err)
		}
	}
}
