// Package sqlite is Baton's default store: one SQLite file (modernc.org/sqlite,
// no cgo) in WAL mode, written by one connection at a time.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is how SQLite differs for sqlstore.
var Dialect = sqlstore.Dialect{Name: "sqlite", Code: code, Prepare: true, Group: true, Writers: 1, ViewInTurn: true}

// Sync is when a commit waits for the disk.
type Sync string

// The two settings Baton offers. FULL is the default: what a 2xx promises
// holds through a power loss. NORMAL skips the fsync of each commit (in WAL
// mode the log is synced at checkpoints only): a commit survives a crash of
// the process but not one of the operating system or of the power, which
// may lose the last commits before them: messages Baton answered 2xx for.
const (
	SyncFull   Sync = "full"
	SyncNormal Sync = "normal"
)

// Open opens (creating if needed) the database file at path, applies pending
// migrations and returns the store. key is the 32-byte key that seals secrets.
// Commits wait for the disk (SyncFull).
func Open(ctx context.Context, path string, key []byte) (*sqlstore.Store, error) {
	return OpenSync(ctx, path, key, SyncFull)
}

// OpenSync is Open with commits that wait for the disk as sync says.
func OpenSync(ctx context.Context, path string, key []byte, sync Sync) (*sqlstore.Store, error) {
	if len(key) != 32 {
		return nil, errors.New("sqlite: the secrets key must be 32 bytes")
	}
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("sqlite: synchronous %q: want %q or %q", sync, SyncFull, SyncNormal)
	}
	db, err := openWriter(path, sync)
	if err != nil {
		return nil, err
	}
	r, err := openReader(path, sync)
	if err != nil {
		db.Close()
		return nil, err
	}
	return New(ctx, db, r, Dialect, key)
}

// New makes the store of a SQLite file from its writer db and its reader
// pool r, opened by any database/sql driver with Baton's settings (WAL, a
// busy timeout, synchronous FULL or NORMAL, foreign keys, temp_store
// MEMORY; the writer's transactions BEGIN IMMEDIATE, the readers'
// query_only): it limits db to one connection and r to a few, applies
// pending migrations, releases the leases a dead process left, and returns
// the store with dialect d (Dialect, or another driver's error codes).
// OpenSync is New on modernc.org/sqlite; a comparison of drivers
// (relaybench/drivers) calls New with its own. New closes db and r when it
// fails; the store closes them otherwise.
func New(ctx context.Context, db, r *sql.DB, d sqlstore.Dialect, key []byte) (*sqlstore.Store, error) {
	fail := func(err error) (*sqlstore.Store, error) {
		db.Close()
		r.Close()
		return nil, err
	}
	if len(key) != 32 {
		return fail(errors.New("sqlite: the secrets key must be 32 bytes"))
	}
	// One writer at a time is all SQLite allows; one connection also keeps
	// BEGIN IMMEDIATE from ever waiting on another connection of ours.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := Migrate(ctx, db); err != nil {
		return fail(err)
	}
	// One process serves a SQLite file, so a job still leased at open was
	// claimed by a process that died: it may run again now rather than
	// when its lease runs out, and its unfinished run counts as an attempt
	// (it may have done its work: the desk looks before it writes again).
	if _, err := db.ExecContext(ctx, `UPDATE jobs SET locked_until = 0, attempts = attempts + 1 WHERE locked_until <> 0`); err != nil {
		return fail(fmt.Errorf("sqlite: release leases: %w", err))
	}
	return sqlstore.New(db, d, key).WithReader(r), nil
}

// readers is how many read-only connections serve View: in WAL mode they
// read a snapshot while the writer writes.
const readers = 4

// openReader opens read-only connections to the database file at path.
func openReader(path string, sync Sync) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, sync)+"&_pragma=query_only(1)&_txlock=deferred")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	return db, nil
}

// dsn is the connection string shared by the writer and the readers.
// synchronous(FULL) makes every commit wait for its fsync of the WAL, so a
// commit Baton has answered 2xx for survives a power loss, not only a
// crash of the process (which NORMAL would already survive in WAL mode).
// Group commit (sqlstore.Dialect.Group) makes one fsync serve every
// transaction that waited for the writer meanwhile.
func dsn(path string, sync Sync) string {
	// A file: URI: SQLite decodes %XX in the path, so escape what would end it.
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(" + strings.ToUpper(string(sync)) + ")" +
		"&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)"
}

// OpenDB opens the database file at path with Baton's settings (WAL, a busy
// timeout, foreign keys, immediate transactions, one connection) without
// migrating it.
func OpenDB(path string) (*sql.DB, error) { return openWriter(path, SyncFull) }

// openWriter is OpenDB with commits that wait for the disk as sync says.
func openWriter(path string, sync Sync) (*sql.DB, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: a database file path is required")
	}
	db, err := sql.Open("sqlite", dsn(path, sync)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer at a time is all SQLite allows; one connection also keeps
	// BEGIN IMMEDIATE from ever waiting on another connection of ours.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// Migrate applies the embedded migrations that db has not seen yet.
func Migrate(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return p, nil
}

// code maps SQLite constraint errors to baton error codes.
func code(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return baton.ECONFLICT
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return baton.ENOTFOUND
	}
	return ""
}
