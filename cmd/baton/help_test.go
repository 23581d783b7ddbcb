package main

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

// TestHelp: every command's --help (and -h, and baton help COMMAND) prints
// that command's own usage, its flags and the environment variables it reads
// on stdout, and exits 0; baton --help and baton help print the overview.
func TestHelp(t *testing.T) {
	t.Parallel()
	// The commands the README and issue 8 promise; the table must keep them.
	for _, name := range []string{"serve", "migrate", "demo", "livechat webhooks", "sim livechat", "version", "help"} {
		if _, ok := lookup(name); !ok {
			t.Errorf("no command %q", name)
		}
	}
	for _, c := range commands {
		words := strings.Fields(c.name)
		for _, args := range [][]string{
			slices.Concat(words, []string{"--help"}),
			slices.Concat(words, []string{"-h"}),
			slices.Concat([]string{"help"}, words),
		} {
			stdout, stderr, err := runArgs(t, args...)
			if err != nil || stderr != "" {
				t.Errorf("baton %s: %v, stderr %q", strings.Join(args, " "), err, stderr)
				continue
			}
			if want := "usage: baton " + c.name; !strings.HasPrefix(stdout, want) {
				t.Errorf("baton %s: stdout does not start with %q:\n%s", strings.Join(args, " "), want, stdout)
			}
			c.flags(&opts{}).VisitAll(func(f *flag.Flag) {
				if !strings.Contains(stdout, "\n  "+dashed(f.Name)) {
					t.Errorf("baton %s: flag --%s missing:\n%s", strings.Join(args, " "), f.Name, stdout)
				}
			})
			for _, v := range c.env {
				if !strings.Contains(stdout, "\n  "+v.name+" ") {
					t.Errorf("baton %s: %s missing:\n%s", strings.Join(args, " "), v.name, stdout)
				}
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		stdout, stderr, err := runArgs(t, args...)
		if err != nil || stderr != "" || !strings.HasPrefix(stdout, "usage: baton [command]") {
			t.Errorf("baton %v: %v, stderr %q, stdout:\n%s", args, err, stderr, stdout)
			continue
		}
		for _, c := range commands {
			if !strings.Contains(stdout, "\n  "+strings.TrimSpace(c.name+" "+c.args)+"\n") {
				t.Errorf("baton %v: command %q missing:\n%s", args, c.name, stdout)
			}
		}
		for _, v := range vars {
			if !strings.Contains(stdout, "\n  "+v.name+" ") {
				t.Errorf("baton %v: %s missing:\n%s", args, v.name, stdout)
			}
		}
	}
	// The first word of a two-word command lists its subcommands.
	for _, g := range []string{"livechat", "sim"} {
		for _, args := range [][]string{{g, "--help"}, {"help", g}} {
			stdout, _, err := runArgs(t, args...)
			if err != nil || !strings.HasPrefix(stdout, "usage: baton "+g+" COMMAND") {
				t.Errorf("baton %v: %v, stdout:\n%s", args, err, stdout)
			}
			for _, c := range group(g) {
				if !strings.Contains(stdout, "\n  "+c.name) {
					t.Errorf("baton %v: %q missing:\n%s", args, c.name, stdout)
				}
			}
		}
	}
	// Help works whatever the environment holds.
	stdout, _, err := runArgsEnv(t, map[string]string{"BATON_JOB_LEASE": "soon", "BATON_LOG_LEVEL": "loud"}, "serve", "--help")
	if err != nil || !strings.HasPrefix(stdout, "usage: baton serve") {
		t.Errorf("serve --help with a bad environment: %v\n%s", err, stdout)
	}
}

// TestUsageErrors: a wrong command line names the problem and where to look.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "serve: flag provided but not defined: -bogus; try: baton serve --help"},
		{[]string{"demo", "extra"}, `demo: unexpected argument "extra"; try: baton demo --help`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"; try: baton help`},
		{[]string{"help", "frobnicate"}, `help: unknown command "frobnicate"; try: baton help`},
		{[]string{"livechat"}, "usage: baton livechat webhooks --desk ID --url URL [--config FILE]; try: baton livechat --help"},
		{[]string{"sim", "nosuch"}, "usage: baton sim livechat [--addr HOST:PORT]; try: baton sim --help"},
	} {
		stdout, _, err := runArgs(t, c.args...)
		if err == nil || err.Error() != c.want || stdout != "" {
			t.Errorf("baton %v: got %v (stdout %q), want %q", c.args, err, stdout, c.want)
		}
	}
}

// runArgs calls run with args and an empty environment.
func runArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	return runArgsEnv(t, nil, args...)
}

func runArgsEnv(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	var o, e strings.Builder
	err = run(t.Context(), append([]string{"baton"}, args...), getenv(env), &o, &e)
	return o.String(), e.String(), err
}
