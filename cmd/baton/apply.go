package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/registry"
)

// fileEnv is the environment of the commands that read a configuration file.
var fileEnv = []envVar{
	{"BATON_CONFIG", "the YAML file when -f is not given"},
	{"${VAR}", "each variable the file names"},
}

// fileOpts are the flags of the commands that read a configuration file
// (apply, config check) and of admin init.
type fileOpts struct {
	file   string
	dryRun bool
	name   string
	force  bool
}

// define adds the flags of command name to fs.
func (o *fileOpts) define(name string, fs *flag.FlagSet) {
	switch name {
	case "apply":
		fs.StringVar(&o.file, "f", "", "the YAML `FILE` to apply (default $BATON_CONFIG)")
		fs.BoolVar(&o.dryRun, "dry-run", false, "print what applying would change, and change nothing")
	case "config check":
		fs.StringVar(&o.file, "f", "", "the YAML `FILE` to check (default $BATON_CONFIG)")
	case "admin init":
		fs.StringVar(&o.name, "name", "admin", "the admin key's `NAME`")
		fs.BoolVar(&o.force, "force", false, "create one even when admin keys exist (the others stay)")
	}
}

// loadConfig reads and validates the file of o (or $BATON_CONFIG) as serve
// does: ${VAR}s from the environment, desk settings checked per kind by the
// registry. It returns the file's path too.
func loadConfig(cmd string, o fileOpts, e env, getenv func(string) string) (*config.File, string, error) {
	path := o.file
	if path == "" {
		path = e.config
	}
	if path == "" {
		return nil, "", fmt.Errorf("%s: -f FILE is required (or BATON_CONFIG); try: baton %s --help", cmd, cmd)
	}
	f, err := config.Load(path, config.Params{Getenv: getenv, Desk: registry.New(registry.Params{}).Desk})
	return f, path, err
}

// checkConfig validates the file without a database and says what it declares.
func checkConfig(o fileOpts, e env, getenv func(string) string, stdout io.Writer) error {
	f, _, err := loadConfig("config check", o, e, getenv)
	if err != nil {
		return err
	}
	var desks, bots, keys, agents int
	for _, w := range f.Workspaces {
		desks += len(w.Desks)
		bots += len(w.Bots)
		keys += len(w.APIKeys)
		agents += len(w.InboxAgents)
	}
	fmt.Fprintf(stdout, "ok: %s, %s, %s, %s, %s, %s\n", count(len(f.Workspaces), "workspace"), count(desks, "desk"),
		count(bots, "bot"), count(keys, "API key"), count(agents, "inbox agent"), count(len(f.AdminKeys), "admin key"))
	return nil
}

// count says "1 desk", "2 desks".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// applyConfig applies the file to the store (or, with --dry-run, works out
// what applying would do) and prints the plan.
func applyConfig(ctx context.Context, o fileOpts, e env, getenv func(string) string, log *slog.Logger, stdout io.Writer) error {
	f, path, err := loadConfig("apply", o, e, getenv)
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, e, log)
	if err != nil {
		return err
	}
	defer store.Close()
	plan, err := f.Apply(ctx, store, config.ApplyParams{DryRun: o.dryRun, Secrets: registry.Secrets})
	if err != nil {
		return fmt.Errorf("applying %s: %w", path, err)
	}
	return plan.Print(stdout)
}
