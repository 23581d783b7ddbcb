package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/inbox"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/stdwebhook"
)

// TestPostgresInstancesFireOnce runs three engines on one PostgreSQL database,
// as three instances behind a load balancer would, and checks that every timer
// fires once and every bot webhook is delivered, repeats only under the
// event's id.
func TestPostgresInstancesFireOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.Migrated(t)
	ctx := context.Background()
	secret := stdwebhook.NewSecret()

	var mu sync.Mutex
	got := map[string]int{} // event id → deliveries
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := stdwebhook.Verify(secret, r.Header, body, time.Now()); err != nil {
			t.Errorf("bad signature: %v", err)
			w.WriteHeader(400)
			return
		}
		var env baton.Envelope
		json.Unmarshal(body, &env)
		mu.Lock()
		got[env.ID]++
		mu.Unlock()
	}))
	defer bot.Close()

	var engines []node
	for i := range 3 {
		st, err := postgres.Open(ctx, url, testKey)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		factory := func(d baton.DeskConfig) (baton.Desk, error) { return inbox.New(d) }
		eng := newNode(st, factory, outbox.Config{Poll: 50 * time.Millisecond})
		engines = append(engines, eng)
		if i == 0 {
			err := st.Tx(ctx, func(tx baton.Tx) error {
				if err := tx.CreateWorkspace(baton.Workspace{ID: "ws", Name: "WS"}); err != nil {
					return err
				}
				pol := &baton.Policy{WaitTimeout: baton.Duration(300 * time.Millisecond), WaitGrace: baton.Duration(300 * time.Millisecond)}
				if err := tx.PutDesk(baton.DeskConfig{ID: "inbox", WorkspaceID: "ws", Kind: baton.KindInbox, Policy: pol}); err != nil {
					return err
				}
				return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "ws", DeskID: "inbox", WebhookURL: bot.URL, WebhookSecret: secret})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { eng.Run(wctx); close(done) }()
		defer func() { cancel(); <-done }()
	}

	const n = 30
	var ids []string
	for i := range n {
		h, _, err := engines[i%3].CreateHandoff(ctx, "ws", baton.CreateRequest{
			ExternalID: fmt.Sprint("c", i), Customer: baton.Customer{ID: fmt.Sprint("u", i)}, Question: "help"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID)
	}
	deadline := time.Now().Add(40 * time.Second)
	for _, id := range ids {
		for {
			h, err := engines[0].Handoff(ctx, "ws", id)
			if err != nil {
				t.Fatal(err)
			}
			if h.State == baton.Ended {
				if h.EndReason != baton.WaitTimeout {
					t.Fatalf("%s ended %s", id, h.EndReason)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still %s", id, h.State)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	evs, err := engines[1].Events(ctx, "ws", "bot", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]map[string]int{}
	for _, ev := range evs {
		if per[ev.HandoffID] == nil {
			per[ev.HandoffID] = map[string]int{}
		}
		per[ev.HandoffID][ev.Type]++
	}
	for _, id := range ids {
		want := map[string]int{baton.EventQueued: 1, baton.EventWaitTimeout: 1, baton.EventEnded: 1}
		for typ, c := range want {
			if per[id][typ] != c {
				t.Errorf("%s: %d %s events, want %d (%v)", id, per[id][typ], typ, c, per[id])
			}
		}
	}
	// Every event reaches the bot; a repeat (a lease that ran out on a
	// loaded machine) carries the same id, which is what the bot dedupes on.
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		delivered := len(got)
		mu.Unlock()
		if delivered == len(evs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(evs) {
		t.Fatalf("bot got %d distinct events of %d", len(got), len(evs))
	}
	repeats := 0
	for _, c := range got {
		repeats += c - 1
	}
	if repeats > 0 {
		t.Logf("%d repeated deliveries, each under its event's id", repeats)
	}
}
