package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/sqlite"
)

// TestMigrateJobEvents: a delivery pending when the database is upgraded
// to the delivery log (00005) shows pending: its job's event id is read
// from its payload.
func TestMigrateJobEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "baton.db")
	db, err := sqlite.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO workspaces (id) VALUES ('w1')`,
		`INSERT INTO events (id, workspace_id, bot_id, seq, type, created_at) VALUES ('evt1', 'w1', 'b1', 1, 'handoff.queued', 1000000)`,
		`INSERT INTO jobs (kind, lane, run_at, payload) VALUES ('bot.webhook', 'bot:cv1', 5000000, CAST('{"ws":"w1","e":"evt1"}' AS BLOB))`,
		`INSERT INTO jobs (kind, key, run_at, payload) VALUES ('timer', 'timer:h1', 5000000, CAST('{"ws":"w1","h":"h1"}' AS BLOB))`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := sqlite.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	var timer string
	if err := db.QueryRowContext(ctx, `SELECT event_id FROM jobs WHERE kind = 'timer'`).Scan(&timer); err != nil || timer != "" {
		t.Fatalf("the timer's event id: %q, %v", timer, err)
	}
	db.Close()
	s, err := sqlite.Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ds []baton.Delivery
	err = s.View(ctx, func(tx baton.Tx) (err error) {
		ds, err = tx.Deliveries(baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Status != baton.DeliveryPending || !ds[0].NextRetryAt.Equal(time.UnixMicro(5000000)) {
		t.Fatalf("after the upgrade: %+v, want evt1 pending", ds)
	}
}
