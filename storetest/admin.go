package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// testWorkspaceLifecycle lists, renames and deletes workspaces: a deleted
// one is gone from reads, its keys are revoked, and its id stays taken.
func testWorkspaceLifecycle(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error {
		if err := tx.RenameWorkspace("w1", "Acme"); err != nil {
			return err
		}
		if err := tx.PutAPIKey(baton.APIKey{Hash: "h1", WorkspaceID: "w1", Name: "k"}); err != nil {
			return err
		}
		if err := tx.PutAPIKey(baton.APIKey{Hash: "h2", WorkspaceID: "w2", Name: "k"}); err != nil {
			return err
		}
		if err := tx.PutDesk(baton.DeskConfig{ID: "d1", WorkspaceID: "w1", Kind: baton.KindInbox}); err != nil {
			return err
		}
		return tx.PutInboxAgent(baton.InboxAgent{ID: "a1", WorkspaceID: "w1", KeyHash: "ah1", PasswordHash: "p"})
	})
	do(t, s, func(tx baton.Tx) error {
		ws, err := tx.Workspaces()
		same(t, "workspaces", ws, []baton.Workspace{{ID: "w1", Name: "Acme", CreatedAt: t0}, {ID: "w2", Name: "Workspace w2", CreatedAt: t0}})
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { return tx.RenameWorkspace("nope", "x") })
	do(t, s, func(tx baton.Tx) error { return tx.DeleteWorkspace("w1", at(0*time.Second)) })
	do(t, s, func(tx baton.Tx) error {
		ws, err := tx.Workspaces()
		same(t, "workspaces after delete", ws, []baton.Workspace{{ID: "w2", Name: "Workspace w2", CreatedAt: t0}})
		if _, err := tx.APIKey("h2"); err != nil {
			t.Errorf("another workspace's key: %v", err)
		}
		return err
	})
	for _, fn := range []func(tx baton.Tx) error{
		func(tx baton.Tx) error { _, err := tx.Workspace("w1"); return err },
		func(tx baton.Tx) error { _, err := tx.APIKey("h1"); return err },
		func(tx baton.Tx) error { _, err := tx.InboxAgentByKey("ah1"); return err },
		func(tx baton.Tx) error { _, err := tx.DeskByID("d1"); return err },
		func(tx baton.Tx) error { return tx.RenameWorkspace("w1", "again") },
		func(tx baton.Tx) error { return tx.DeleteWorkspace("w1", at(0*time.Second)) },
	} {
		wantCode(t, s, baton.ENOTFOUND, fn)
	}
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "w1"}) })
}

// testKeyLifecycle lists, touches and revokes API keys by id.
func testKeyLifecycle(t *testing.T, s baton.Store) {
	seed(t, s)
	k1 := baton.APIKey{ID: "key_a", Hash: "ha", WorkspaceID: "w1", Name: "a", Prefix: "bk_aaaa", Scope: baton.ScopeFull, CreatedAt: t0}
	k2 := baton.APIKey{Hash: "hb", WorkspaceID: "w1", Name: "b", Managed: true, CreatedAt: at(1 * time.Second)}
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutAPIKey(k1); err != nil {
			return err
		}
		if err := tx.PutAPIKey(k2); err != nil {
			return err
		}
		if err := tx.PutAPIKey(baton.APIKey{Hash: "hc", WorkspaceID: "w2"}); err != nil {
			return err
		}
		return tx.TouchAPIKey("ha", at(5*time.Second))
	})
	// A key with no id or scope gets the stable id of its hash and full scope.
	k2.ID, k2.Scope = baton.KeyID("hb"), baton.ScopeFull
	k1.LastUsedAt = at(5 * time.Second)
	do(t, s, func(tx baton.Tx) error {
		keys, err := tx.APIKeys("w1")
		same(t, "keys", keys, []baton.APIKey{k1, k2})
		return err
	})
	// Replacing a key keeps when it was last used.
	k1.Name = "renamed"
	do(t, s, func(tx baton.Tx) error {
		return tx.PutAPIKey(baton.APIKey{ID: "key_a", Hash: "ha", WorkspaceID: "w1", Name: "renamed", Prefix: "bk_aaaa", CreatedAt: t0})
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.APIKey("ha")
		same(t, "replaced key", got, k1)
		return err
	})
	// Another workspace cannot revoke it.
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { return tx.DeleteAPIKey("w2", "key_a") })
	do(t, s, func(tx baton.Tx) error { return tx.DeleteAPIKey("w1", "key_a") })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.APIKey("ha"); return err })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { return tx.DeleteAPIKey("w1", "key_a") })
	// Two keys cannot share an id.
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutAPIKey(baton.APIKey{ID: k2.ID, Hash: "hd", WorkspaceID: "w1"})
	})
}

