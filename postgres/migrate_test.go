package postgres_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
)

// TestMigrateJobEvents: a delivery pending when the database is upgraded
// to the delivery log (00005) shows pending: its job's event id is read
// from its payload.
func TestMigrateJobEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.Fresh(t)
	db, err := postgres.OpenDB(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, postgres.Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO workspaces (id) VALUES ('w1')`,
		`INSERT INTO events (id, workspace_id, bot_id, seq, type, created_at) VALUES ('evt1', 'w1', 'b1', 1, 'handoff.queued', 1000000)`,
		`INSERT INTO jobs (kind, lane, run_at, payload) VALUES ('bot.webhook', 'bot:cv1', 5000000, convert_to('{"ws":"w1","e":"evt1"}', 'UTF8'))`,
		`INSERT INTO jobs (kind, key, run_at, payload) VALUES ('timer', 'timer:h1', 5000000, convert_to('{"ws":"w1","h":"h1"}', 'UTF8'))`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	var timer string
	if err := db.QueryRowContext(ctx, `SELECT event_id FROM jobs WHERE kind = 'timer'`).Scan(&timer); err != nil || timer != "" {
		t.Fatalf("the timer's event id: %q, %v", timer, err)
	}
	db.Close()
	s, err := postgres.Open(ctx, url, key)
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

// TestMigrateQueue: upgrading to the queue (00006) takes out of the queue
// the handoffs an agent took before it (joined, or answered), at the time
// it took them, so that they count as waits; the others stay in it.
func TestMigrateQueue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.Fresh(t)
	db, err := postgres.OpenDB(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, postgres.Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	const sec = 1000000
	for _, q := range []string{
		`INSERT INTO workspaces (id) VALUES ('w1')`,
		// Answered: taken at its first reply, after 30 s.
		`INSERT INTO handoffs (id, workspace_id, desk_id, state, agent, queued_at, active_at, last_agent_at)
			VALUES ('answered', 'w1', 'd1', 'active', '{"id":"a1","name":"Ann"}', 1000000, 31000000, 40000000)`,
		// Claimed, not answered yet: taken when it joined, after 19 s.
		`INSERT INTO handoffs (id, workspace_id, desk_id, state, agent, queued_at, active_at, last_agent_at)
			VALUES ('claimed', 'w1', 'd1', 'queued', '{"id":"a1","name":"Ann"}', 1000000, 0, 20000000)`,
		`INSERT INTO handoffs (id, workspace_id, desk_id, state, agent, queued_at) VALUES ('waiting', 'w1', 'd1', 'queued', '{}', 2000000)`,
		`INSERT INTO handoffs (id, workspace_id, desk_id, state, end_reason, agent, queued_at, ended_at)
			VALUES ('abandoned', 'w1', 'd1', 'ended', 'customer_closed', '{}', 1000000, 9000000)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := postgres.Open(ctx, url, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx baton.Tx) error {
		q, err := tx.QueuedHandoffs("d1", 0)
		if err != nil {
			return err
		}
		if len(q) != 1 || q[0].ID != "waiting" {
			t.Errorf("the queue after the upgrade: %v, want only the one nobody took", q)
		}
		waits, err := tx.RecentWaits("d1", time.Time{}, 10)
		if want := []time.Duration{30 * time.Second, 19 * time.Second}; !slices.Equal(waits, want) {
			t.Errorf("waits after the upgrade: %v, want %v", waits, want)
		}
		for id, want := range map[string]int64{"answered": 31 * sec, "claimed": 20 * sec, "waiting": 0, "abandoned": 0} {
			h, err := tx.Handoff("w1", id)
			if err != nil {
				return err
			}
			if got := h.TakenAt; (want == 0) != got.IsZero() || (want != 0 && got.UnixMicro() != want) {
				t.Errorf("%s taken at %v, want %d µs", id, got, want)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateDeskHistory: upgrading to the desk history (00009) starts
// each desk's history with the status it has, at the time it was checked.
func TestMigrateDeskHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.Fresh(t)
	db, err := postgres.OpenDB(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, postgres.Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO workspaces (id) VALUES ('w1')`,
		`INSERT INTO desks (id, workspace_id, status, last_error, checked_at) VALUES ('d1', 'w1', 'unavailable', '401', 5000000)`,
		`INSERT INTO desks (id, workspace_id) VALUES ('d2', 'w1')`, // never checked
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := postgres.Open(ctx, url, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []baton.DeskChange
	err = s.View(ctx, func(tx baton.Tx) (err error) {
		got, err = tx.DeskChanges(baton.StatsQuery{WorkspaceID: "w1", From: time.UnixMicro(6000000), To: time.UnixMicro(7000000)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []baton.DeskChange{{DeskID: "d1", Status: baton.Unavailable, Error: "401", At: time.UnixMicro(5000000)}}
	if !slices.EqualFunc(got, want, func(a, b baton.DeskChange) bool {
		return a.DeskID == b.DeskID && a.Status == b.Status && a.Error == b.Error && a.At.Equal(b.At)
	}) {
		t.Fatalf("the history after the upgrade: %+v, want %+v", got, want)
	}
}
