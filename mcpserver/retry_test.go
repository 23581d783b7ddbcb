package mcpserver_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/mcpserver"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

// TestToolRetries, in virtual time: a call retried at once answers the
// first call's outcome, while the same call long after (the same question
// asked out of hours a day later, the same words written again) acts anew.
func TestToolRetries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		closed := &baton.Policy{Periods: []baton.Period{{Kind: baton.Custom, Date: "2001-01-01", Start: "09:00", End: "10:00"}}, OutOfHoursReply: "Closed."}
		st := seeded(t, dir, baton.DeskConfig{ID: "open", Name: "Open", Kind: baton.KindInbox},
			baton.DeskConfig{ID: "shut", Name: "Shut", Kind: baton.KindInbox, Policy: closed})
		ts := mcpserver.NewTools(app.New(app.Params{Store: st}).Engine, nil)
		call := func(name string, args any) map[string]any {
			t.Helper()
			b, _ := json.Marshal(args)
			out, err := ts.Call(ctx, "ws", name, b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, _ = json.Marshal(out)
			var m map[string]any
			json.Unmarshal(b, &m)
			return m
		}
		ask := map[string]any{"conversation_id": "c1", "customer": map[string]any{"id": "u1"}, "question": "A person, please.", "desk_id": "shut"}
		first := call(mcpserver.RequestHandoff, ask)
		if first["outcome"] != mcpserver.OutOfHours {
			t.Fatalf("%v, want out_of_hours", first)
		}
		if again := call(mcpserver.RequestHandoff, ask); again["handoff_id"] != first["handoff_id"] {
			t.Errorf("a retry made handoff %v, want %v", again["handoff_id"], first["handoff_id"])
		}
		time.Sleep(mcpserver.RetryWindow + time.Second)
		if later := call(mcpserver.RequestHandoff, ask); later["handoff_id"] == first["handoff_id"] || later["outcome"] != mcpserver.OutOfHours {
			t.Errorf("asked again later: %v, want a new out_of_hours handoff", later)
		}

		open := call(mcpserver.RequestHandoff, map[string]any{"conversation_id": "c2", "customer": map[string]any{"id": "u2"}, "question": "Help"})
		say := map[string]any{"handoff_id": open["handoff_id"], "text": "yes"}
		m1 := call(mcpserver.SendToHuman, say)
		if m2 := call(mcpserver.SendToHuman, say); m2["message_id"] != m1["message_id"] {
			t.Errorf("a retried message is a new one: %v, %v", m1, m2)
		}
		time.Sleep(mcpserver.RetryWindow + time.Second)
		if m3 := call(mcpserver.SendToHuman, say); m3["message_id"] == m1["message_id"] {
			t.Errorf("the same words written later were taken for a retry: %v", m3)
		}
	})
}

// TestToolSettleDeadline, in virtual time: with nobody opening the desk
// (no worker runs), request_human_handoff waits Settle for the desk and
// then says honestly that it is still being reached, not that a person is
// coming.
func TestToolSettleDeadline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := seeded(t, dir, baton.DeskConfig{ID: "open", Name: "Open", Kind: baton.KindInbox})
		ts := mcpserver.NewTools(app.New(app.Params{Store: st}).Engine, nil)
		start := time.Now()
		out, err := ts.Call(ctx, "ws", mcpserver.RequestHandoff, json.RawMessage(`{"conversation_id": "c", "customer": {"id": "u"}, "question": "A person"}`))
		if err != nil {
			t.Fatal(err)
		}
		o := out.(mcpserver.Outcome)
		if o.Outcome != mcpserver.Requested || o.HandoffID == "" || !strings.Contains(o.Instruction, "get_handoff") || strings.Contains(o.Instruction, "number 1") {
			t.Errorf("a desk that never answers: %+v, want requested with the instruction to check get_handoff", o)
		}
		if waited := time.Since(start); waited < mcpserver.Settle || waited > mcpserver.Settle+time.Second {
			t.Errorf("waited %v for the desk, want %v", waited, mcpserver.Settle)
		}
	})
}

// seeded opens a SQLite store in dir holding workspace "ws" with desks
// and bot "bot" on the first; it is closed when the test ends.
func seeded(t *testing.T, dir string, desks ...baton.DeskConfig) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "baton.db"), []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	err = st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "ws", Name: "W"}); err != nil {
			return err
		}
		for _, d := range desks {
			d.WorkspaceID = "ws"
			if err := tx.PutDesk(d); err != nil {
				return err
			}
		}
		return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "ws", Name: "Bot", DeskID: desks[0].ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
