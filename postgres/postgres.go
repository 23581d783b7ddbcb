// Package postgres is Baton's store for several instances behind a load
// balancer: PostgreSQL through pgx, with jobs claimed FOR UPDATE SKIP LOCKED.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// PoolSize is the most connections one store opens.
const PoolSize = 20

// Dialect is how PostgreSQL differs for sqlstore. Its transactions are group
// committed (see sqlstore.Dialect.Group): concurrent Tx calls share one
// transaction and one commit, each under a savepoint; views are READ ONLY
// transactions on the pool beside the writers.
var Dialect = sqlstore.Dialect{
	Name:        "postgres",
	Numbered:    true,
	SkipLocked:  true,
	Retry:       retry,
	Code:        code,
	LockLane:    `SELECT pg_advisory_xact_lock(hashtext(?))`,
	ForUpdate:   ` FOR UPDATE`,
	ForShare:    ` FOR SHARE`,
	Group:       true,
	Writers:     Writers,
	LockTimeout: `SET LOCAL lock_timeout = '` + LockTimeout + `'`,
	TimedOut:    timedOut,
}

// LockTimeout bounds the lock waits of a grouped transaction's members after
// its first (see sqlstore.Dialect.LockTimeout).
const LockTimeout = "20ms"

// timedOut reports a lock wait that lock_timeout ended.
func timedOut(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "55P03" // lock_not_available
}

// Writers is how many group writers a store runs (see sqlstore.Dialect.Writers).
const Writers = 1

// Open connects to the database at url (postgres://...), applies pending
// migrations and returns the store. key is the 32-byte key that seals secrets.
// Several instances may open the same database at once: migrations run under
// an advisory lock.
func Open(ctx context.Context, url string, key []byte) (*sqlstore.Store, error) {
	if len(key) != 32 {
		return nil, errors.New("postgres: the secrets key must be 32 bytes")
	}
	db, err := OpenDB(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, Dialect, key), nil
}

// OpenDB connects to the database at url with Baton's pool settings, without
// migrating it.
func OpenDB(ctx context.Context, url string) (*sql.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(PoolSize)
	db.SetMaxIdleConns(PoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return db, nil
}

// Migrations are the SQL files Migrate applies, one a version, in name
// order. Tests name their template database after them (package pgtest).
func Migrations() fs.FS {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is there: go:embed saw to it
	}
	return fsys
}

// Migrate applies the embedded migrations that db has not seen yet. It holds a
// session advisory lock meanwhile, so concurrent callers wait for each other.
func Migrate(ctx context.Context, db *sql.DB) error {
	fsys := Migrations()
	// Poll for the lock every second, for up to 10 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// retry reports serialization failures and deadlocks, which a new attempt may pass.
func retry(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// code maps constraint violations to baton error codes.
func code(err error) string {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code {
	case "23505": // unique_violation
		return baton.ECONFLICT
	case "23503": // foreign_key_violation
		return baton.ENOTFOUND
	}
	return ""
}
