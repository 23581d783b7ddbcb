// Package drivers compares SQLite drivers under Baton's SQLite store: the
// same sqlstore code and migrations (package sqlite's New), opened on
// modernc.org/sqlite (Baton's default), github.com/mattn/go-sqlite3 (cgo)
// and github.com/ncruces/go-sqlite3 (WebAssembly translated to Go).
//
// It is a module of its own so that the main module gains neither cgo nor
// these drivers. The mattn and ncruces drivers both register the name
// "sqlite3" with database/sql, so a binary that links both (this package's
// tests) must be built with
//
//	-ldflags=-X=github.com/ncruces/go-sqlite3/driver.driverName=
//
// which leaves ncruces unregistered (it is opened without the name). The
// packages mattn and ncruces link one driver each and build without it.
package drivers

import (
	"context"

	"github.com/batonhq/baton/relaybench/drivers/mattn"
	"github.com/batonhq/baton/relaybench/drivers/ncruces"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

// Driver is one way of opening the SQLite store.
type Driver struct {
	Name string
	Open func(ctx context.Context, path string, key []byte) (*sqlstore.Store, error)
}

// All is every driver compared, Baton's default first.
func All() []Driver {
	return []Driver{{"modernc", sqlite.Open}, {"mattn", mattn.Open}, {"ncruces", ncruces.Open}}
}