// testAdminKey stores, finds, touches and revokes admin keys, apart from API keys.
func testAdminKey(t *testing.T, s baton.Store) {
	seed(t, s)
	k := baton.AdminKey{ID: "adm_1", Hash: "x1", Name: "ops", Prefix: "badm_abcd", CreatedAt: t0}
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutAdminKey(k); err != nil {
			return err
		}
		if err := tx.PutAdminKey(baton.AdminKey{Hash: "x2", Name: "file", Managed: true, CreatedAt: at(1 * time.Second)}); err != nil {
			return err
		}
		return tx.TouchAdminKey("x1", at(3*time.Second))
	})
	k.LastUsedAt = at(3 * time.Second)
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.AdminKey("x1")
		same(t, "admin key", got, k)
		keys, err2 := tx.AdminKeys()
		same(t, "admin keys", keys, []baton.AdminKey{k, {ID: baton.KeyID("x2"), Hash: "x2", Name: "file", Managed: true, CreatedAt: at(1 * time.Second)}})
		if err == nil {
			err = err2
		}
		return err
	})
	// Ending its sessions moves its generation on; putting the key again
	// (an apply) keeps it.
	do(t, s, func(tx baton.Tx) error { return tx.EndAdminSessions("adm_1") })
	do(t, s, func(tx baton.Tx) error { return tx.EndAdminSessions("adm_1") })
	do(t, s, func(tx baton.Tx) error {
		return tx.PutAdminKey(baton.AdminKey{ID: "adm_1", Hash: "x1", Name: "renamed", CreatedAt: t0})
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.AdminKey("x1")
		if err == nil && (got.SessionGen != 2 || got.Name != "renamed") {
			t.Errorf("after two ends and a put: %+v, want generation 2", got)
		}
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { return tx.EndAdminSessions("nope") })
	// An admin key is no API key.
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.APIKey("x1"); return err })
	for _, h := range []string{"nope", ""} {
		wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.AdminKey(h); return err })
	}
	do(t, s, func(tx baton.Tx) error { return tx.DeleteAdminKey("adm_1") })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.AdminKey("x1"); return err })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { return tx.DeleteAdminKey("adm_1") })
}

// testAudit appends entries with increasing Seq and pages them per workspace.
func testAudit(t *testing.T, s baton.Store) {
	seed(t, s)
	entries := []baton.AuditEntry{
		{At: t0, Actor: "admin:ops", Action: "create", Object: "workspace", ObjectID: "w1", WorkspaceID: "w1", After: json.RawMessage(`{"id":"w1"}`)},
		{At: at(1 * time.Second), Actor: "apply", Action: "update", Object: "bot", ObjectID: "b1", WorkspaceID: "w2", Before: json.RawMessage(`{"name":"a"}`), After: json.RawMessage(`{"name":"b"}`)},
		{At: at(2 * time.Second), Actor: "admin:ops", Action: "delete", Object: "desk", ObjectID: "d1", WorkspaceID: "w1", Before: json.RawMessage(`{"id":"d1"}`)},
	}
	do(t, s, func(tx baton.Tx) error {
		for i := range entries {
			if err := tx.AddAudit(&entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if !(entries[0].Seq > 0 && entries[1].Seq > entries[0].Seq && entries[2].Seq > entries[1].Seq) {
		t.Fatalf("seqs %d %d %d do not increase", entries[0].Seq, entries[1].Seq, entries[2].Seq)
	}
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Audit(baton.AuditPage{})
		same(t, "all", got, entries)
		w1, _ := tx.Audit(baton.AuditPage{WorkspaceID: "w1"})
		same(t, "w1", w1, []baton.AuditEntry{entries[0], entries[2]})
		page, _ := tx.Audit(baton.AuditPage{After: entries[0].Seq, Limit: 1})
		same(t, "page", page, entries[1:2])
		return err
	})
}

// testDelete removes bots, desks and inbox agents, only in their workspace.
func testDelete(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutBot(baton.Bot{ID: "b1", WorkspaceID: "w1", PreviousSecret: "whsec_old", PreviousUntil: at(9 * time.Second)}); err != nil {
			return err
		}
		if err := tx.PutDesk(baton.DeskConfig{ID: "d1", WorkspaceID: "w1", Kind: baton.KindInbox}); err != nil {
			return err
		}
		return tx.PutInboxAgent(baton.InboxAgent{ID: "a1", WorkspaceID: "w1", KeyHash: "k", Disabled: true, PasswordHash: "$argon2id$x", Managed: true})
	})
	do(t, s, func(tx baton.Tx) error {
		b, err := tx.Bot("w1", "b1")
		if b.PreviousSecret != "whsec_old" || !b.PreviousUntil.Equal(at(9*time.Second)) {
			t.Errorf("bot previous secret %q until %v", b.PreviousSecret, b.PreviousUntil)
		}
		a, err2 := tx.InboxAgent("w1", "a1")
		same(t, "agent", a, baton.InboxAgent{ID: "a1", WorkspaceID: "w1", KeyHash: "k", Disabled: true, PasswordHash: "$argon2id$x", Managed: true})
		all, _ := tx.InboxAgents("w1")
		same(t, "agents", len(all), 1)
		if err == nil {
			err = err2
		}
		return err
	})
	// A disabled agent's key finds nobody.
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.InboxAgentByKey("k"); return err })
	for _, fn := range []func(tx baton.Tx) error{
		func(tx baton.Tx) error { return tx.DeleteBot("w2", "b1") },
		func(tx baton.Tx) error { return tx.DeleteDesk("w2", "d1") },
		func(tx baton.Tx) error { return tx.DeleteInboxAgent("w2", "a1") },
		func(tx baton.Tx) error { _, err := tx.InboxAgent("w2", "a1"); return err },
	} {
		wantCode(t, s, baton.ENOTFOUND, fn)
	}
	do(t, s, func(tx baton.Tx) error {
		if err := tx.DeleteBot("w1", "b1"); err != nil {
			return err
		}
		if err := tx.DeleteDesk("w1", "d1"); err != nil {
			return err
		}
		return tx.DeleteInboxAgent("w1", "a1")
	})
	for _, fn := range []func(tx baton.Tx) error{
		func(tx baton.Tx) error { _, err := tx.Bot("w1", "b1"); return err },
		func(tx baton.Tx) error { _, err := tx.Desk("w1", "d1"); return err },
		func(tx baton.Tx) error { _, err := tx.InboxAgent("w1", "a1"); return err },
	} {
		wantCode(t, s, baton.ENOTFOUND, fn)
	}
}

