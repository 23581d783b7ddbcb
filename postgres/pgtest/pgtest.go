// Package pgtest gives tests a PostgreSQL database of their own: an empty one
// (Fresh), or one that already holds Baton's schema (Migrated).
//
// The server is BATON_TEST_POSTGRES_URL, or postgres://postgres@127.0.0.1:5432/postgres
// when that is unset. A test is skipped only when the variable is unset and no
// server answers; with the variable set (as in CI) an unreachable server fails it.
//
// Migrated's databases come from a pool of the test binary's own, emptied
// between tests: see dbPool.
//
// # The template database
//
// Migrated copies a template database (CREATE DATABASE … TEMPLATE) instead
// of migrating each database anew. The template is migrated once per set of
// migrations: its name, baton_tpl_<hash>, carries a hash of the files
// postgres.Migrations holds, so a changed or added migration gets a new
// template and an old one is never used for it. A test binary looks for the
// template once, the first time a test asks for it, holding a PostgreSQL
// advisory lock so that the binaries go test runs at the same time wait for
// one another instead of building it twice. It is built under a temporary
// name (baton_tplbuild_…), renamed only when migrated, and then closed to
// connections (ALLOW_CONNECTIONS false): CREATE DATABASE … TEMPLATE fails
// while anyone is connected to the template, so nobody may be. A build left
// by a binary killed half-way is dropped by the next one.
//
// Templates of other migration sets (another branch, an older checkout) stay
// on the server, since another checkout may be using them; remove them with
// DROP DATABASE after ALTER DATABASE … IS_TEMPLATE false.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/batonhq/baton/postgres"
)

// DefaultURL is tried when BATON_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// admin connects to the server, skipping or failing as the package doc says.
func admin(ctx context.Context, t testing.TB) (*sql.DB, *url.URL) {
	t.Helper()
	raw, set := os.LookupEnv("BATON_TEST_POSTGRES_URL")
	if raw == "" {
		raw, set = DefaultURL, false
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("BATON_TEST_POSTGRES_URL is not a URL")
	}
	db, err := sql.Open("pgx", raw)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		db.Close()
		if set {
			t.Fatalf("BATON_TEST_POSTGRES_URL: %v", err)
		}
		t.Skipf("no PostgreSQL at %s (set BATON_TEST_POSTGRES_URL): %v", DefaultURL, err)
	}
	return db, u
}

// Fresh creates an empty database, dropped when the test ends, and returns its URL.
func Fresh(t testing.TB) string {
	t.Helper()
	db, u := admin(context.Background(), t)
	defer db.Close()
	return create(t, db, u, "")
}

// Migrated returns the URL of a database of the test's own holding every
// migration of package postgres, as postgres.Migrate leaves it, and nothing
// else. It is a copy of the template database (see the package doc), much
// cheaper than migrating: postgres.Open on it finds nothing to apply. When
// the test ends the database is emptied and kept for the binary's next
// test (see the package doc's pool), or dropped.
func Migrated(t testing.TB) string {
	t.Helper()
	db, u := admin(context.Background(), t)
	defer db.Close()
	if name := pool.take(); name != "" {
		t.Cleanup(func() { pool.give(t, u, name) })
		return dbURL(u, name)
	}
	tpl, err := template(db, u)
	if err != nil {
		t.Fatalf("pgtest: the template database: %v", err)
	}
	name, err := pool.name(u)
	if err != nil {
		t.Fatalf("pgtest: the pool: %v", err)
	}
	if _, err := db.Exec("CREATE DATABASE " + name + " TEMPLATE " + tpl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.give(t, u, name) })
	return dbURL(u, name)
}

// The pool: CREATE and DROP DATABASE take a few hundred milliseconds each
// and queue behind one another on the server, which made them most of the
// PostgreSQL tests' time. A test binary keeps the databases its tests are
// done with, emptied (every table but goose's, every sequence restarted),
// for its next tests. They are named baton_pool_<binary>_<n>; the binary
// holds a session advisory lock on hashtext('baton pgtest pool <binary>')
// while it runs, and the first binary to make a pool database after it drops
// those of binaries whose lock is free (they have exited).
var pool dbPool

type dbPool struct {
	mu   sync.Mutex
	id   string
	n    int
	hold *sql.Conn // holds the pool's lock, for the binary's life
	free []string
}

// take returns a free database of the pool, or "".
func (p *dbPool) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		return ""
	}
	name := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return name
}

// name names a new pool database, taking the pool's lock (and dropping the
// pools of binaries that have exited) the first time.
func (p *dbPool) name(u *url.URL) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.id == "" {
		if err := p.start(u); err != nil {
			return "", err
		}
	}
	p.n++
	return fmt.Sprintf("baton_pool_%s_%d", p.id, p.n), nil
}

