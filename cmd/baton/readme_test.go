package main

// The README's examples are tested here, in the command's package, because
// this is where they can be run as printed: the YAML blocks are loaded with
// the same config.Load and registry that serve uses and applied to a store,
// and the command lines go through run() itself.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/stdwebhook"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the README's "## title" section, without its heading.
func section(t *testing.T, doc, title string) string {
	t.Helper()
	_, s, ok := strings.Cut(doc, "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", title)
	}
	s, _, _ = strings.Cut(s, "\n## ")
	return s
}

// fenced returns the bodies of the README's ```lang blocks.
func fenced(doc, lang string) []string {
	var out []string
	for _, part := range strings.Split(doc, "\n```"+lang+"\n")[1:] {
		body, _, _ := strings.Cut(part, "\n```")
		out = append(out, body+"\n")
	}
	return out
}

var (
	envRef    = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	botSecret = regexp.MustCompile(`webhook_secret:\s*"?\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// exampleEnv gives every ${VAR} of a YAML example a plausible value: a
// Standard Webhooks secret for a bot's webhook_secret, a long random-looking
// token for the keys and desk secrets.
func exampleEnv(yaml string) map[string]string {
	env := map[string]string{}
	for _, m := range envRef.FindAllStringSubmatch(yaml, -1) {
		env[m[1]] = fmt.Sprintf("readme-%s-%x", strings.ToLower(m[1]), []byte("0123456789abcdef"))
	}
	for _, m := range botSecret.FindAllStringSubmatch(yaml, -1) {
		env[m[1]] = stdwebhook.NewSecret()
	}
	return env
}

// TestREADMEConfig: every yaml block of README.md is a config file that
// baton serve --config accepts, its ${VAR}s set: it loads as serve loads it
// (config.Load with the registry's desks) and applies to a fresh store. Only
// the desk probes after that are left out, as they would call the example's
// hosts.
func TestREADMEConfig(t *testing.T) {
	t.Parallel()
	blocks := fenced(readme(t), "yaml")
	if len(blocks) == 0 {
		t.Fatal("README.md has no yaml block")
	}
	for i, y := range blocks {
		dir := t.TempDir()
		path := filepath.Join(dir, "baton.yaml")
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		env := exampleEnv(y)
		cfg, err := config.Load(path, config.Params{Getenv: getenv(env), Desk: registry.New(registry.Params{}).Desk})
		if err != nil {
			t.Errorf("yaml block %d: %v\n%s", i+1, err, y)
			continue
		}
		store, err := openStore(t.Context(), tempEnv(dir), discard())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Apply(t.Context(), store, config.ApplyParams{}); err != nil {
			t.Errorf("yaml block %d: applying: %v", i+1, err)
		}
		store.Close()
	}
}

// tempEnv is the environment of a SQLite store in dir.
func tempEnv(dir string) env { return env{dbPath: filepath.Join(dir, "baton.db")} }

// TestREADMEConfigRules: what the README states about the values holds.
func TestREADMEConfigRules(t *testing.T) {
	t.Parallel()
	doc := section(t, readme(t), "Configuration")
	for _, want := range []string{
		"`whsec_` followed by the standard, padded base64 of " + fmt.Sprintf("%d to %d random bytes", stdwebhook.MinKeyLen, stdwebhook.MaxKeyLen),
		"**unique across workspaces**",
	} {
		if !strings.Contains(strings.Join(strings.Fields(doc), " "), want) {
			t.Errorf("README.md's Configuration section does not say %q", want)
		}
	}
	// Two workspaces with the same desk id: refused, as the README says.
	f := "workspaces:\n" +
		"  - {id: a, desks: [{id: support, kind: inbox}]}\n" +
		"  - {id: b, desks: [{id: support, kind: inbox}]}\n"
	_, err := config.Parse(strings.NewReader(f), config.Params{Desk: registry.New(registry.Params{}).Desk})
	if err == nil || !strings.Contains(err.Error(), "workspaces[1].desks[0].id") {
		t.Errorf("the same desk id in two workspaces: %v", err)
	}
	for _, c := range []struct {
		secret string
		ok     bool
	}{
		{stdwebhook.NewSecret(), true},
		{"whsec_" + strings.Repeat("A", 32), true},  // 24 bytes
		{"whsec_" + strings.Repeat("A", 28), false}, // 21 bytes
		{"helpbot-secret", false},
	} {
		f := "workspaces:\n  - id: a\n    bots: [{id: bot, webhook_url: \"https://bot.example\", webhook_secret: \"" + c.secret + "\"}]\n"
		_, err := config.Parse(strings.NewReader(f), config.Params{})
		if (err == nil) != c.ok {
			t.Errorf("webhook_secret %q: %v", c.secret, err)
		}
	}
}

// commandLines returns the baton command lines of README.md, as arguments
// to run: the lines of its indented and shell code blocks and its `code`
// spans that run baton, go run ./cmd/baton or the baton image.
func commandLines(t *testing.T, doc string) [][]string {
	var lines []string
	inFence, shell := false, false
	for _, l := range strings.Split(doc, "\n") {
		if lang, ok := strings.CutPrefix(l, "```"); ok {
			inFence = !inFence
			shell = inFence && slices.Contains([]string{"sh", "shell", "bash", "console"}, lang)
			continue
		}
		switch {
		case inFence && shell:
			lines = append(lines, l)
		case !inFence && strings.HasPrefix(l, "    "):
			lines = append(lines, l)
		}
	}
	for _, m := range regexp.MustCompile("`((?:baton|go run|go install|docker run) [^`]*)`").FindAllStringSubmatch(doc, -1) {
		lines = append(lines, m[1])
	}
	module := modulePath(t)
	var out [][]string
	for _, l := range lines {
		words := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "$ "))
		for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
			words = words[1:]
		}
		if i := slices.IndexFunc(words, func(w string) bool { return strings.ContainsAny(w, "|;&>#") }); i >= 0 {
			words = words[:i]
		}
		switch {
		case len(words) > 0 && words[0] == "baton":
			words = words[1:]
		case len(words) > 2 && words[0] == "go" && words[1] == "run":
			i := slices.IndexFunc(words[2:], func(w string) bool { return !strings.HasPrefix(w, "-") }) + 2
			if words[i] != "./cmd/baton" {
				continue
			}
			words = words[i+1:]
		case len(words) > 2 && words[0] == "go" && words[1] == "install":
			if pkg, _, _ := strings.Cut(words[2], "@"); pkg != module+"/cmd/baton" {
				t.Errorf("README.md: %q installs %s, not %s/cmd/baton", l, pkg, module)
			}
			continue
		case len(words) > 2 && words[0] == "docker" && words[1] == "run":
			// What follows the image, baton, is the command.
			i := slices.Index(words, "baton")
			if i < 0 {
				t.Errorf("README.md: %q does not run the image baton", l)
				continue
			}
			words = words[i+1:]
		default:
			continue
		}
		var args []string
		for _, w := range words {
			w = strings.Trim(w, "[]")
			if w != "" && w != "COMMAND" && w != "..." {
				args = append(args, w)
			}
		}
		out = append(out, args)
	}
	return out
}

