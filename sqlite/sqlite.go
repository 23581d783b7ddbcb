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

// Open opens (creating if needed) the database file at path, applies pending
// migrations and returns the store. key is the 32-byte key that seals secrets.
func Open(ctx context.Context, path string, key []byte) (*sqlstore.Store, error) {
	if len(key) != 32 {
		return nil, errors.New("sqlite: the secrets key must be 32 bytes")
	}
	db, err := OpenDB(path)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	// One process serves a SQLite file, so a job still leased at open was
	// claimed by a process that died: it may run again now rather than
	// when its lease runs out, and its unfinished run counts as an attempt
	// (it may have done its work: the desk looks before it writes again).
	if _, err := db.ExecContext(ctx, `UPDATE jobs SET locked_until = 0, attempts = attempts + 1 WHERE locked_until <> 0`); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: release leases: %w", err)
	}
	r, err := openReader(path)
	if err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, Dialect, key).WithReader(r), nil
}

// readers is how many read-only connections serve View: in WAL mode they
// read a snapshot while the writer writes.
const readers = 4

// openReader opens read-only connections to the database file at path.
func openReader(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path)+"&_pragma=query_only(1)&_txlock=deferred")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	db.SetMaxOpenConns(readers)
	db.SetMaxIdleConns(readers)
	return db, nil
}

// dsn is the connection string shared by the writer and the readers.
// synchronous(FULL) makes every commit wait for its fsync of the WAL, so a
// commit Baton has answered 2xx for survives a power loss, not only a
// crash of the process (which NORMAL would already survive in WAL mode).
func dsn(path string) string {
	// A file: URI: SQLite decodes %XX in the path, so escape what would end it.
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)"
}

// OpenDB opens the database file at path with Baton's settings (WAL, a busy
// timeout, foreign keys, immediate transactions, one connection) without
// migrating it.
func OpenDB(path string) (*sql.DB, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: a database file path is required")
	}
	db, err := sql.Open("sqlite", dsn(path)+"&_txlock=immediate")
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
