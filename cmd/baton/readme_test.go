package main

// The README's examples are tested here, in the command's package, because
// this is where they can be run as printed: the YAML blocks are loaded with
// the same config.Load and registry that serve uses and applied to a store,
// and the command lines go through run() itself.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
	envRef      = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	assignment  = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"$`)
	opensslRand = regexp.MustCompile(`\$\(openssl rand -(hex|base64) ([0-9]+)\)`)
)

// shellEnv runs the export lines of the README's sh blocks as a shell
// would, as far as they go: NAME="..." assignments whose only command
// substitutions are openssl rand -hex N and -base64 N, made here with
// crypto/rand. Anything else it cannot run fails the test.
func shellEnv(t *testing.T, doc string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, block := range fenced(doc, "sh") {
		block = strings.ReplaceAll(block, "\\\n", " ")
		for _, line := range strings.Split(block, "\n") {
			words, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
			if !ok {
				continue
			}
			for _, w := range strings.Fields(opensslRand.ReplaceAllStringFunc(words, func(sub string) string {
				m := opensslRand.FindStringSubmatch(sub)
				n, _ := strconv.Atoi(m[2])
				b := make([]byte, n)
				rand.Read(b)
				if m[1] == "hex" {
					return hex.EncodeToString(b)
				}
				return base64.StdEncoding.EncodeToString(b)
			})) {
				m := assignment.FindStringSubmatch(w)
				if m == nil || strings.ContainsAny(m[2], "$`\\") {
					t.Fatalf("README.md: cannot run %q of %q", w, line)
				}
				env[m[1]] = m[2]
			}
		}
	}
	return env
}

// TestREADMEConfig: the README's YAML example works as printed, with its
// variables made as its sh block makes them: every ${VAR} is exported
// there; it loads as serve loads it (config.Load with the registry's
// desks); baton apply --dry-run lists every object it declares and writes
// nothing; baton apply then creates them, and applying it again changes
// nothing. The desk probes of baton serve are left out, as they would call
// the example's hosts.
func TestREADMEConfig(t *testing.T) {
	t.Parallel()
	doc := readme(t)
	blocks := fenced(doc, "yaml")
	if len(blocks) == 0 {
		t.Fatal("README.md has no yaml block")
	}
	env := shellEnv(t, doc)
	for i, y := range blocks {
		for _, m := range envRef.FindAllStringSubmatch(y, -1) {
			if env[m[1]] == "" {
				t.Errorf("yaml block %d names ${%s}, which README.md's sh block does not export", i+1, m[1])
			}
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "baton.yaml")
		if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, config.Params{Getenv: getenv(env), Desk: registry.New(registry.Params{}).Desk})
		if err != nil {
			t.Errorf("yaml block %d: %v\n%s", i+1, err, y)
			continue
		}
		runEnv := maps.Clone(env)
		runEnv["BATON_DB"] = filepath.Join(dir, "baton.db")
		want := planLines(cfg)
		stdout, stderr, err := runArgsEnv(t, runEnv, "apply", "--dry-run", "-f", path)
		if err != nil {
			t.Fatalf("yaml block %d: baton apply --dry-run: %v\n%s", i+1, err, stderr)
		}
		if got := strings.Split(strings.TrimSpace(stdout), "\n"); !slices.Equal(got[:len(got)-1], want) ||
			!strings.HasPrefix(got[len(got)-1], fmt.Sprintf("dry run: %d to create, 0 to change, 0 to remove", len(want))) {
			t.Errorf("yaml block %d: baton apply --dry-run printed\n%s\nwant the lines\n%s", i+1, stdout, strings.Join(want, "\n"))
		}
		for again, want := range []string{fmt.Sprintf("apply: %d created, 0 changed, 0 removed", len(want)), "apply: no changes"} {
			stdout, stderr, err := runArgsEnv(t, runEnv, "apply", "-f", path)
			if err != nil || !strings.HasSuffix(stdout, "\n"+want+"\n") && stdout != want+"\n" {
				t.Errorf("yaml block %d: baton apply (%d): %v, printed\n%s\nwant it to end %q\n%s", i+1, again+1, err, stdout, want, stderr)
			}
		}
	}
}

// planLines are the lines of the plan that creates what f declares.
func planLines(f *config.File) []string {
	var lines []string
	for _, w := range f.Workspaces {
		lines = append(lines, "+ workspace "+w.ID)
		for _, k := range w.APIKeys {
			lines = append(lines, "+ key "+w.ID+"/"+k.Name)
		}
		for _, d := range w.Desks {
			lines = append(lines, fmt.Sprintf("+ desk %s/%s (%s)", w.ID, d.ID, d.Kind))
		}
		for _, b := range w.Bots {
			lines = append(lines, "+ bot "+w.ID+"/"+b.ID)
		}
		for _, a := range w.InboxAgents {
			lines = append(lines, "+ agent "+w.ID+"/"+a.ID)
		}
	}
	for _, k := range f.AdminKeys {
		lines = append(lines, "+ admin_key "+k.Name)
	}
	return lines
}

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
