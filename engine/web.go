package engine

import (
	"context"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/password"
)

// The web inbox's reads and its sign-in. Its actions are the inbox API's
// (Claim, Reply, EndByAgent), with the same rules.

// errSignIn is every failed sign-in's answer: it never says whether the
// email or the password was wrong, nor that the agent is disabled.
var errSignIn = baton.Errorf(baton.EUNAUTHORIZED, "wrong email or password")

// timingHash is checked when no agent has the email, so that an unknown
// email costs what a wrong password does. It is the hash of no one's password.
const timingHash = "$argon2id$v=19$m=19456,t=2,p=1$Grqux7omlJ9XRF0M3RXhGA$8ha+Ixt5vou/aRSNoqV4vimpCoiXsksqFAs8SYbkoys"

// SignIn finds the inbox agent whose email and password these are, for the
// web inbox. Emails are unique within a workspace only: of the agents of
// every live workspace with the email, the oldest whose password matches
// signs in. A disabled agent, an agent without a password, a wrong
// password and an unknown email all fail alike (EUNAUTHORIZED).
func (e *Engine) SignIn(ctx context.Context, email, pw string) (baton.InboxAgent, error) {
	email = strings.TrimSpace(email)
	if email == "" || pw == "" || len(pw) > password.MaxLen {
		return baton.InboxAgent{}, errSignIn
	}
	var found []baton.InboxAgent
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		found, err = tx.InboxAgentsByEmail(email)
		return err
	})
	if err != nil {
		return baton.InboxAgent{}, err
	}
	// Passwords are checked outside the transaction: argon2id takes a while.
	checked := false
	for _, a := range found {
		if a.PasswordHash == "" {
			continue
		}
		checked = true
		ok, err := password.Check(pw, a.PasswordHash)
		if err != nil {
			e.log.Error("an inbox agent's password hash is unreadable", "workspace", a.WorkspaceID, "agent", a.ID, "err", err)
			continue
		}
		if ok && !a.Disabled {
			return a, nil
		}
	}
	if !checked {
		password.Check(pw, timingHash)
	}
	return baton.InboxAgent{}, errSignIn
}

// InboxItem is a handoff as the web inbox lists it: with its customer and
// what the customer last wrote in it.
type InboxItem struct {
	Handoff  baton.Handoff
	Customer baton.Customer
	Latest   string // the customer's latest message of the handoff: the question until they write again
}

// latestWindow is how many of a conversation's last messages InboxBoard
// looks through for the customer's latest.
const latestWindow = 20

// InboxBoard is InboxQueue with each handoff's customer and latest
// customer message: the web inbox's queue page.
func (e *Engine) InboxBoard(ctx context.Context, a baton.InboxAgent) (waiting, mine []InboxItem, err error) {
	wh, mh, err := e.InboxQueue(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	err = e.store.View(ctx, func(tx baton.Tx) error {
		items := func(hs []baton.Handoff) ([]InboxItem, error) {
			out := make([]InboxItem, 0, len(hs))
			for _, h := range hs {
				it := InboxItem{Handoff: h, Latest: h.Question}
				c, err := tx.ConversationByID(h.ConversationID)
				if err != nil {
					return nil, err
				}
				if c.WorkspaceID == a.WorkspaceID {
					it.Customer = c.Customer
				}
				ms, err := tx.LastMessages(h.ConversationID, latestWindow)
				if err != nil {
					return nil, err
				}
				for i := len(ms) - 1; i >= 0; i-- {
					if ms[i].HandoffID == h.ID && ms[i].Author == baton.ByCustomer && ms[i].Text != "" {
						it.Latest = ms[i].Text
						break
					}
				}
				out = append(out, it)
			}
			return out, nil
		}
		if waiting, err = items(wh); err != nil {
			return err
		}
		mine, err = items(mh)
		return err
	})
	return waiting, mine, err
}

// InboxCase is one handoff as the web inbox shows it.
type InboxCase struct {
	Handoff  baton.Handoff
	Customer baton.Customer
	Messages []baton.Message
	// History is how many of Messages, from the first, are the rounds of
	// the bot's history the handoff was asked with; the question follows.
	History int
	// Brief is the handoff's brief as the inbox desk kept it when it opened
	// (written by the LLM when the desk has one), else the extractive one.
	Brief baton.Brief
}

// InboxCase reads a handoff of the agent's desk with its customer and its
// messages. Another desk's or workspace's handoff is ENOTFOUND.
func (e *Engine) InboxCase(ctx context.Context, a baton.InboxAgent, id string) (InboxCase, error) {
	var v InboxCase
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if v.Handoff, err = tx.Handoff(a.WorkspaceID, id); err != nil {
			return err
		}
		if v.Handoff.DeskID != a.DeskID {
			return notInDesk(id)
		}
		c, err := tx.ConversationByID(v.Handoff.ConversationID)
		if err != nil {
			return err
		}
		if c.WorkspaceID != a.WorkspaceID {
			return notInDesk(id)
		}
		v.Customer = c.Customer
		v.Messages, err = tx.HandoffMessages(v.Handoff.ID)
		return err
	})
	if err != nil {
		return InboxCase{}, err
	}
	v.History = historyOf(v.Handoff, v.Messages)
	var ok bool
	if v.Brief, ok = keptBrief(v.Handoff); !ok {
		v.Brief = baton.MakeBrief(v.Customer, v.Messages[:v.History], v.Handoff.Question)
	}
	return v, nil
}

// EndSessions ends every web session of the agent: the sign-out of the
// web inbox (a session cookie is signed, not stored, so this is what makes
// a copied one stop working).
func (e *Engine) EndSessions(ctx context.Context, a baton.InboxAgent) error {
	return e.store.Tx(ctx, func(tx baton.Tx) error {
		cur, err := tx.InboxAgent(a.WorkspaceID, a.ID)
		if err != nil {
			return err
		}
		cur.SessionGen++
		return tx.PutInboxAgent(cur)
	})
}
