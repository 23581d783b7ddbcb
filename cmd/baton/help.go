package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// envVar is an environment variable a command reads, with its default.
type envVar struct {
	name, help string
}

// vars are the environment variables Baton reads, as serve reads them.
var vars = []envVar{
	{"BATON_ADDR", `listen address (default ":8080")`},
	{"BATON_DATABASE_URL", "postgres://... to use PostgreSQL; unset for SQLite"},
	{"BATON_DB", `SQLite file (default "baton.db")`},
	{"BATON_SQLITE_SYNC", "full: every SQLite commit waits for the disk, so a 2xx survives\na power loss (default); normal: survives a crash of the process only"},
	{"BATON_SECRET_KEY", "base64 of 32 bytes sealing secrets at rest; required with\nPostgreSQL, kept in \"<BATON_DB>.key\" for SQLite when unset"},
	{"BATON_CONFIG", "YAML file declaring workspaces (or --config; default none)"},
	{"BATON_LOG_LEVEL", "debug, info, warn or error (default info)"},
	{"BATON_RETRY_SCALE", "multiplies every retry delay (default 1; 0.01 for local tests)"},
	{"BATON_JOB_LEASE", "how long a job is held between its worker's renewals, so\nhow soon a dead instance's work resumes (default 5s)"},
	{"BATON_PUBLIC_URL", "Baton's address as customers, agents and desks reach it, which\nuploaded files' links begin with (default: the address each upload came to)"},
	{"BATON_SECURE_COOKIES", "true: the web inbox's cookies are Secure even over plain HTTP,\nfor Baton behind a proxy that terminates TLS (default false)"},
}

// shared returns the entries of vars with these names.
func shared(names ...string) []envVar {
	var out []envVar
	for _, v := range vars {
		if slices.Contains(names, v.name) {
			out = append(out, v)
		}
	}
	return out
}

// command is one of baton's commands, as its help describes it.
type command struct {
	name    string   // "serve", or two words: "livechat webhooks"
	args    string   // what follows the name in its usage line
	summary string   // one line, for the list of commands
	about   string   // more, for the command's own help; may be empty
	env     []envVar // the environment variables it reads
}

