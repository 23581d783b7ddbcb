package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/password"
	"github.com/batonhq/baton/sqlite"
)

// applyFile is a small file for the apply commands, with a secret of each kind.
const applyFile = `
workspaces:
  - id: acme
    api_keys: [{name: prod, key: "${API_KEY}"}]
    desks:
      - {id: inbox, kind: inbox}
    inbox_agents:
      - {id: ana, name: Ana, desk: inbox, password: "${ANA_PASSWORD}"}
admin_keys:
  - {name: ops, key: "${ADMIN_KEY}"}
`

// storeEnvs are the environments of a fresh SQLite store and, when a server
// answers, a fresh PostgreSQL one, by name.
func storeEnvs(t *testing.T) map[string]func(t *testing.T) map[string]string {
	return map[string]func(t *testing.T) map[string]string{
		"sqlite": func(t *testing.T) map[string]string {
			return map[string]string{"BATON_DB": filepath.Join(t.TempDir(), "baton.db")}
		},
		"postgres": func(t *testing.T) map[string]string {
			key := make([]byte, 32)
			rand.Read(key)
			return map[string]string{"BATON_DATABASE_URL": freshPostgres(t), "BATON_SECRET_KEY": base64.StdEncoding.EncodeToString(key)}
		},
	}
}

// view runs fn on the store env names.
func view(t *testing.T, env map[string]string, fn func(tx baton.Tx) error) {
	t.Helper()
	e, err := readEnv(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	store, _, err := openStore(t.Context(), e, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.View(t.Context(), fn); err != nil {
		t.Error(err)
	}
}

// TestApplyCommand: baton apply --dry-run prints the plan and writes
// nothing; baton apply prints the same plan and makes it; applying again
// changes nothing; a changed file prints what changed, by field; no secret
// is printed; a refused file names the value and its line. On both stores.
func TestApplyCommand(t *testing.T) {
	t.Parallel()
	for name, storeEnv := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := storeEnv(t)
			env["API_KEY"], env["ANA_PASSWORD"], env["ADMIN_KEY"] = "acme-api-key-0123456789", "ana's password", "badm_ops-key-0123456789"
			path := filepath.Join(t.TempDir(), "baton.yaml")
			if err := os.WriteFile(path, []byte(applyFile), 0o600); err != nil {
				t.Fatal(err)
			}
			created := "+ workspace acme\n+ key acme/prod\n+ desk acme/inbox (inbox)\n+ agent acme/ana\n+ admin_key ops\n"
			var out strings.Builder
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"apply", "--dry-run", "-f", path}, created + "dry run: 5 to create, 0 to change, 0 to remove; nothing was written\n"},
				{[]string{"apply", "-f", path, "--dry-run"}, created + "dry run: 5 to create, 0 to change, 0 to remove; nothing was written\n"},
				{[]string{"apply", "-f", path}, created + "apply: 5 created, 0 changed, 0 removed\n"},
				{[]string{"apply", "-f", path}, "apply: no changes\n"},
			} {
				stdout, stderr, err := runArgsEnv(t, env, c.args...)
				if err != nil || stdout != c.want {
					t.Errorf("baton %s: %v, printed\n%s\nwant\n%s\nstderr: %s", strings.Join(c.args, " "), err, stdout, c.want, stderr)
				}
				out.WriteString(stdout + stderr)
			}
			env["ANA_PASSWORD"], env["API_KEY"] = "another password", "acme-api-key-rotated"
			stdout, stderr, err := runArgsEnv(t, env, "apply", "-f", path)
			if want := "+ key acme/prod\n- key acme/prod\n~ agent acme/ana: password\napply: 1 created, 1 changed, 1 removed\n"; err != nil || stdout != want {
				t.Errorf("baton apply of the changed file: %v, printed\n%s\nwant\n%s\nstderr: %s", err, stdout, want, stderr)
			}
			out.WriteString(stdout + stderr)
			for _, secret := range []string{"acme-api-key-0123456789", "acme-api-key-rotated", "ana's password", "another password", "badm_ops-key-0123456789"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("a secret is in the output: %q", secret)
				}
			}
			view(t, env, func(tx baton.Tx) error {
				a, err := tx.InboxAgent("acme", "ana")
				if ok, _ := password.Check("another password", a.PasswordHash); err != nil || !ok {
					return fmt.Errorf("agent ana after the apply: %v, the password does not check", err)
				}
				if _, err := tx.APIKey(baton.HashKey("acme-api-key-rotated")); err != nil {
					return fmt.Errorf("the rotated key: %v", err)
				}
				return nil
			})

			// Refused: a workspace's desk id taken by another workspace.
			other := filepath.Join(t.TempDir(), "other.yaml")
			if err := os.WriteFile(other, []byte("workspaces:\n  - id: other\n    desks: [{id: inbox, kind: inbox}]\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			want := "applying " + other + ": workspaces[0].desks[0].id (line 3): is taken by another workspace"
			if _, _, err := runArgsEnv(t, env, "apply", "-f", other); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("baton apply of a refused file: %v, want %s…", err, want)
			}
		})
	}
}

