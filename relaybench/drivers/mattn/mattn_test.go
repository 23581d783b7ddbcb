package mattn_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/relaybench/drivers/mattn"
	"github.com/batonhq/baton/storetest"
)

// TestStore runs the store conformance suite on this driver, as package
// sqlite's tests run it on modernc.org/sqlite.
func TestStore(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, 32)
	storetest.Run(t, func(t *testing.T) baton.Store {
		s, err := mattn.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"), key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