func modulePath(t *testing.T) string {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(l, "module "); ok {
			return strings.TrimSpace(m)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

// TestREADMECommands: every baton command line of README.md is one that
// baton takes, its flags included: with --help appended, run() prints that
// command's help and exits 0.
func TestREADMECommands(t *testing.T) {
	t.Parallel()
	cmds := commandLines(t, readme(t))
	seen := map[string]bool{}
	for _, args := range cmds {
		seen[strings.Join(args, " ")] = true
	}
	for _, want := range []string{"demo", "demo --walk", "livechat webhooks --desk ID --url URL", ""} {
		if !seen[want] {
			t.Errorf("the README's command lines do not include baton %q: the extraction is broken or the README lost it; found %q", want, cmds)
		}
	}
	for line := range seen {
		args := append(strings.Fields(line), "--help")
		stdout, stderr, err := runArgs(t, args...)
		if err != nil || !strings.HasPrefix(stdout, "usage: baton") {
			t.Errorf("README.md's baton %s: %v %s", line, err, stderr)
		}
	}
}

// TestREADMECommandsSection: README.md's Commands section lists every
// command as baton help does, and nothing else; its Configuration section
// lists every environment variable.
func TestREADMECommandsSection(t *testing.T) {
	t.Parallel()
	doc := readme(t)
	sec := section(t, doc, "Commands")
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `baton ([^`]*)` \\|").FindAllStringSubmatch(sec, -1) {
		listed = append(listed, m[1])
	}
	var want []string
	for _, c := range commands {
		want = append(want, strings.TrimSpace(c.name+" "+c.args))
	}
	if !slices.Equal(listed, want) {
		t.Errorf("README.md's Commands table lists\n%q\nbaton help lists\n%q", listed, want)
	}
	stdout, _, err := runArgs(t, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(stdout, "\n  "+w+"\n") {
			t.Errorf("baton help does not list %q", w)
		}
	}
	cfg := section(t, doc, "Configuration")
	for _, v := range vars {
		if !strings.Contains(cfg, "| `"+v.name+"` |") {
			t.Errorf("README.md's Configuration section does not list %s", v.name)
		}
	}
}
