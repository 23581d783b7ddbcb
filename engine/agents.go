package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/password"
)

// AgentInput creates an inbox agent.
type AgentInput struct {
	ID       string // optional: a new id is made
	Name     string
	Email    string
	DeskID   string
	Password string // optional: for the web inbox
	Key      bool   // make the agent an API key for /v1/inbox
}

// AgentUpdate changes what it sets of an inbox agent.
type AgentUpdate struct {
	Name     Change[string]
	Email    Change[string]
	DeskID   Change[string]
	Password Change[string]
	Disabled Change[bool]
}

// checkAgent checks an inbox agent as it would be stored.
func checkAgent(tx baton.Tx, a baton.InboxAgent) error {
	if err := checkName("name", a.Name, true); err != nil {
		return err
	}
	switch {
	case a.Email == "" && a.PasswordHash != "":
		return baton.FieldErrorf("email", "is required with a password: the agent signs in with it")
	case a.Email != "":
		if err := checkEmail("email", a.Email); err != nil {
			return err
		}
	}
	if a.DeskID == "" {
		return baton.FieldErrorf("desk_id", "is required: the inbox desk the agent answers")
	}
	if err := tx.Pin(baton.Pin{WorkspaceID: a.WorkspaceID, DeskID: a.DeskID}); baton.ErrorCode(err) == baton.ENOTFOUND {
		return &baton.Error{Code: baton.EINVALID, Field: "desk_id", Message: fmt.Sprintf("no desk %q in this workspace", a.DeskID), Err: err}
	} else if err != nil {
		return err
	}
	d, err := tx.Desk(a.WorkspaceID, a.DeskID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return &baton.Error{Code: baton.EINVALID, Field: "desk_id", Message: fmt.Sprintf("no desk %q in this workspace", a.DeskID), Err: err}
	} else if err != nil {
		return err
	}
	if d.Kind != baton.KindInbox {
		return baton.FieldErrorf("desk_id", "desk %q is a %s desk; inbox agents answer inbox desks", a.DeskID, d.Kind)
	}
	agents, err := tx.InboxAgents(a.WorkspaceID)
	if err != nil {
		return err
	}
	for _, o := range agents {
		// Sign-in finds agents by email without case: one spelling per workspace.
		if o.ID != a.ID && a.Email != "" && strings.EqualFold(o.Email, a.Email) {
			return &baton.Error{Code: baton.ECONFLICT, Field: "email", Message: fmt.Sprintf("inbox agent %s has this email", o.ID)}
		}
	}
	return nil
}

// hashPassword checks and hashes a new password.
func hashPassword(pw string) (string, error) {
	if err := password.Validate(pw); err != nil {
		return "", baton.FieldErrorf("password", "%v", err)
	}
	return password.Hash(pw), nil
}

// CreateAgent adds an inbox agent, with a password (stored as an argon2id
// hash) and, when asked, a key returned here only.
func (e *Engine) CreateAgent(ctx context.Context, ws string, in AgentInput) (baton.InboxAgent, string, error) {
	if in.ID == "" {
		in.ID = baton.NewID("agent")
	} else if err := checkID("id", in.ID); err != nil {
		return baton.InboxAgent{}, "", err
	}
	a := baton.InboxAgent{ID: in.ID, WorkspaceID: ws, DeskID: in.DeskID, Name: in.Name, Email: in.Email, CreatedAt: now()}
	if in.Password == "" && !in.Key {
		return a, "", baton.FieldErrorf("password", "is required unless api_key is true: the agent needs a way in")
	}
	if in.Password != "" {
		h, err := hashPassword(in.Password)
		if err != nil {
			return a, "", err
		}
		a.PasswordHash = h
	}
	var key string
	if in.Key {
		key = baton.NewKey(baton.PrefixAgentKey)
		a.KeyHash = baton.HashKey(key)
	}
	_, replay, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		if err := checkAgent(tx, a); err != nil {
			return "", err
		}
		if _, err := tx.InboxAgent(ws, a.ID); err == nil {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "id", Message: fmt.Sprintf("inbox agent %q exists", a.ID)}
		}
		if err := tx.PutInboxAgent(a); baton.ErrorCode(err) == baton.ECONFLICT {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "id", Message: fmt.Sprintf("inbox agent id %q is taken", a.ID), Err: err}
		} else if err != nil {
			return "", err
		}
		return a.ID, audit(ctx, tx, ws, "create", "agent", a.ID, nil, ViewAgent(a))
	})
	if err != nil {
		return baton.InboxAgent{}, "", err
	}
	if replay {
		key = ""
	}
	got, err := e.Agent(ctx, ws, a.ID)
	return got, key, err
}