// testOpenHandoffs lists the handoffs not ended, by bot and by desk.
func testOpenHandoffs(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutConversation(conversation("c1", "w1", "ext-1")); err != nil {
			return err
		}
		for i, h := range []baton.Handoff{
			handoff("h1", "w1", "d1", "r1", at(1*time.Second)),
			handoff("h2", "w1", "d2", "r2", at(2*time.Second)),
			handoff("h3", "w1", "d1", "r3", at(3*time.Second)),
			handoff("h4", "w2", "d1", "r4", at(4*time.Second)),
		} {
			if i == 2 {
				h.State = baton.Ended
			}
			if i == 1 {
				h.BotID = "b2"
			}
			if err := tx.PutHandoff(h); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(q baton.OpenQuery) (out []string) {
		do(t, s, func(tx baton.Tx) error {
			hs, err := tx.OpenHandoffs(q)
			for _, h := range hs {
				out = append(out, h.ID)
			}
			return err
		})
		return out
	}
	same(t, "w1", ids(baton.OpenQuery{WorkspaceID: "w1"}), []string{"h1", "h2"})
	same(t, "desk d1", ids(baton.OpenQuery{WorkspaceID: "w1", DeskID: "d1"}), []string{"h1"})
	same(t, "bot b2", ids(baton.OpenQuery{WorkspaceID: "w1", BotID: "b2"}), []string{"h2"})
	same(t, "limit", ids(baton.OpenQuery{WorkspaceID: "w1", Limit: 1}), []string{"h1"})
}

// testPin finds what a new handoff or an agent's action depends on, and
// refuses what is gone: a deleted workspace, a missing bot or desk, a
// disabled or deleted agent.
func testPin(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutDesk(baton.DeskConfig{ID: "d1", WorkspaceID: "w1", Name: "D", Kind: baton.KindInbox}); err != nil {
			return err
		}
		if err := tx.PutBot(baton.Bot{ID: "b1", WorkspaceID: "w1", Name: "B", DeskID: "d1"}); err != nil {
			return err
		}
		if err := tx.PutInboxAgent(baton.InboxAgent{ID: "a1", WorkspaceID: "w1", DeskID: "d1", Name: "A", CreatedAt: t0}); err != nil {
			return err
		}
		return tx.PutInboxAgent(baton.InboxAgent{ID: "a2", WorkspaceID: "w1", DeskID: "d1", Name: "Off", Disabled: true, CreatedAt: t0})
	})
	do(t, s, func(tx baton.Tx) error { return tx.Pin(baton.Pin{WorkspaceID: "w1", BotID: "b1", DeskID: "d1"}) })
	do(t, s, func(tx baton.Tx) error { return tx.Pin(baton.Pin{AgentID: "a1"}) })
	for _, p := range []baton.Pin{{WorkspaceID: "w1", BotID: "b2"}, {WorkspaceID: "w2", DeskID: "d1"}, {AgentID: "a2"}, {AgentID: "a3"}, {WorkspaceID: "w9"}} {
		wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { return tx.Pin(p) })
	}
}
