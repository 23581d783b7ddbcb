package engine_test

import (
	"context"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/password"
)

// TestSignIn checks the web inbox's sign-in: the right email (any ASCII
// case) and password sign the agent in; a wrong password, an unknown
// email, an agent without a password and a disabled agent all fail with
// the same EUNAUTHORIZED error, which names neither field.
func TestSignIn(t *testing.T) {
	t.Parallel()
	s := newStack(t, t.TempDir(), nil)
	ctx := context.Background()
	const pw = "correct horse battery"
	err := s.store.Tx(ctx, func(tx baton.Tx) error {
		for _, a := range []baton.InboxAgent{
			{ID: "ann", WorkspaceID: s.ws, DeskID: s.desk, Name: "Ann", Email: "ann@example.com", PasswordHash: password.Hash(pw)},
			{ID: "off", WorkspaceID: s.ws, DeskID: s.desk, Name: "Off", Email: "off@example.com", PasswordHash: password.Hash(pw), Disabled: true},
			{ID: "keyonly", WorkspaceID: s.ws, DeskID: s.desk, Name: "Key", Email: "key@example.com", KeyHash: "kh"},
		} {
			if err := tx.PutInboxAgent(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.eng.SignIn(ctx, " Ann@Example.com ", pw)
	if err != nil || a.ID != "ann" || a.WorkspaceID != s.ws {
		t.Fatalf("SignIn = %+v, %v", a, err)
	}
	var first error
	for _, c := range []struct{ email, pw string }{
		{"ann@example.com", "wrong horse battery"},
		{"nobody@example.com", pw},
		{"off@example.com", pw},
		{"key@example.com", pw},
		{"", pw},
		{"ann@example.com", ""},
	} {
		_, err := s.eng.SignIn(ctx, c.email, c.pw)
		if baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Errorf("SignIn(%q, %q) = %v, want EUNAUTHORIZED", c.email, c.pw, err)
		}
		if first == nil {
			first = err
		} else if err.Error() != first.Error() {
			t.Errorf("SignIn(%q) says %q, another failure %q: they must not differ", c.email, err, first)
		}
	}
}

// TestInboxCase checks the web inbox's view of a handoff: its customer,
// its messages with the history rounds counted, and 404 for another
// desk's agent.
func TestInboxCase(t *testing.T) {
	t.Parallel()
	s := newStack(t, t.TempDir(), nil)
	ctx := context.Background()
	h := s.create(t, "c1")
	s.drain(t)
	if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "are you there?", nil); err != nil {
		t.Fatal(err)
	}
	v, err := s.eng.InboxCase(ctx, s.ana, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Customer.Name != "Cus" || len(v.Messages) != 4 || v.History != 2 {
		t.Fatalf("InboxCase = customer %+v, %d messages, history %d; want Cus, 4, 2", v.Customer, len(v.Messages), v.History)
	}
	if v.Messages[2].Text != "I need a human" || v.Messages[3].Text != "are you there?" {
		t.Fatalf("messages %+v", v.Messages)
	}
	waiting, _, err := s.eng.InboxBoard(ctx, s.ana)
	if err != nil || len(waiting) != 1 || waiting[0].Latest != "are you there?" || waiting[0].Customer.Name != "Cus" {
		t.Fatalf("InboxBoard = %+v, %v", waiting, err)
	}
	other := s.ana
	other.DeskID = "another"
	if _, err := s.eng.InboxCase(ctx, other, h.ID); baton.ErrorCode(err) != baton.ENOTFOUND {
		t.Fatalf("another desk's agent: %v, want ENOTFOUND", err)
	}
	other = s.ana
	other.WorkspaceID = "ws2"
	if _, err := s.eng.InboxCase(ctx, other, h.ID); baton.ErrorCode(err) != baton.ENOTFOUND {
		t.Fatalf("another workspace's agent: %v, want ENOTFOUND", err)
	}
}
