package pgtest

import (
	"bytes"
	"database/sql"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/postgres"
)

var key = bytes.Repeat([]byte{7}, 32)

// queryRow runs q with args on the database at u and scans its one row
// into dest, failing t on any error.
func queryRow(t testing.TB, u, q string, args []any, dest ...any) {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(q, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// version is the latest goose version recorded in the database at u.
func version(t testing.TB, u string) int64 {
	t.Helper()
	var v int64
	queryRow(t, u, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`, nil, &v)
	return v
}

// migrations is the version of the newest migration package postgres
// embeds: the number its file name starts with (versions may skip one, as
// branches each take theirs).
func migrations(t testing.TB) int64 {
	t.Helper()
	files, err := fs.Glob(postgres.Migrations(), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var newest int64
	for _, f := range files {
		n, _, _ := strings.Cut(f, "_")
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: its name does not start with its version", f)
		}
		newest = max(newest, v)
	}
	return newest
}

// TestMigrated: a copy holds every migration and works as a store; copies
// made at the same moment are distinct databases that do not see each other.
func TestMigrated(t *testing.T) {
	t.Parallel()
	urls := make([]string, 4)
	var wg sync.WaitGroup
	for i := range urls {
		wg.Go(func() { urls[i] = Migrated(t) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := map[string]bool{}
	for i, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if seen[p.Path] {
			t.Fatalf("two copies share database %s", p.Path)
		}
		seen[p.Path] = true
		if v, want := version(t, u), migrations(t); v != want {
			t.Errorf("copy %d is at migration %d, want %d", i, v, want)
		}
		s, err := postgres.Open(t.Context(), u, key)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(t.Context(), func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "w1", Name: p.Path}) })
		s.Close()
		if err != nil {
			t.Errorf("copy %d: %v (another copy's workspace?)", i, err)
		}
	}
}

// TestTemplateClosed: nobody may connect to the template, so that copying
// it never finds it in use.
func TestTemplateClosed(t *testing.T) {
	t.Parallel()
	u := Migrated(t)
	tpl.mu.Lock()
	name := tpl.name
	tpl.mu.Unlock()
	var allow, istemplate bool
	queryRow(t, u, `SELECT datallowconn, datistemplate FROM pg_database WHERE datname = $1`, []any{name}, &allow, &istemplate)
	if !strings.HasPrefix(name, "baton_tpl_") || allow || !istemplate {
		t.Errorf("template %s: allows connections %v, is a template %v; want a template closed to connections", name, allow, istemplate)
	}
}

// TestFresh: a fresh database is empty; Open migrates it.
func TestFresh(t *testing.T) {
	t.Parallel()
	u := Fresh(t)
	var n int
	queryRow(t, u, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`, nil, &n)
	if n != 0 {
		t.Fatalf("a fresh database has %d tables, want none", n)
	}
	s, err := postgres.Open(t.Context(), u, key)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v, want := version(t, u), migrations(t); v != want {
		t.Errorf("after Open at migration %d, want %d", v, want)
	}
}

// BenchmarkFresh is what a test's store costs from an empty database:
// creating it and migrating it (postgres.Open). The drops come after.
func BenchmarkFresh(b *testing.B) {
	for b.Loop() {
		open(b, Fresh(b))
	}
}

// BenchmarkMigrated is the same from a copy of the template: creating it,
// and postgres.Open finding nothing to apply.
func BenchmarkMigrated(b *testing.B) {
	Migrated(b) // the template, built once
	for b.Loop() {
		open(b, Migrated(b))
	}
}

func open(b *testing.B, u string) {
	s, err := postgres.Open(b.Context(), u, key)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
}
