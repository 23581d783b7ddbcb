package config

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton"
)

// errRace says another instance created a workspace while this one was
// creating it too; applying again finds it.
var errRace = errors.New("workspace created concurrently")

// Apply writes the file to store in one transaction, as upserts: what the
// file names is created or updated; workspaces, desks and bots it no longer
// names are left in the store, while a workspace's API keys and inbox agents
// are exactly those it lists (others are revoked). Existing rows keep their
// creation time and, for desks, their last status. Instances starting
// together on one database may all apply the same file.
func (f *File) Apply(ctx context.Context, store baton.Store) error {
	for try := 0; ; try++ {
		err := f.applyOnce(ctx, store)
		if !errors.Is(err, errRace) || try == 2 {
			return err
		}
	}
}

func (f *File) applyOnce(ctx context.Context, store baton.Store) error {
	t := time.Now().UTC().Truncate(time.Microsecond)
	return store.Tx(ctx, func(tx baton.Tx) error {
		for i, w := range f.Workspaces {
			p := fmt.Sprintf("workspaces[%d]", i)
			if _, err := tx.Workspace(w.ID); baton.ErrorCode(err) == baton.ENOTFOUND {
				name := w.Name
				if name == "" {
					name = w.ID
				}
				err := tx.CreateWorkspace(baton.Workspace{ID: w.ID, Name: name, CreatedAt: t})
				if baton.ErrorCode(err) == baton.ECONFLICT {
					return fmt.Errorf("%s: %w", p, errRace)
				} else if err != nil {
					return f.stored(p, err)
				}
			} else if err != nil {
				return f.stored(p, err)
			}
			// The file is the truth about a workspace's keys and agents: those it
			// no longer lists are revoked.
			var keep []string
			for j, k := range w.APIKeys {
				h := baton.HashKey(k.Key)
				keep = append(keep, h)
				if err := tx.PutAPIKey(baton.APIKey{Hash: h, WorkspaceID: w.ID, Name: k.Name, CreatedAt: t}); err != nil {
					return f.stored(fmt.Sprintf("%s.api_keys[%d].key", p, j), err)
				}
			}
			if err := tx.DeleteAPIKeys(w.ID, keep); err != nil {
				return f.stored(p+".api_keys", err)
			}
			for j, d := range w.Desks {
				dc := d.config(w.ID)
				dc.CreatedAt = t
				if old, err := tx.Desk(w.ID, d.ID); err == nil {
					dc.CreatedAt, dc.Status, dc.LastError, dc.CheckedAt = old.CreatedAt, old.Status, old.LastError, old.CheckedAt
				} else if baton.ErrorCode(err) != baton.ENOTFOUND {
					return f.stored(fmt.Sprintf("%s.desks[%d]", p, j), err)
				}
				if err := tx.PutDesk(dc); err != nil {
					return f.stored(fmt.Sprintf("%s.desks[%d].id", p, j), err)
				}
			}
			for j, b := range w.Bots {
				name := b.Name
				if name == "" {
					name = b.ID
				}
				bot := baton.Bot{ID: b.ID, WorkspaceID: w.ID, Name: name, WebhookURL: b.WebhookURL, WebhookSecret: b.WebhookSecret,
					DeskID: b.Desk, Policy: b.Policy, CreatedAt: t}
				if old, err := tx.Bot(w.ID, b.ID); err == nil {
					bot.CreatedAt = old.CreatedAt
				} else if baton.ErrorCode(err) != baton.ENOTFOUND {
					return f.stored(fmt.Sprintf("%s.bots[%d]", p, j), err)
				}
				if err := tx.PutBot(bot); err != nil {
					return f.stored(fmt.Sprintf("%s.bots[%d].id", p, j), err)
				}
			}
			var agents []string
			for j, a := range w.InboxAgents {
				agent := baton.InboxAgent{ID: a.ID, WorkspaceID: w.ID, DeskID: a.Desk, Name: a.Name, Email: a.Email,
					KeyHash: baton.HashKey(a.Key), CreatedAt: t}
				agents = append(agents, a.ID)
				if err := tx.PutInboxAgent(agent); err != nil {
					return f.stored(fmt.Sprintf("%s.inbox_agents[%d].id", p, j), err)
				}
			}
			if err := tx.DeleteInboxAgents(w.ID, agents); err != nil {
				return f.stored(p+".inbox_agents", err)
			}
		}
		return nil
	})
}

// stored explains a store error met while applying the value at path.
func (f *File) stored(path string, err error) error {
	if baton.ErrorCode(err) == baton.ECONFLICT {
		e := f.errorf(path, "is taken by another workspace (%s)", baton.ErrorMessage(err))
		e.Err = err
		return e
	}
	e := f.errorf(path, "saving: %v", err)
	e.Err = err
	return e
}
