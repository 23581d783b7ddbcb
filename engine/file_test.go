package engine_test

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/sqlite"
)

// TestFileLinkExpires opens a file by its link until the link's TTL has
// passed (virtual time), and never after; the address links begin with is
// the configured one, not the upload's; the next upload removes it.
func TestFileLinkExpires(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "baton.db"), testKey)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Tx(ctx, func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "ws1", Name: "One"}) }); err != nil {
			t.Fatal(err)
		}
		eng := engine.New(engine.Params{Store: st, Files: engine.FileParams{Key: bytes.Repeat([]byte{1}, 32), URL: "https://baton.example/", TTL: time.Hour}})
		data := []byte("order 1234\n")
		att, err := eng.KeepFile(ctx, engine.Upload{Workspace: "ws1", Field: "file", Name: "order.txt", Data: data, Base: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(att.URL, "https://baton.example/files/ws1/") {
			t.Fatalf("link %s: want it under the configured address", att.URL)
		}
		u, _ := url.Parse(att.URL)
		parts := strings.Split(u.Path, "/") // "", files, ws, id, name
		open := func() error {
			_, err := eng.OpenFile(ctx, parts[2], parts[3], u.Query().Get("exp"), u.Query().Get("sig"))
			return err
		}
		time.Sleep(time.Hour - time.Second)
		if err := open(); err != nil {
			t.Fatalf("a second before it expires: %v", err)
		}
		time.Sleep(time.Second)
		if err := open(); baton.ErrorCode(err) != baton.EFORBIDDEN || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("at its expiry: %v, want forbidden, expired", err)
		}

		// The next upload removes the expired file.
		if _, err := eng.KeepFile(ctx, engine.Upload{Workspace: "ws1", Field: "file", Name: "next.txt", Data: data, Base: "http://x"}); err != nil {
			t.Fatal(err)
		}
		if err := st.View(ctx, func(tx baton.Tx) error { _, err := tx.File("ws1", parts[3]); return err }); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Errorf("the expired file is still kept: %v", err)
		}

		// Another engine's key signs other links.
		other := engine.New(engine.Params{Store: st, Files: engine.FileParams{Key: bytes.Repeat([]byte{2}, 32), TTL: time.Hour}})
		fresh, err := eng.KeepFile(ctx, engine.Upload{Workspace: "ws1", Field: "file", Name: "b.txt", Data: data, Base: "http://x"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ = url.Parse(fresh.URL)
		parts = strings.Split(u.Path, "/")
		if _, err := other.OpenFile(ctx, parts[2], parts[3], u.Query().Get("exp"), u.Query().Get("sig")); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("another key's engine opened it: %v", err)
		}
		// An engine without a key keeps nothing.
		if _, err := engine.New(engine.Params{Store: st}).KeepFile(ctx, engine.Upload{Workspace: "ws1", Field: "file", Name: "c.txt", Data: data, Base: "http://x"}); baton.ErrorCode(err) != baton.EUNAVAILABLE {
			t.Fatalf("no key: %v", err)
		}
	})
}

// TestUploadTurns lets MaxUploads uploads read at once: the next waits for
// a turn, gets one when an upload ends, and is refused after UploadWait.
func TestUploadTurns(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		eng := engine.New(engine.Params{})
		ctx := context.Background()
		var releases []func()
		for range engine.MaxUploads {
			r, err := eng.UploadTurn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			releases = append(releases, r)
		}
		got := make(chan error, 1)
		go func() {
			r, err := eng.UploadTurn(ctx)
			if err == nil {
				r()
			}
			got <- err
		}()
		time.Sleep(engine.UploadWait / 2)
		releases[0]()
		if err := <-got; err != nil {
			t.Fatalf("waiting for a turn that came: %v", err)
		}
		start := time.Now()
		r, _ := eng.UploadTurn(ctx) // the freed turn
		defer r()
		if _, err := eng.UploadTurn(ctx); baton.ErrorCode(err) != baton.EUNAVAILABLE || time.Since(start) != engine.UploadWait {
			t.Fatalf("past the limit: %v after %v, want unavailable after %v", err, time.Since(start), engine.UploadWait)
		}
		for _, r := range releases[1:] {
			r()
		}
	})
}