// TestConfigCheck: baton config check needs no database; it says what a
// good file declares and names the path and line of a bad one's error, its
// desk settings checked per kind.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(applyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	badURL := strings.Replace(applyFile, "{id: inbox, kind: inbox}", `{id: support, kind: webhook, settings: {url: "ftp://support.example"}}`, 1)
	if err := os.WriteFile(bad, []byte(badURL), 0o600); err != nil {
		t.Fatal(err)
	}
	// A database that cannot be opened: the check never opens one.
	env := map[string]string{"BATON_DATABASE_URL": "mysql://nowhere", "BATON_DB": filepath.Join(dir, "baton.db"),
		"API_KEY": "acme-api-key-0123456789", "ANA_PASSWORD": "0123456789", "ADMIN_KEY": "badm_ops-key-0123456789"}
	stdout, stderr, err := runArgsEnv(t, env, "config", "check", "-f", good)
	if want := "ok: 1 workspace, 1 desk, 0 bots, 1 API key, 1 inbox agent, 1 admin key\n"; err != nil || stdout != want {
		t.Errorf("config check of a good file: %v, printed %q, want %q; stderr %s", err, stdout, want, stderr)
	}
	env["BATON_CONFIG"] = good
	if stdout, _, err := runArgsEnv(t, env, "config", "check"); err != nil || !strings.HasPrefix(stdout, "ok: ") {
		t.Errorf("config check of $BATON_CONFIG: %v, printed %q", err, stdout)
	}
	delete(env, "BATON_CONFIG")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", bad}, bad + `: workspaces[0].desks[0].settings.url (line 6): scheme must be http or https, not "ftp"`},
		{[]string{"-f", filepath.Join(dir, "absent.yaml")}, "config: open " + filepath.Join(dir, "absent.yaml") + ": no such file or directory"},
		{nil, "config check: -f FILE is required (or BATON_CONFIG); try: baton config check --help"},
	} {
		stdout, _, err := runArgsEnv(t, env, append([]string{"config", "check"}, c.args...)...)
		if err == nil || err.Error() != c.want || stdout != "" {
			t.Errorf("config check %v: %v (printed %q), want %s", c.args, err, stdout, c.want)
		}
	}
	delete(env, "ANA_PASSWORD")
	if _, _, err := runArgsEnv(t, env, "config", "check", "-f", good); err == nil ||
		err.Error() != good+": workspaces[0].inbox_agents[0].password (line 8): environment variable ANA_PASSWORD is not set" {
		t.Errorf("config check with a variable unset: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "baton.db")); err == nil {
		t.Errorf("config check made a database")
	}
}

