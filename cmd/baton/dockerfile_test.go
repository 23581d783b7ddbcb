package main

import (
	"encoding/json"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
)

// instruction is one line of a Dockerfile, its continuations joined.
type instruction struct {
	op, args string
}

// dockerfile reads the repository's Dockerfile into its stages.
func dockerfile(t *testing.T) [][]instruction {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if line == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			line += s + " "
			continue
		}
		line += l
		op, args, _ := strings.Cut(line, " ")
		line = ""
		in := instruction{strings.ToUpper(op), strings.TrimSpace(args)}
		if in.op == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before FROM", in.op)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

func find(stage []instruction, op string) []string {
	var out []string
	for _, in := range stage {
		if in.op == op {
			out = append(out, in.args)
		}
	}
	return out
}

// TestDockerfile checks the Dockerfile without Docker: a build stage on
// go.mod's Go that builds a static binary, and a final distroless (or
// scratch) stage that runs it as a non-root user, with a default command run
// accepts and the environment variables baton reads. The image itself is
// built by hand or by CI (docker build -t baton .).
func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := dockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	goVersion := ""
	b, _ := os.ReadFile("../../go.mod")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			parts := strings.Split(strings.TrimSpace(v), ".")
			goVersion = strings.Join(parts[:min(2, len(parts))], ".")
		}
	}
	if from := build[0].args; !strings.HasPrefix(from, "golang:"+goVersion) || !strings.HasSuffix(from, " AS build") {
		t.Errorf("build stage FROM %q, want golang:%s… AS build (go.mod's Go)", from, goVersion)
	}
	static := false
	for _, r := range find(build, "RUN") {
		if strings.Contains(r, "CGO_ENABLED=0") && strings.Contains(r, "go build") && strings.Contains(r, "./cmd/baton") {
			static = true
		}
	}
	if !static {
		t.Error("the build stage has no RUN CGO_ENABLED=0 go build … ./cmd/baton")
	}

	if from := final[0].args; !strings.HasPrefix(from, "gcr.io/distroless/static") && from != "scratch" {
		t.Errorf("final stage FROM %q, want distroless/static or scratch", from)
	}
	users := find(final, "USER")
	if len(users) == 0 || slices.Contains([]string{"root", "0", "0:0"}, users[len(users)-1]) {
		t.Errorf("final stage USER %q, want a non-root user", users)
	}
	var entry, cmd []string
	if e := find(final, "ENTRYPOINT"); len(e) == 1 {
		json.Unmarshal([]byte(e[0]), &entry)
	}
	if c := find(final, "CMD"); len(c) == 1 {
		json.Unmarshal([]byte(c[0]), &cmd)
	}
	if len(entry) != 1 || !strings.HasSuffix(entry[0], "/baton") {
		t.Fatalf("ENTRYPOINT %q, want the binary alone, in exec form", entry)
	}
	copied := false
	for _, c := range find(final, "COPY") {
		copied = copied || strings.HasPrefix(c, "--from=build ") && strings.HasSuffix(c, " "+entry[0])
	}
	if !copied {
		t.Errorf("the final stage copies no binary to %s from the build stage", entry[0])
	}
	if stdout, _, err := runArgs(t, append(cmd, "--help")...); err != nil || !strings.HasPrefix(stdout, "usage: baton") {
		t.Errorf("CMD %q: baton does not take it: %v", cmd, err)
	}

	port := ""
	for _, e := range find(final, "ENV") {
		for _, kv := range strings.Fields(e) {
			name, val, _ := strings.Cut(kv, "=")
			if !slices.ContainsFunc(vars, func(v envVar) bool { return v.name == name }) {
				t.Errorf("ENV %s: baton reads no such variable", name)
			}
			if name == "BATON_ADDR" {
				_, port, _ = net.SplitHostPort(val)
			}
		}
	}
	if expose := find(final, "EXPOSE"); port == "" || !slices.Contains(expose, port) {
		t.Errorf("EXPOSE %q, want BATON_ADDR's port %q", expose, port)
	}
}
