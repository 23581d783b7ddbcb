package config

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fuzzEnv gives the variables the config seeds name; any other ${NAME} is
// left as it is written, so that expanding twice changes nothing.
func fuzzEnv(name string) string {
	if v, ok := configEnv[name]; ok {
		return v
	}
	switch {
	case strings.HasSuffix(name, "_URL") || strings.HasSuffix(name, "_URI"):
		return "https://" + strings.ToLower(strings.ReplaceAll(name, "_", "-")) + ".example/in"
	case strings.HasSuffix(name, "BOT_SECRET"):
		return configEnv["ACME_BOT_SECRET"]
	case strings.HasSuffix(name, "_EMAIL"):
		return "seat@example.com"
	case strings.HasPrefix(name, "LC_") || strings.HasSuffix(name, "_KEY") || strings.HasSuffix(name, "_SECRET") || strings.HasSuffix(name, "_ID"):
		return strings.ToLower(name) + "-0123456789abcdef"
	}
	return "${" + name + "}"
}

// expansion counts the nodes of n with aliases followed, stopping past limit.
func expansion(n *yaml.Node, limit int, memo map[*yaml.Node]int) int {
	if n == nil {
		return 0
	}
	if v, ok := memo[n]; ok {
		return v
	}
	// A node met again while it is being counted is a cycle: not counted
	// again, as the reader's walk of one is bounded by the depth of the file's
	// types.
	memo[n] = 0
	total := 1
	if n.Kind == yaml.AliasNode {
		total += expansion(n.Alias, limit, memo)
	}
	for _, c := range n.Content {
		if total > limit {
			break
		}
		total += expansion(c, limit, memo)
	}
	memo[n] = min(total, limit+1)
	return memo[n]
}

// FuzzConfig checks Parse on arbitrary YAML: an error names a path (or
// is the YAML reader's, prefixed "config:"); a configuration it accepts
// validates again and survives a round trip: written back as YAML and read
// again, it is the same configuration; an alias bomb is refused.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(""))
	f.Add([]byte("workspaces: []"))
	f.Add([]byte("workspaces:\n  - id: a\n    name: A\n    desks: [{id: d, kind: inbox, policy: {periods: [{kind: custom, date: \"2026-12-25\", closed: true}]}}]\n"))
	f.Add([]byte("workspaces:\n  - &w {id: a, name: A}\n  - *w\n"))
	f.Add([]byte("workspaces:\n  - id: a\n    bots: [{id: b, webhook_url: \"https://x\", webhook_secret: whsec_}]\n"))
	f.Add([]byte("workspaces:\n  - id: a\n    desks: [{id: d, kind: livechat, settings: {mode: seat}}]\n"))
	f.Add([]byte("workspaces:\n  - id: a\n    desks: [{id: d, kind: webhook, settings: {url: \"${DESK_URL}\", secret: \"${X\"}}]\n"))
	f.Add([]byte("workspaces:\n  - id: a\n    api_keys: [{name: k, key: \" k \"}]\n    inbox_agents: [{id: g, name: G, email: \"G <g@x>\", desk: d, key: g-agent-key-0123}]\n"))
	f.Add([]byte("workspaces:\n  - id: a\n    desks: [{id: d, kind: inbox, policy: {wait_timeout: -1s, history_rounds: 9999999999999999999}}]\n"))
	f.Add([]byte("a: 1\n---\nb: 2\n"))
	f.Add([]byte("workspaces: {id: a}\n"))
	f.Add([]byte("workspaces:\n  - id: a\n    id: b\n"))
	// Aliases of aliases down config's one multiplying path: 20 workspaces of
	// 10 desks of 10 periods of 10 days.
	f.Add([]byte("workspaces:\n  - &w {id: w, desks: [&d {id: d, kind: inbox, policy: {periods: [&p {kind: weekly, days: [&s mon" +
		strings.Repeat(", *s", 9) + "], start: \"09:00\", end: \"10:00\"}" + strings.Repeat(", *p", 9) + "]}}" + strings.Repeat(", *d", 9) + "]}\n" +
		strings.Repeat("  - *w\n", 19)))
	// The files the server's end-to-end tests run with are seeds too.
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join("..", "cmd", "baton", "testdata", "*.yaml"))
	for _, file := range append(files, more...) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p := Params{Getenv: fuzzEnv, Desk: newDesk(http.DefaultClient)}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4<<10 {
			return
		}
		// A document whose aliases stand for far more than maxAliased
		// values (a "billion laughs") must be refused. expansion counts keys
		// too, and the document's own nodes, hence the margin.
		var doc yaml.Node
		limit := 3*maxAliased + len(data)
		bomb := yaml.Unmarshal(data, &doc) == nil && expansion(&doc, limit, map[*yaml.Node]int{}) > limit
		c, err := Parse(bytes.NewReader(data), p)
		if bomb && err == nil {
			t.Fatalf("a document whose aliases stand for over %d nodes was accepted", limit)
		}
		if err != nil {
			var e *Error
			if c != nil {
				t.Fatalf("a config with error %v", err)
			}
			if !errors.As(err, &e) && !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error %q names no path", err)
			}
			// An empty top-level key (testdata/fuzz/FuzzConfig/91132df8d32666ec:
			// "&a:" is an anchored null key) is named "" in the path.
			if e != nil && (e.Path == "" || e.Message == "" || e.Line <= 0) {
				t.Fatalf("error %#v has no path, no line or no message", e)
			}
			return
		}
		if err := c.Validate(p.Desk); err != nil {
			t.Fatalf("an accepted config does not validate again: %v", err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse(bytes.NewReader(out), p)
		if err != nil {
			t.Fatalf("the accepted config written back does not parse: %v\n%s", err, out)
		}
		if out2, _ := yaml.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the config:\n%s\nbecame\n%s", out, out2)
		}
	})
}