// TestAdminInit: baton admin init prints a new admin key once, stores it
// hashed with its audit entry (no secret in it), and refuses a second time
// unless --force. On both stores.
func TestAdminInit(t *testing.T) {
	t.Parallel()
	keyLine := regexp.MustCompile(`^badm_[a-z2-7]{52}$`)
	for name, storeEnv := range storeEnvs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := storeEnv(t)
			stdout, stderr, err := runArgsEnv(t, env, "admin", "init")
			secret, rest, _ := strings.Cut(stdout, "\n")
			if err != nil || !keyLine.MatchString(secret) || !strings.Contains(rest, `admin key "admin" created`) || !strings.Contains(rest, "store it now; it is not shown again") {
				t.Fatalf("admin init: %v, printed\n%s\nstderr: %s", err, stdout, stderr)
			}
			if strings.Contains(stderr, secret) {
				t.Errorf("the admin key is in the logs")
			}
			_, _, err = runArgsEnv(t, env, "admin", "init", "--name", "again")
			if err == nil || !strings.Contains(err.Error(), `has 1 admin key already ("admin")`) || !strings.Contains(err.Error(), "--force") {
				t.Errorf("admin init with an admin key: %v", err)
			}
			stdout, _, err = runArgsEnv(t, env, "admin", "init", "--force", "--name", "second")
			second, _, _ := strings.Cut(stdout, "\n")
			if err != nil || !keyLine.MatchString(second) || second == secret {
				t.Errorf("admin init --force: %v, printed\n%s", err, stdout)
			}
			view(t, env, func(tx baton.Tx) error {
				keys, err := tx.AdminKeys()
				if err != nil || len(keys) != 2 {
					return fmt.Errorf("admin keys: %+v %v", keys, err)
				}
				k, err := tx.AdminKey(baton.HashKey(secret))
				if err != nil || k.Name != "admin" || k.Managed || k.ID != baton.KeyID(k.Hash) || k.Prefix != baton.KeyPrefix(secret) {
					return fmt.Errorf("the first admin key: %+v %v", k, err)
				}
				entries, err := tx.Audit(baton.AuditPage{})
				if err != nil || len(entries) != 2 {
					return fmt.Errorf("audit: %+v %v", entries, err)
				}
				e := entries[0]
				if e.Actor != "init" || e.Action != "create" || e.Object != "admin_key" || e.ObjectID != k.ID || e.Before != nil ||
					!strings.Contains(string(e.After), `"name":"admin"`) || strings.Contains(string(e.After), secret) || strings.Contains(string(e.After), k.Hash) {
					return fmt.Errorf("audit entry: %+v (after %s)", e, e.After)
				}
				return nil
			})
		})
	}
}

// TestServeWarnsNoWorkspace: serve warns, through the log, when the store
// has no workspace, saying how to make one; once a file is applied it does
// not.
func TestServeWarnsNoWorkspace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"BATON_ADDR": "127.0.0.1:0", "BATON_DB": filepath.Join(dir, "baton.db"),
		"API_KEY": "acme-api-key-0123456789", "ANA_PASSWORD": "0123456789", "ADMIN_KEY": "badm_ops-key-0123456789"}
	in := start(t, env)
	var warned bool
	for _, l := range strings.Split(in.stderr.String(), "\n") {
		if strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, "no workspace") &&
			strings.Contains(l, "baton admin init") && strings.Contains(l, "--config baton.yaml") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("serve on an empty store did not warn:\n%s", in.stderr)
	}
	in.shutdown(t)

	path := filepath.Join(dir, "baton.yaml")
	if err := os.WriteFile(path, []byte(applyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runArgsEnv(t, env, "apply", "-f", path); err != nil {
		t.Fatalf("apply: %v %s", err, stderr)
	}
	in = start(t, env)
	if strings.Contains(in.stderr.String(), "no workspace") {
		t.Errorf("serve warned with a workspace:\n%s", in.stderr)
	}
	in.shutdown(t)
}

// TestSQLiteSync: BATON_SQLITE_SYNC is full unless set to normal; any other
// value is refused, naming the variable.
func TestSQLiteSync(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]sqlite.Sync{"": sqlite.SyncFull, "full": sqlite.SyncFull, "normal": sqlite.SyncNormal} {
		e, err := readEnv(getenv(map[string]string{"BATON_SQLITE_SYNC": v}))
		if err != nil || e.sync != want {
			t.Errorf("BATON_SQLITE_SYNC=%q: %q, %v; want %q", v, e.sync, err, want)
		}
	}
	if _, err := readEnv(getenv(map[string]string{"BATON_SQLITE_SYNC": "off"})); err == nil || !strings.Contains(err.Error(), "BATON_SQLITE_SYNC") {
		t.Errorf("BATON_SQLITE_SYNC=off: %v, want an error naming it", err)
	}
}