// commands are baton's commands, in the order the help lists them.
var commands = []command{
	{
		name: "serve", args: "[--config FILE]",
		summary: "run the server (the default command)",
		about:   "Serves the API until SIGINT or SIGTERM, then lets requests finish (up to 10s).",
		env:     vars,
	},
	{
		name: "migrate", summary: "apply the database migrations and exit",
		env: shared("BATON_DATABASE_URL", "BATON_DB"),
	},
	{
		name: "apply", args: "-f FILE [--dry-run]",
		summary: "make the store match a YAML file, and print what changed",
		about: "Creates or updates what the file names, and removes the API keys, inbox agents\n" +
			"and admin keys an earlier apply created that the file no longer lists (those\n" +
			"made through the admin API stay; so do workspaces, desks and bots the file no\n" +
			"longer names). Prints one line per change, then the counts; --dry-run prints\n" +
			"the same and writes nothing.",
		env: append(shared("BATON_DATABASE_URL", "BATON_DB", "BATON_SECRET_KEY", "BATON_LOG_LEVEL"), fileEnv...),
	},
	{
		name: "config check", args: "-f FILE",
		summary: "check a YAML file, without a database",
		about:   "Prints what the file declares, or the first error as path (line N): message.",
		env:     fileEnv,
	},
	{
		name: "admin init", args: "[--name NAME] [--force]",
		summary: "create the first admin key and print it, once",
		about: "Refuses when the store has an admin key already, unless --force. The key\n" +
			"authenticates the admin API (/v1/admin); it is stored hashed.",
		env: shared("BATON_DATABASE_URL", "BATON_DB", "BATON_SECRET_KEY", "BATON_LOG_LEVEL"),
	},
	{
		name: "demo", args: "[--walk]",
		summary: "run a demo on a temporary SQLite database",
		about: "Serves Baton with a demo workspace, the built-in inbox and a demo bot that\n" +
			"verifies the signed webhooks it receives, and prints the curl lines that walk\n" +
			"a handoff through queued, active and ended. Baton listens on 127.0.0.1 on a\n" +
			"free port (BATON_ADDR chooses it), the demo bot on another free port of\n" +
			"127.0.0.1. The database and its keys are thrown away on exit.",
		env: []envVar{
			{"BATON_ADDR", "listen address (default 127.0.0.1, a free port); an address\nwithout a host, like :8080, listens on 127.0.0.1: the demo's\nkeys are public; 0.0.0.0:8080 to be reached from outside,\nas from a container's host"},
			{"BATON_LOG_LEVEL", "debug, info, warn or error (default warn)"},
		},
	},
	{
		name: "livechat webhooks", args: "--desk ID --url URL [--config FILE]",
		summary: "register a LiveChat desk's chat webhooks for the Baton at URL",
		env: []envVar{
			{"BATON_CONFIG", "YAML file declaring the desk (or --config), and the\n${VAR}s that file names"},
		},
	},
	{
		name: "sim livechat", args: "[--addr HOST:PORT]",
		summary: "run the LiveChat simulator, for local development",
	},
	{
		name: "gorgias integration", args: "--desk ID --url URL [--print] [--config FILE]",
		summary: "create a Gorgias desk's HTTP integration for the Baton at URL, or --print it to paste",
		env:     []envVar{{"BATON_CONFIG", "YAML file declaring the desk (or --config), and the\n${VAR}s that file names"}},
	},
	{
		name: "sim gorgias", args: "[--addr HOST:PORT]",
		summary: "run the Gorgias simulator, for local development",
	},
	{
		name: "intercom hours", args: "--desk ID [--schedule NAME] [--print]",
		summary: "import an Intercom desk's office hours into its service periods",
		about: "Reads the workspace's office-hours schedule (the only or first one, or the one\n" +
			"--schedule names) and its exceptions from Intercom, with the desk's access\n" +
			"token, and stores them as the desk's policy zone and periods (the rest of its\n" +
			"policy stays), or --print prints them as YAML to paste into a config file.",
		env: shared("BATON_DATABASE_URL", "BATON_DB", "BATON_SECRET_KEY", "BATON_LOG_LEVEL"),
	},
	{
		name: "sim intercom", args: "[--addr HOST:PORT]",
		summary: "run the Intercom simulator, for local development",
	},
	{name: "workspaces", summary: "list the workspaces of a running Baton (admin API)", env: apiAdminEnv},
	{name: "workspaces create", args: "--name NAME [--id ID]", summary: "create a workspace", env: apiAdminEnv},
	{
		name: "workspaces delete", args: "ID [--force]", summary: "delete a workspace; its keys stop working at once", env: apiAdminEnv,
		about: "Refused while it has open handoffs, unless --force, which ends them bot_closed.",
	},
	{
		name: "keys create", args: "--name NAME [--scope SCOPE] [--bot BOT]", summary: "create a bot API key of the workspace", env: apiWorkspaceEnv,
		about: "Prints the key's secret: this once only, Baton keeps a hash of it.",
	},
	{name: "keys list", summary: "list the workspace's bot API keys (their prefixes, never the keys)", env: apiWorkspaceEnv},
	{name: "keys revoke", args: "ID", summary: "revoke a bot API key", env: apiWorkspaceEnv},
	{name: "bots", summary: "list the workspace's bots", env: apiWorkspaceEnv},
	{name: "desks", summary: "list the workspace's desks and their status", env: apiWorkspaceEnv},
	{
		name: "desks check", args: "ID", summary: "check a desk now and print its status", env: apiWorkspaceEnv,
		about: "Exits non-zero when the desk is unavailable.",
	},
	{name: "agents", summary: "list the workspace's inbox agents", env: apiWorkspaceEnv},
	{
		name: "events tail", args: "[--bot BOT] [--after SEQ]", summary: "follow a bot's events, one line each (bot API)", env: apiBotEnv,
		about: "Reads the event stream (/v1/events/stream) until interrupted, reconnecting\n" +
			"after the last event seen when the connection drops.",
	},
	{name: "version", summary: "print the version"},
	{name: "help", args: "[COMMAND]", summary: "print this help, or a command's"},
}

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return commands[i], true
}

// group returns the two-word commands whose first word is name ("livechat").
func group(name string) []command {
	var out []command
	for _, c := range commands {
		if first, _, ok := strings.Cut(c.name, " "); ok && first == name {
			out = append(out, c)
		}
	}
	return out
}

// opts holds the values of the commands' flags.
type opts struct {
	fileOpts                // apply, config check, admin init (apply.go)
	config, desk, url, addr string
	schedule                string
	walk, print             bool
}

