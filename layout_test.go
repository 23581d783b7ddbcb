package baton_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayout checks the package graph against the rules in README.md's
// Layout section, from `go list`: the root imports nothing of ours; no
// desk imports the engine, the outbox or a store; the engine and the outbox
// import no desk and no store; only the composition root (app) puts the
// engine, the outbox, the HTTP API and the web inbox together; desk kinds
// are imported by the registry, and outside it only by commands and tests
// that serve one kind on purpose.
func TestLayout(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/batonhq/baton"
	imports := map[string][]string{} // package → the module's packages it imports
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(f[0], mod), "/")
		if pkg == "" {
			pkg = "baton"
		}
		imports[pkg] = nil
		for _, imp := range f[1:] {
			if imp == mod {
				imports[pkg] = append(imports[pkg], "baton")
			} else if p, ok := strings.CutPrefix(imp, mod+"/"); ok {
				imports[pkg] = append(imports[pkg], p)
			}
		}
	}
	// The desks are what the registry builds: every package it imports
	// but the root, the internal ones and llm (the LLM endpoint whose
	// settings every kind takes, checked by the registry). A new kind is
	// covered as soon as it is registered.
	var desks []string
	for _, d := range imports["registry"] {
		if d != "baton" && d != "llm" && !strings.HasPrefix(d, "internal/") {
			desks = append(desks, d)
		}
	}
	if len(desks) < 3 {
		t.Fatalf("the registry imports only %v: where are the desks?", desks)
	}
	stores := []string{"sqlstore", "sqlite", "postgres"}
	runtime := []string{"engine", "outbox", "app", "httpapi", "registry", "web"}
	rules := []struct {
		rule     string
		applies  func(pkg string) bool
		mustNot  []string
		allowOut []string // for "only" rules: the packages allowed to import
	}{
		{"the root imports nothing of ours", is("baton"), all(imports), nil},
		{"a desk imports no engine, outbox, registry or store", in(desks), append(slices.Clone(runtime), stores...), nil},
		{"the engine and the outbox import no desk and no store", in([]string{"engine", "outbox"}), append(append(slices.Clone(desks), stores...), "app", "httpapi", "registry"), nil},
		{"the HTTP API imports no desk, no store, no outbox", is("httpapi"), append(append(slices.Clone(desks), stores...), "outbox", "app", "registry"), nil},
		{"the web inbox imports no desk, no store, no outbox, no HTTP API", is("web"), append(append(slices.Clone(desks), stores...), "outbox", "app", "registry", "httpapi"), nil},
	}
	for _, r := range rules {
		for pkg, deps := range imports {
			if !r.applies(pkg) {
				continue
			}
			for _, d := range deps {
				if slices.Contains(r.mustNot, d) {
					t.Errorf("%s: %s imports %s", r.rule, pkg, d)
				}
			}
		}
	}
	only := []struct {
		rule    string
		imports []string
		allowed []string
	}{
		{"wiring exists once: only app builds Baton from the engine, the outbox and the HTTP API", []string{"outbox", "httpapi"}, []string{"app", "cmd/baton", "desktest", "relaybench"}},
		{"wiring exists once: only app builds the web inbox", []string{"web"}, []string{"app"}},
		{"desk kinds are registered in one place", desks, []string{"registry", "cmd/baton", "relaybench"}},
	}
	for _, o := range only {
		for pkg, deps := range imports {
			for _, d := range deps {
				if slices.Contains(o.imports, d) && !slices.Contains(o.allowed, pkg) {
					t.Errorf("%s: %s imports %s", o.rule, pkg, d)
				}
			}
		}
	}
	// cmd/baton, desktest and relaybench may name outbox.Config, the
	// worker's settings, but only app may call the constructors.
	constructors(t, []string{"engine.New(", "outbox.New(", "httpapi.NewServer(", "web.New("}, "app")
}

func is(name string) func(string) bool { return func(p string) bool { return p == name } }

func in(names []string) func(string) bool {
	return func(p string) bool { return slices.Contains(names, p) }
}

func all(imports map[string][]string) []string {
	var out []string
	for p := range imports {
		out = append(out, p)
	}
	return out
}

// constructors fails t when a non-test Go file outside the package dir
// calls one of calls.
func constructors(t *testing.T, calls []string, dir string) {
	t.Helper()
	for _, call := range calls {
		out, _ := exec.Command("git", "grep", "-n", "-F", call, "--", "*.go", ":!*_test.go", ":!"+dir+"/").Output()
		for line := range strings.Lines(string(out)) {
			t.Errorf("wiring exists once: %s calls %s outside %s", strings.TrimSpace(line), call, dir)
		}
	}
}
