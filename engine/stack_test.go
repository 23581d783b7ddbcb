package engine_test

import (
	"context"
	"path/filepath"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/inbox"
	"github.com/batonhq/baton/sqlite"
)

// stack is a real engine over a real SQLite store with the inbox desk.
type stack struct {
	eng    *engine.Engine
	store  baton.Store
	agents inbox.Agents
	ana    baton.InboxAgent
	ws     string
	bot    string
	desk   string
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

// newStack opens a fresh store in dir and seeds one workspace with a bot, an
// inbox desk with policy pol, and an agent. It does not start the worker.
func newStack(t tb, dir string, pol *baton.Policy) *stack {
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "baton.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newStackOn(t, st, nil, pol)
}

// newStackOn seeds st as newStack does. desks builds the desk adapters; nil
// means the inbox desk.
func newStackOn(t tb, st baton.Store, desks engine.DeskFactory, pol *baton.Policy) *stack {
	ctx := context.Background()
	if desks == nil {
		desks = func(d baton.DeskConfig) (baton.Desk, error) { return inbox.New(d) }
	}
	eng := engine.New(st, desks, nil, nil, engine.Config{})
	s := &stack{eng: eng, store: st, agents: inbox.Agents{Engine: eng}, ws: "ws1", bot: "bot1", desk: "desk1"}
	s.ana = baton.InboxAgent{ID: "ana", WorkspaceID: s.ws, DeskID: s.desk, Name: "Ana", KeyHash: engine.HashKey("ana-key")}
	err := st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: s.ws, Name: "One"}); err != nil {
			return err
		}
		if err := tx.PutDesk(baton.DeskConfig{ID: s.desk, WorkspaceID: s.ws, Name: "Inbox", Kind: baton.KindInbox, Policy: pol, Status: baton.Available}); err != nil {
			return err
		}
		if err := tx.PutBot(baton.Bot{ID: s.bot, WorkspaceID: s.ws, Name: "Bot", DeskID: s.desk}); err != nil {
			return err
		}
		return tx.PutInboxAgent(s.ana)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain runs every job that is due now, repeatedly, until none is.
func (s *stack) drain(t tb) {
	for range 100 {
		n, err := s.eng.RunDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("jobs keep coming")
}

func (s *stack) create(t tb, conv string) baton.Handoff {
	h, _, err := s.eng.CreateHandoff(context.Background(), s.ws, engine.CreateRequest{
		ConversationID: conv, Customer: baton.Customer{ID: "cust-" + conv, Name: "Cus"}, Question: "I need a human",
		History: []engine.Turn{{Author: baton.ByCustomer, Text: "hi"}, {Author: baton.ByBot, Text: "hello"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (s *stack) handoff(t tb, id string) baton.Handoff {
	h, err := s.eng.Handoff(context.Background(), s.ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (s *stack) events(t tb) []baton.Event {
	evs, err := s.eng.Events(context.Background(), s.ws, s.bot, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func types(evs []baton.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// tb is what the helpers need of *testing.T and *rapid.T alike.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}