// start takes a lock for a new pool id, then drops the databases of pools
// whose lock nobody holds.
func (p *dbPool) start(u *url.URL) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	hold, err := db.Conn(ctx) // never given back: the lock lives as long as the binary
	if err != nil {
		db.Close()
		return err
	}
	id := randHex()
	if _, err := hold.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext($1))", "baton pgtest pool "+id); err != nil {
		hold.Close()
		db.Close()
		return err
	}
	rows, err := hold.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'baton\_pool\_%'`)
	if err != nil {
		return err
	}
	byPool := map[string][]string{}
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			if parts := strings.Split(n, "_"); len(parts) == 4 {
				byPool[parts[2]] = append(byPool[parts[2]], n)
			}
		}
	}
	rows.Close()
	for owner, names := range byPool {
		var free bool
		key := "baton pgtest pool " + owner
		if hold.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext($1))", key).Scan(&free) != nil || !free {
			continue // its binary runs
		}
		for _, n := range names {
			hold.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
		}
		hold.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtext($1))", key)
	}
	p.id, p.hold = id, hold
	return nil
}

// give takes back database name when its test is done: emptied, it is free
// for the next; if it cannot be emptied, it is dropped.
func (p *dbPool) give(t testing.TB, u *url.URL, name string) {
	if err := empty(dbURL(u, name)); err != nil {
		t.Logf("pgtest: dropping %s rather than reusing it: %v", name, err)
		db, _ := admin(context.Background(), t)
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Error(err)
		}
		return
	}
	p.mu.Lock()
	p.free = append(p.free, name)
	p.mu.Unlock()
}

// empty deletes every row of the database at url but goose's and restarts
// its sequences, once the test's connections to it are gone (a test that
// left one behind gets its database dropped instead).
func empty(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The backends of a pool just closed take a moment to exit.
	deadline := time.Now().Add(3 * time.Second)
	for {
		var others int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connections are still open to it", others)
		}
		time.Sleep(10 * time.Millisecond) // polling the server for a backend's exit: no signal exists
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Replica mode skips the foreign keys' triggers, so the tables empty in
	// any order.
	for _, q := range []string{"SET LOCAL lock_timeout = '2s'", "SET LOCAL synchronous_commit = off", "SET LOCAL session_replication_role = replica"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	var tables, seqs []string
	for q, dst := range map[string]*[]string{
		`SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`:                 &tables,
		`SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public' AND sequencename <> 'goose_db_version_id_seq'`: &seqs,
	} {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			*dst = append(*dst, n)
		}
		rows.Close()
	}
	for _, tb := range tables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+tb); err != nil {
			return err
		}
	}
	for _, sq := range seqs {
		if _, err := tx.ExecContext(ctx, "ALTER SEQUENCE "+sq+" RESTART"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// create makes a database with a random name, from template if not "",
// drops it when t ends, and returns its URL.
func create(t testing.TB, db *sql.DB, u *url.URL, template string) string {
	t.Helper()
	name := "baton_test_" + randHex()
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + template
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, _ := admin(context.Background(), t)
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	return dbURL(u, name)
}

// dbURL is the server's URL u naming database name.
func dbURL(u *url.URL, name string) string {
	c := *u
	c.Path = "/" + name
	return c.String()
}

func randHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tpl is this test binary's template database, once found or built.
var tpl struct {
	mu   sync.Mutex
	name string
}

// template returns the name of the template database of the current
// migrations, building it if no test binary has yet.
func template(db *sql.DB, u *url.URL) (string, error) {
	tpl.mu.Lock()
	defer tpl.mu.Unlock()
	if tpl.name != "" {
		return tpl.name, nil
	}
	name, err := templateName()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// One builder at a time across test binaries; a session lock, released
	// below or when the connection goes.
	const lock = `hashtext('baton pgtest template')`
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+lock+")"); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock("+lock+")")
	var exists bool
	err = conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return "", err
	}
	if !exists {
		if err := build(ctx, conn, u, name); err != nil {
			return "", err
		}
	}
	tpl.name = name
	return name, nil
}

// templateName is baton_tpl_ and a hash of the migrations' names and contents.
func templateName() (string, error) {
	h := sha256.New()
	fsys := postgres.Migrations()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return "baton_tpl_" + hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// build migrates a new database and makes it template name. It runs under
// the builders' lock, so any build database it finds was abandoned.
func build(ctx context.Context, conn *sql.Conn, u *url.URL, name string) error {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'baton\_tplbuild\_%'`)
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		stale = append(stale, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range stale {
		if err := dropTemplate(ctx, conn, n); err != nil {
			return err
		}
	}
	tmp := "baton_tplbuild_" + randHex()
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+tmp); err != nil {
		return err
	}
	err = migrate(ctx, dbURL(u, tmp))
	if err == nil {
		_, err = conn.ExecContext(ctx, "ALTER DATABASE "+tmp+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	}
	if err == nil {
		// The last step, so that the name exists only once complete. It
		// waits (up to 5 s) for the backends of the closed pool to exit.
		_, err = conn.ExecContext(ctx, "ALTER DATABASE "+tmp+" RENAME TO "+name)
	}
	if err != nil {
		dropTemplate(context.Background(), conn, tmp)
		return err
	}
	return nil
}

// dropTemplate drops database name, a template or not.
func dropTemplate(ctx context.Context, conn *sql.Conn, name string) error {
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE false"); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// migrate applies the migrations to the database at url and closes every
// connection it opened.
func migrate(ctx context.Context, url string) error {
	db, err := postgres.OpenDB(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	return postgres.Migrate(ctx, db)
}
