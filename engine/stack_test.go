package engine_test

import (
	"context"
	"path/filepath"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/sqlite"
)

// node is one Baton under test, built by the composition root: its engine,
// and the outbox worker that runs its jobs.
type node struct {
	*engine.Engine
	app *app.App
}

// newNode builds a node over st; desks builds the desk adapters, nil means
// the desk registry.
func newNode(st baton.Store, desks baton.DesksFunc, cfg outbox.Config) node {
	p := app.Params{Store: st, Worker: cfg}
	if desks != nil {
		p.Desks = desks
	}
	a := app.New(p)
	return node{Engine: a.Engine, app: a}
}

// Run runs the node's worker until ctx ends.
func (n node) Run(ctx context.Context) error { return n.app.Run(ctx) }

// RunDue runs the jobs due now, once.
func (n node) RunDue(ctx context.Context) (int, error) { return n.app.Worker.RunDue(ctx) }

// stack is a real engine over a real SQLite store with the inbox desk.
type stack struct {
	eng   node
	store baton.Store
	ana   baton.InboxAgent
	ws    string
	bot   string
	desk  string
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
// means the desk registry (the stack's desk is the inbox).
func newStackOn(t tb, st baton.Store, desks baton.DesksFunc, pol *baton.Policy) *stack {
	ctx := context.Background()
	s := &stack{eng: newNode(st, desks, outbox.Config{}), store: st, ws: "ws1", bot: "bot1", desk: "desk1"}
	s.ana = baton.InboxAgent{ID: "ana", WorkspaceID: s.ws, DeskID: s.desk, Name: "Ana", KeyHash: baton.HashKey("ana-key")}
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
	h, _, err := s.eng.CreateHandoff(context.Background(), s.ws, baton.CreateRequest{
		ExternalID: conv, Customer: baton.Customer{ID: "cust-" + conv, Name: "Cus"}, Question: "I need a human",
		History: []baton.Turn{{Author: baton.ByCustomer, Text: "hi"}, {Author: baton.ByBot, Text: "hello"}},
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

// Desk reads a desk's configuration.
func (n node) Desk(ctx context.Context, ws, id string) (d baton.DeskConfig, err error) {
	err = n.app.Store.View(ctx, func(tx baton.Tx) (err error) {
		d, err = tx.Desk(ws, id)
		return err
	})
	return d, err
}