// Agent reads an inbox agent.
func (e *Engine) Agent(ctx context.Context, ws, id string) (a baton.InboxAgent, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := live(tx, ws); err != nil {
			return err
		}
		a, err = tx.InboxAgent(ws, id)
		return err
	})
	return a, err
}

// Agents lists a workspace's inbox agents.
func (e *Engine) Agents(ctx context.Context, ws string) (agents []baton.InboxAgent, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := live(tx, ws); err != nil {
			return err
		}
		agents, err = tx.InboxAgents(ws)
		return err
	})
	return agents, err
}

// changeAgent reads an agent, lets fn change it, checks and saves it.
func (e *Engine) changeAgent(ctx context.Context, ws, id, action string, fn func(*baton.InboxAgent) error) (baton.InboxAgent, bool, error) {
	_, replay, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		old, err := tx.InboxAgent(ws, id)
		if err != nil {
			return "", err
		}
		a := old
		if err := fn(&a); err != nil {
			return "", err
		}
		if err := checkAgent(tx, a); err != nil {
			return "", err
		}
		if err := tx.PutInboxAgent(a); err != nil {
			return "", err
		}
		return id, audit(ctx, tx, ws, action, "agent", id, ViewAgent(old), ViewAgent(a))
	})
	if err != nil {
		return baton.InboxAgent{}, replay, err
	}
	a, err := e.Agent(ctx, ws, id)
	return a, replay, err
}

// UpdateAgent changes what u sets of an inbox agent. A disabled agent's key
// and password are refused from the next request on.
func (e *Engine) UpdateAgent(ctx context.Context, ws, id string, u AgentUpdate) (baton.InboxAgent, error) {
	var hash string
	if u.Password.Set {
		h, err := hashPassword(u.Password.To)
		if err != nil {
			return baton.InboxAgent{}, err
		}
		hash = h
	}
	a, _, err := e.changeAgent(ctx, ws, id, "update", func(a *baton.InboxAgent) error {
		was := a.Disabled
		u.Name.apply(&a.Name)
		u.Email.apply(&a.Email)
		u.DeskID.apply(&a.DeskID)
		u.Disabled.apply(&a.Disabled)
		if u.Password.Set {
			a.PasswordHash = hash
		}
		if u.Password.Set || a.Disabled && !was {
			a.SessionGen++ // the web sessions made before end for good
		}
		return nil
	})
	return a, err
}

// NewAgentKey gives an inbox agent a new key, replacing the old one, and
// returns it: the only time it is shown (a replayed request answers
// without it).
func (e *Engine) NewAgentKey(ctx context.Context, ws, id string) (baton.InboxAgent, string, error) {
	key := baton.NewKey(baton.PrefixAgentKey)
	a, replay, err := e.changeAgent(ctx, ws, id, "rotate", func(a *baton.InboxAgent) error {
		a.KeyHash = baton.HashKey(key)
		return nil
	})
	if err != nil || replay {
		return a, "", err
	}
	return a, key, nil
}

// DeleteAgent removes an inbox agent: their key, password and web sessions
// are refused from the next request on. It is refused (conflict) while the
// agent holds open handoffs, which would have nobody to answer them: they
// end first, or the agent is disabled instead.
func (e *Engine) DeleteAgent(ctx context.Context, ws, id string) error {
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		a, err := tx.InboxAgent(ws, id)
		if err != nil {
			return "", err
		}
		// Delete first, then look: an agent's claim or reply pins the agent
		// (Tx.Pin), so one running now has committed by the time the delete
		// goes on, and the look finds its handoff.
		if err := tx.DeleteInboxAgent(ws, id); err != nil {
			return "", err
		}
		if n, err := held(tx, a); err != nil {
			return "", err
		} else if n > 0 {
			return "", baton.Errorf(baton.ECONFLICT, "inbox agent %s holds %d open handoffs: they must end first (or disable the agent)", id, n)
		}
		return id, audit(ctx, tx, ws, "delete", "agent", id, ViewAgent(a), nil)
	})
	return err
}

// held counts the open handoffs agent a holds at its desk.
func held(tx baton.Tx, a baton.InboxAgent) (int, error) {
	open, err := tx.OpenHandoffs(baton.OpenQuery{WorkspaceID: a.WorkspaceID, DeskID: a.DeskID})
	n := 0
	for _, h := range open {
		if h.Agent.ID == a.ID {
			n++
		}
	}
	return n, err
}
