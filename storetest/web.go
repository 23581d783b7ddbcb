package storetest

import (
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// testInboxAgentsByEmail finds the agents the web inbox signs in by email:
// across workspaces, ASCII letters without case, oldest first, never an
// agent without an email or one of a deleted workspace.
func testInboxAgentsByEmail(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "w3", CreatedAt: t0}) })
	ann1 := baton.InboxAgent{ID: "a1", WorkspaceID: "w1", DeskID: "d1", Name: "Ann", Email: "Ann@Example.com", PasswordHash: "p1", CreatedAt: at(time.Second)}
	ann2 := baton.InboxAgent{ID: "a2", WorkspaceID: "w2", DeskID: "d2", Name: "Ann", Email: "ann@example.com", PasswordHash: "p2", Disabled: true, CreatedAt: t0}
	do(t, s, func(tx baton.Tx) error {
		for _, a := range []baton.InboxAgent{ann1, ann2,
			{ID: "a3", WorkspaceID: "w1", Name: "Bob", Email: "bob@example.com", CreatedAt: t0},
			{ID: "a4", WorkspaceID: "w1", Name: "Keyed", KeyHash: "k4", CreatedAt: t0},
			{ID: "a5", WorkspaceID: "w3", Name: "Ann", Email: "ann@example.com", CreatedAt: t0},
			{ID: "a6", WorkspaceID: "w1", Name: "Émile", Email: "émile@example.com", CreatedAt: t0},
		} {
			if err := tx.PutInboxAgent(a); err != nil {
				return err
			}
		}
		return tx.DeleteWorkspace("w3", t0)
	})
	find := func(email string) []baton.InboxAgent {
		t.Helper()
		var got []baton.InboxAgent
		do(t, s, func(tx baton.Tx) (err error) { got, err = tx.InboxAgentsByEmail(email); return err })
		return got
	}
	// Both, oldest first, disabled or not (the engine refuses disabled
	// agents); w3's is gone with its workspace.
	same(t, "ann", find("ANN@example.COM"), []baton.InboxAgent{ann2, ann1})
	if got := find("bob@example.com"); len(got) != 1 || got[0].ID != "a3" {
		t.Fatalf("bob: %+v", got)
	}
	// Only ASCII letters fold, alike on every store.
	if got := find("émile@example.com"); len(got) != 1 || got[0].ID != "a6" {
		t.Fatalf("émile: %+v", got)
	}
	if got := find("ÉMILE@example.com"); len(got) != 0 {
		t.Fatalf("ÉMILE matched %+v: only ASCII letters fold", got)
	}
	for _, email := range []string{"", "nobody@example.com", "ann@example"} {
		if got := find(email); len(got) != 0 {
			t.Fatalf("%q matched %+v", email, got)
		}
	}
}
