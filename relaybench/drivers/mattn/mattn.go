// Package mattn opens Baton's SQLite store on github.com/mattn/go-sqlite3
// (cgo: SQLite's C source compiled by the C toolchain), with the settings
// of package sqlite and the same sqlstore code, for the driver comparison.
package mattn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

// Dialect is sqlite.Dialect with this driver's error codes.
var Dialect = sqlstore.Dialect{Name: "sqlite", Code: code, Prepare: true, Group: true}

// Open opens (creating if needed) the database file at path as sqlite.Open
// does, on this driver.
func Open(ctx context.Context, path string, key []byte) (*sqlstore.Store, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("mattn: a database file path is required")
	}
	// temp_store has no DSN parameter here: each connection sets it.
	d := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(`PRAGMA temp_store = MEMORY`, nil)
		return err
	}}
	db := sql.OpenDB(connector{d, dsn(path) + "&_txlock=immediate"})
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mattn: open %s: %w", path, err)
	}
	r := sql.OpenDB(connector{d, dsn(path) + "&_query_only=on&_txlock=deferred"})
	return sqlite.New(ctx, db, r, Dialect, key)
}

// dsn is the connection string shared by the writer and the readers: the
// pragmas of package sqlite's, in this driver's parameters.
func dsn(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		"?_journal_mode=WAL&_busy_timeout=5000&_synchronous=FULL&_foreign_keys=on"
}

// connector opens connections of d to dsn without registering a driver
// name (the ncruces driver registers "sqlite3" too).
type connector struct {
	d   *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

// code maps SQLite constraint errors to baton error codes.
func code(err error) string {
	var e sqlite3.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.ExtendedCode {
	case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
		return baton.ECONFLICT
	case sqlite3.ErrConstraintForeignKey:
		return baton.ENOTFOUND
	}
	return ""
}
