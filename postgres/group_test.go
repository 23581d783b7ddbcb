package postgres_test

import (
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/sqlstore"
)

// BenchmarkGroupCommit runs concurrent clients, each committing one message
// of its own conversation and one event of the workspace they share (the
// hot counter row every event bumps) a transaction, with one transaction a
// commit (Group off) or group commit with 1, 2 or 4 writers, and the first
// two with synchronous_commit off. tx/s is transactions committed per second.
func BenchmarkGroupCommit(b *testing.B) {
	for _, mode := range []struct {
		name    string
		group   bool
		writers int
		async   bool // synchronous_commit off, for comparison only: it breaks invariant 1
	}{{"single", false, 0, false}, {"group-1", true, 1, false}, {"group-2", true, 2, false}, {"group-4", true, 4, false},
		{"single-async", false, 0, true}, {"group-1-async", true, 1, true}} {
		for _, clients := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/clients-%d", mode.name, clients), func(b *testing.B) {
				u, err := url.Parse(pgtest.Migrated(b))
				if err != nil {
					b.Fatal(err)
				}
				if mode.async {
					q := u.Query()
					q.Set("synchronous_commit", "off") // a run-time parameter pgx sends at connect
					u.RawQuery = q.Encode()
				}
				db, err := postgres.OpenDB(b.Context(), u.String())
				if err != nil {
					b.Fatal(err)
				}
				d := postgres.Dialect
				d.Group, d.Writers = mode.group, mode.writers
				s := sqlstore.New(db, d, key)
				b.Cleanup(func() { s.Close() })
				err = s.Tx(b.Context(), func(tx baton.Tx) error {
					if err := tx.CreateWorkspace(baton.Workspace{ID: "w1"}); err != nil {
						return err
					}
					for c := range clients {
						err := tx.PutConversation(baton.Conversation{ID: fmt.Sprint("c", c), WorkspaceID: "w1",
							BotID: "b1", ExternalID: fmt.Sprint("x", c)})
						if err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for c := range clients {
					conv := fmt.Sprint("c", c)
					wg.Go(func() {
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							err := s.Tx(b.Context(), func(tx baton.Tx) error {
								err := tx.AddMessage(&baton.Message{ID: fmt.Sprint("m", i), ConversationID: conv,
									Author: baton.ByCustomer, Text: "Hello, I need help with my order."})
								if err != nil {
									return err
								}
								return tx.AddEvent(&baton.Event{ID: fmt.Sprint("e", i), WorkspaceID: "w1", BotID: "b1"})
							})
							if err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			})
		}
	}
}
