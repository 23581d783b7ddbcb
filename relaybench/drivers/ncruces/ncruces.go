// Package ncruces opens Baton's SQLite store on github.com/ncruces/go-sqlite3
// (no cgo: SQLite built to WebAssembly and translated to Go by wasm2go),
// with the settings of package sqlite and the same sqlstore code, for the
// driver comparison.
package ncruces

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"

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
		return nil, errors.New("ncruces: a database file path is required")
	}
	db, err := driver.Open(dsn(path) + "&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("ncruces: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ncruces: open %s: %w", path, err)
	}
	r, err := driver.Open(dsn(path) + "&_pragma=query_only(1)&_txlock=deferred")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ncruces: open %s for reading: %w", path, err)
	}
	return sqlite.New(ctx, db, r, Dialect, key)
}

// dsn is the connection string shared by the writer and the readers:
// package sqlite's pragmas, the busy timeout first as this driver asks.
func dsn(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)"
}

// code maps SQLite constraint errors to baton error codes.
func code(err error) string {
	var e *sqlite3.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.ExtendedCode() {
	case sqlite3.CONSTRAINT_UNIQUE, sqlite3.CONSTRAINT_PRIMARYKEY:
		return baton.ECONFLICT
	case sqlite3.CONSTRAINT_FOREIGNKEY:
		return baton.ENOTFOUND
	}
	return ""
}
