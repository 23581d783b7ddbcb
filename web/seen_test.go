package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/batonhq/baton/engine"
)

// TestPagesMarkAgentOnline: an agent with the inbox open counts as online
// at their desk, and only there.
func TestPagesMarkAgentOnline(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	online := func(desk string) int {
		t.Helper()
		a, err := f.app.Engine.Availability(context.Background(), ws1, engine.DeskQuery{BotID: bot1, DeskID: desk}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return a.AgentsOnline
	}
	if n := online(desk1); n != 0 {
		t.Fatalf("before any sign-in: %d online", n)
	}
	c := f.client()
	f.signIn(c, ada)
	if p := f.get(c, "/inbox/"); p.status != http.StatusOK {
		t.Fatalf("the queue: %d", p.status)
	}
	if n, other := online(desk1), online(deskOther); n != 1 || other != 0 {
		t.Errorf("Ada on the queue page: %d online at her desk, %d at the other; want 1 and 0", n, other)
	}
}
