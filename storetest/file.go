package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// testFile keeps a file's bytes exactly, by workspace: another workspace's
// id finds nothing, an id is never reused, old files can be removed, and a
// deleted workspace's files are gone.
func testFile(t *testing.T, s baton.Store) {
	seed(t, s)
	data := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0, 0xff, '\n', 'x'}, 4096)...)
	f := baton.File{ID: "f1", WorkspaceID: "w1", Name: "invoice «1».pdf", Type: "application/pdf", Data: data, CreatedAt: at(3 * time.Microsecond)}
	do(t, s, func(tx baton.Tx) error { return tx.AddFile(f) })
	var got baton.File
	do(t, s, func(tx baton.Tx) (err error) { got, err = tx.File("w1", "f1"); return err })
	f.Size = int64(len(data))
	same(t, "file", got, f)

	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.File("w2", "f1"); return err })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.File("w1", "f2"); return err })
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.AddFile(baton.File{ID: "f1", WorkspaceID: "w2", Name: "other", Type: "text/plain", Data: []byte("x"), CreatedAt: t0})
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		return tx.AddFile(baton.File{ID: "f3", WorkspaceID: "nowhere", Name: "x", Type: "text/plain", Data: []byte("x"), CreatedAt: t0})
	})
	// DeleteFiles takes a workspace's files made before the time, only.
	do(t, s, func(tx baton.Tx) error {
		return tx.AddFile(baton.File{ID: "f4", WorkspaceID: "w1", Name: "new.txt", Type: "text/plain", Data: []byte("x"), CreatedAt: at(time.Hour)})
	})
	do(t, s, func(tx baton.Tx) error {
		return tx.AddFile(baton.File{ID: "f5", WorkspaceID: "w2", Name: "old.txt", Type: "text/plain", Data: []byte("x"), CreatedAt: t0})
	})
	do(t, s, func(tx baton.Tx) error { return tx.DeleteFiles("w1", at(time.Minute)) })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.File("w1", "f1"); return err })
	do(t, s, func(tx baton.Tx) error { _, err := tx.File("w1", "f4"); return err })
	do(t, s, func(tx baton.Tx) error { _, err := tx.File("w2", "f5"); return err })
	do(t, s, func(tx baton.Tx) error { return tx.DeleteWorkspace("w1", t0) })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.File("w1", "f4"); return err })
}