// flags returns c's flag set, filling o.
func (c command) flags(o *opts) *flag.FlagSet {
	fs := flag.NewFlagSet("baton "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run reports the errors and prints the help
	fs.Usage = func() {}
	switch c.name {
	case "serve":
		fs.StringVar(&o.config, "config", "", "YAML `FILE` declaring workspaces (default $BATON_CONFIG)")
	case "apply", "config check", "admin init":
		o.fileOpts.define(c.name, fs)
	case "demo":
		fs.BoolVar(&o.walk, "walk", false, "walk a handoff through its states over HTTP, then exit")
	case "livechat webhooks":
		fs.StringVar(&o.config, "config", "", "YAML `FILE` declaring the desk (default $BATON_CONFIG)")
		fs.StringVar(&o.desk, "desk", "", "the LiveChat desk's `ID` (required)")
		fs.StringVar(&o.url, "url", "", "this Baton's public base `URL` (required)")
	case "sim livechat":
		fs.StringVar(&o.addr, "addr", "127.0.0.1:8090", "the `HOST:PORT` to listen on")
	case "gorgias integration":
		fs.StringVar(&o.config, "config", "", "YAML `FILE` declaring the desk (default $BATON_CONFIG)")
		fs.StringVar(&o.desk, "desk", "", "the Gorgias desk's `ID` (required)")
		fs.StringVar(&o.url, "url", "", "this Baton's public base `URL` (required)")
		fs.BoolVar(&o.print, "print", false, "print the integration to paste into Gorgias instead of creating it")
	case "sim gorgias":
		fs.StringVar(&o.addr, "addr", "127.0.0.1:8091", "the `HOST:PORT` to listen on")
	case "intercom hours":
		fs.StringVar(&o.desk, "desk", "", "the Intercom desk's `ID` (required)")
		fs.StringVar(&o.schedule, "schedule", "", "the office-hours schedule's `NAME` (default: the only or first one)")
		fs.BoolVar(&o.print, "print", false, "print the periods as YAML instead of storing them")
	case "sim intercom":
		fs.StringVar(&o.addr, "addr", "127.0.0.1:8092", "the `HOST:PORT` to listen on")
	}
	return fs
}

// help prints c's own help: usage, flags and environment.
func (c command) help(w io.Writer) { printHelp(w, c, c.flags(&opts{})) }

// printHelp prints a command's help: its usage, fs's flags, the commands
// under it and the environment it reads.
func printHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: baton %s\n\n%s.\n", strings.TrimSpace(c.name+" "+c.args), capital(c.summary))
	if c.about != "" {
		fmt.Fprintf(w, "%s\n", c.about)
	}
	fmt.Fprint(w, "\nflags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  %s", dashed(f.Name))
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n        %s", usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprint(w, "  -h, --help\n        print this help\n")
	if c.name == "help" {
		fmt.Fprintf(w, "\nCOMMAND is one of: %s.\n", names(commands))
	}
	if subs := group(c.name); len(subs) > 0 {
		fmt.Fprint(w, "\ncommands:\n")
		printCommands(w, subs)
	}
	fmt.Fprint(w, "\nenvironment:\n")
	if len(c.env) == 0 {
		fmt.Fprint(w, "  none\n")
	}
	printEnv(w, c.env)
}

// dashed is how the help writes a flag: -f for one letter, --name for more.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// usage prints the help of baton as a whole.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: baton [command] [flags]\n\ncommands:\n")
	printCommands(w, commands)
	fmt.Fprint(w, "\nbaton COMMAND --help prints a command's flags and the environment it reads.\n\nenvironment:\n")
	printEnv(w, vars)
}

// groupHelp prints the help of a two-word command's first word ("baton livechat").
func groupHelp(w io.Writer, name string) {
	fmt.Fprintf(w, "usage: baton %s COMMAND [flags]\n\ncommands:\n", name)
	printCommands(w, group(name))
	fmt.Fprintf(w, "\nbaton %s COMMAND --help prints a command's flags and the environment it reads.\n", name)
}

func printCommands(w io.Writer, cs []command) {
	for _, c := range cs {
		fmt.Fprintf(w, "  %s\n        %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
}

func printEnv(w io.Writer, vs []envVar) {
	for _, v := range vs {
		lines := strings.Split(v.help, "\n")
		fmt.Fprintf(w, "  %-19s %s\n", v.name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "  %-19s %s\n", "", l)
		}
	}
}

func names(cs []command) string {
	var ns []string
	for _, c := range cs {
		ns = append(ns, c.name)
	}
	return strings.Join(ns, ", ")
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}
