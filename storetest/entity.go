package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func testWorkspace(t *testing.T, s baton.Store) {
	w := baton.Workspace{ID: "w1", Name: "Acme", CreatedAt: t0}
	do(t, s, func(tx baton.Tx) error { return tx.CreateWorkspace(w) })
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Workspace("w1")
		same(t, "workspace", got, w)
		return err
	})
	// A zero time survives as the zero time.
	do(t, s, func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "w0"}) })
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Workspace("w0")
		same(t, "workspace", got, baton.Workspace{ID: "w0"})
		return err
	})
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error { return tx.CreateWorkspace(w) })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Workspace("nope")
		return err
	})
}

func testAPIKey(t *testing.T, s baton.Store) {
	seed(t, s)
	k := baton.APIKey{ID: "key_1", Hash: "abc123", WorkspaceID: "w1", Name: "prod", Prefix: "bk_abc", Scope: baton.ScopeRead, BotID: "b1", CreatedAt: t0}
	do(t, s, func(tx baton.Tx) error { return tx.PutAPIKey(k) })
	k.Name = "renamed"
	do(t, s, func(tx baton.Tx) error { return tx.PutAPIKey(k) })
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.APIKey("abc123")
		same(t, "api key", got, k)
		return err
	})
	// A key cannot be moved to another workspace.
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutAPIKey(baton.APIKey{Hash: "abc123", WorkspaceID: "w2"})
	})
	// A key needs its workspace.
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		return tx.PutAPIKey(baton.APIKey{Hash: "def", WorkspaceID: "nope"})
	})
	for _, h := range []string{"nope", ""} {
		wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
			_, err := tx.APIKey(h)
			return err
		})
	}
	// Revoking one key by id leaves the others, and other workspaces', alone.
	do(t, s, func(tx baton.Tx) error {
		for _, k := range []baton.APIKey{{Hash: "k2", WorkspaceID: "w1"}, {Hash: "o1", WorkspaceID: "w2"}} {
			if err := tx.PutAPIKey(k); err != nil {
				return err
			}
		}
		return tx.DeleteAPIKey("w1", k.ID)
	})
	for h, want := range map[string]string{"abc123": baton.ENOTFOUND, "k2": "", "o1": ""} {
		do(t, s, func(tx baton.Tx) error {
			if _, err := tx.APIKey(h); baton.ErrorCode(err) != want {
				t.Errorf("key %s after revoking: %v, want %q", h, err, want)
			}
			return nil
		})
	}
	do(t, s, func(tx baton.Tx) error { return tx.DeleteAPIKey("w1", baton.KeyID("k2")) })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.APIKey("k2"); return err })
}

func testBot(t *testing.T, s baton.Store) {
	seed(t, s)
	b := baton.Bot{ID: "b1", WorkspaceID: "w1", Name: "Helper", WebhookURL: "https://bot.example/hook",
		WebhookSecret: "whsec_c2VjcmV0", DeskID: "d1", Policy: policy(), CreatedAt: t0}
	bare := baton.Bot{ID: "b2", WorkspaceID: "w1"}
	other := baton.Bot{ID: "b3", WorkspaceID: "w2", Name: "Other", CreatedAt: at(-time.Hour)}
	do(t, s, func(tx baton.Tx) error {
		for _, x := range []baton.Bot{b, bare, other} {
			if err := tx.PutBot(x); err != nil {
				return err
			}
		}
		return nil
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Bot("w1", "b1")
		if err != nil {
			return err
		}
		same(t, "bot", got, b)
		got, err = tx.Bot("w1", "b2")
		same(t, "bare bot", got, bare)
		return err
	})
	// Replace by ID.
	b.Name, b.WebhookSecret, b.Policy = "Renamed", "whsec_bmV3", nil
	do(t, s, func(tx baton.Tx) error { return tx.PutBot(b) })
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Bots("w1")
		same(t, "bots", got, []baton.Bot{bare, b})
		if err != nil {
			return err
		}
		got, err = tx.Bots("w2")
		same(t, "other bots", got, []baton.Bot{other})
		return err
	})
	// Another workspace neither sees nor overwrites it.
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Bot("w2", "b1")
		return err
	})
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutBot(baton.Bot{ID: "b1", WorkspaceID: "w2", Name: "Hijack"})
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Bot("w1", "b1")
		same(t, "bot after hijack attempt", got, b)
		return err
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Bots("nope")
		if len(got) != 0 {
			t.Errorf("Bots(nope) = %v", got)
		}
		return err
	})
}

func testDesk(t *testing.T, s baton.Store) {
	seed(t, s)
	d := baton.DeskConfig{ID: "d1", WorkspaceID: "w1", Name: "Support", Kind: baton.KindLiveChat,
		Settings: map[string]string{"client_id": "cid", "token": "tok-123"}, Policy: policy(),
		Status: baton.Available, LastError: "none", CheckedAt: at(time.Minute), CreatedAt: t0}
	bare := baton.DeskConfig{ID: "d2", WorkspaceID: "w1", Kind: baton.KindInbox, CreatedAt: at(time.Second)}
	empty := baton.DeskConfig{ID: "d3", WorkspaceID: "w2", Settings: map[string]string{}}
	do(t, s, func(tx baton.Tx) error {
		for _, x := range []baton.DeskConfig{d, bare, empty} {
			if err := tx.PutDesk(x); err != nil {
				return err
			}
		}
		return nil
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Desk("w1", "d1")
		if err != nil {
			return err
		}
		same(t, "desk", got, d)
		got, err = tx.DeskByID("d3")
		same(t, "desk by id", got, empty)
		if err != nil {
			return err
		}
		list, err := tx.Desks("w1")
		same(t, "desks", list, []baton.DeskConfig{d, bare})
		return err
	})
	d.Settings["token"] = "tok-456"
	d.Name = "Renamed"
	do(t, s, func(tx baton.Tx) error { return tx.PutDesk(d) })
	do(t, s, func(tx baton.Tx) error {
		return tx.SetDeskStatus(baton.DeskState{DeskID: "d1", Status: baton.Unavailable, LastError: "401 from desk", CheckedAt: at(time.Hour)})
	})
	d.Status, d.LastError, d.CheckedAt = baton.Unavailable, "401 from desk", at(time.Hour)
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Desk("w1", "d1")
		same(t, "desk after status", got, d)
		return err
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.DeskStatuses()
		if got["d1"] != baton.Unavailable {
			t.Errorf("DeskStatuses = %v, want d1 unavailable", got)
		}
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Desk("w2", "d1")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.DeskByID("nope")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		return tx.SetDeskStatus(baton.DeskState{DeskID: "nope", Status: baton.Available, LastError: "", CheckedAt: t0})
	})
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutDesk(baton.DeskConfig{ID: "d1", WorkspaceID: "w2"})
	})
}

func testInboxAgent(t *testing.T, s baton.Store) {
	seed(t, s)
	a := baton.InboxAgent{ID: "a1", WorkspaceID: "w1", DeskID: "d1", Name: "Ann", Email: "ann@example.com",
		KeyHash: "h1", CreatedAt: t0}
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutInboxAgent(a); err != nil {
			return err
		}
		// Agents without a key do not collide on the empty hash.
		if err := tx.PutInboxAgent(baton.InboxAgent{ID: "a2", WorkspaceID: "w1"}); err != nil {
			return err
		}
		return tx.PutInboxAgent(baton.InboxAgent{ID: "a3", WorkspaceID: "w2"})
	})
	a.Name, a.KeyHash = "Anne", "h2"
	do(t, s, func(tx baton.Tx) error { return tx.PutInboxAgent(a) })
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.InboxAgentByKey("h2")
		same(t, "agent", got, a)
		return err
	})
	for _, h := range []string{"h1", ""} {
		wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
			_, err := tx.InboxAgentByKey(h)
			return err
		})
	}
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutInboxAgent(baton.InboxAgent{ID: "a1", WorkspaceID: "w2"})
	})
	// Seen: recorded for the workspace's agent alone, kept by a put.
	seen := t0.Add(time.Hour)
	do(t, s, func(tx baton.Tx) error {
		if err := tx.TouchInboxAgent("w2", "a1", seen.Add(time.Hour)); err != nil {
			return err
		}
		return tx.TouchInboxAgent("w1", "a1", seen)
	})
	a.Name = "Annie"
	do(t, s, func(tx baton.Tx) error { return tx.PutInboxAgent(a) })
	a.SeenAt = seen
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.InboxAgent("w1", "a1")
		same(t, "seen agent", got, a)
		return err
	})
	// Removing an agent: a1 goes, w2's a3 stays.
	do(t, s, func(tx baton.Tx) error {
		return tx.PutInboxAgent(baton.InboxAgent{ID: "a3", WorkspaceID: "w2", KeyHash: "h3"})
	})
	do(t, s, func(tx baton.Tx) error { return tx.DeleteInboxAgent("w1", "a1") })
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error { _, err := tx.InboxAgentByKey("h2"); return err })
	do(t, s, func(tx baton.Tx) error { _, err := tx.InboxAgentByKey("h3"); return err })
}

// conversation is a conversation with every field set.
func conversation(id, ws, ext string) baton.Conversation {
	return baton.Conversation{ID: id, WorkspaceID: ws, BotID: "b1", ExternalID: ext,
		Customer: baton.Customer{ID: "cust-1", Name: "Zoë", Email: "zoe@example.com",
			Metadata: map[string]any{"plan": "pro", "seats": 3.0, "vip": true, "tags": []any{"a", "b"},
				"address": map[string]any{"city": "Lyon"}}},
		Owner: baton.OwnerHuman, Epoch: 3, HandoffID: "h1", UpdatedAt: t0}
}

func testConversation(t *testing.T, s baton.Store) {
	seed(t, s)
	c := conversation("c1", "w1", "ext-1")
	c2 := baton.Conversation{ID: "c2", WorkspaceID: "w2", BotID: "b1", ExternalID: "ext-1", Owner: baton.OwnerBot}
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutConversation(c); err != nil {
			return err
		}
		return tx.PutConversation(c2)
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Conversation(baton.ConversationKey{WorkspaceID: "w1", BotID: "b1", ExternalID: "ext-1"})
		if err != nil {
			return err
		}
		same(t, "conversation", got, c)
		got, err = tx.ConversationByID("c2")
		same(t, "conversation by id", got, c2)
		return err
	})
	// Replacing a conversation keeps its message numbering.
	do(t, s, func(tx baton.Tx) error {
		return tx.AddMessage(&baton.Message{ID: "m1", ConversationID: "c1", Author: baton.ByCustomer})
	})
	c.Owner, c.Epoch, c.HandoffID, c.UpdatedAt = baton.OwnerBot, 4, "", at(time.Minute)
	c.Customer.Metadata = nil
	do(t, s, func(tx baton.Tx) error { return tx.PutConversation(c) })
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.ConversationByID("c1")
		if err != nil {
			return err
		}
		same(t, "replaced conversation", got, c)
		m := &baton.Message{ID: "m2", ConversationID: "c1", Author: baton.ByBot}
		if err := tx.AddMessage(m); err != nil {
			return err
		}
		if m.Seq != 2 {
			t.Errorf("seq after replace = %d, want 2", m.Seq)
		}
		return nil
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Conversation(baton.ConversationKey{WorkspaceID: "w2", BotID: "b1", ExternalID: "ext-2"})
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Conversation(baton.ConversationKey{WorkspaceID: "w1", BotID: "b2", ExternalID: "ext-1"})
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.ConversationByID("nope")
		return err
	})
	// One conversation per (workspace, bot, external id).
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutConversation(baton.Conversation{ID: "c9", WorkspaceID: "w1", BotID: "b1", ExternalID: "ext-1"})
	})
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutConversation(conversation("c1", "w2", "ext-9"))
	})
}

// handoff is a handoff with every field set.
func handoff(id, ws, desk, ref string, created time.Time) baton.Handoff {
	return baton.Handoff{ID: id, WorkspaceID: ws, ConversationID: "c1", ExternalID: "ext-1", BotID: "b1",
		DeskID: desk, State: baton.Active, Epoch: 2, DeskRef: ref, DeskData: "session-of-" + ref, Agent: baton.Agent{ID: "ag1", Name: "Ann"},
		Routing: "billing", Decision: &baton.Decision{GroupID: "19", GroupName: "Billing", Score: 0.5, Reason: "words: refund", Trigger: "bot"}, Question: "Where is my refund?", NeedsEmail: true, Reply: "later",
		Summary: json.RawMessage(`{"messages":3,"agent":"Ann"}`), CreatedAt: created,
		QueuedAt: created.Add(time.Second), ActiveAt: created.Add(2 * time.Second),
		WaitingSince: created.Add(time.Second), WaitNotifiedAt: created.Add(3 * time.Second),
		LastCustomerAt: created.Add(4 * time.Second), LastAgentAt: created.Add(5 * time.Second),
		LastMessageAt: created.Add(5 * time.Second), TakenAt: created.Add(2 * time.Second), DeskPosition: 3,
		CustomerTypingAt: created.Add(6 * time.Second), AgentTypingAt: created.Add(7 * time.Second), AgentReadAt: created.Add(8 * time.Second), PausedUntil: created.Add(9 * time.Second)}
}

func testHandoff(t *testing.T, s baton.Store) {
	seed(t, s)
	h1 := handoff("h1", "w1", "d1", "chat-1", t0)
	h1.State, h1.EndReason, h1.EndedAt = baton.Ended, baton.AgentClosed, at(time.Hour)
	h2 := handoff("h2", "w1", "d1", "chat-2", at(time.Minute))
	h3 := handoff("h3", "w1", "d1", "chat-3", at(2*time.Minute))
	h3.State, h3.Summary, h3.Agent, h3.NeedsEmail = baton.Queued, nil, baton.Agent{}, false
	h3.ActiveAt, h3.WaitNotifiedAt, h3.LastAgentAt, h3.TakenAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	h4 := baton.Handoff{ID: "h4", WorkspaceID: "w2", ConversationID: "c2", DeskID: "d1", State: baton.Requested}
	do(t, s, func(tx baton.Tx) error {
		for _, h := range []baton.Handoff{h1, h2, h3, h4} {
			if err := tx.PutHandoff(h); err != nil {
				return err
			}
		}
		return nil
	})
	do(t, s, func(tx baton.Tx) error {
		for _, h := range []baton.Handoff{h1, h2, h3, h4} {
			got, err := tx.Handoff(h.WorkspaceID, h.ID)
			if err != nil {
				return err
			}
			same(t, "handoff "+h.ID, got, h)
		}
		got, err := tx.HandoffByRef("d1", "chat-2")
		if err != nil {
			return err
		}
		same(t, "handoff by ref", got, h2)
		list, err := tx.Handoffs("c1")
		if err != nil {
			return err
		}
		same(t, "handoffs newest first", ids(list, func(h baton.Handoff) string { return h.ID }), []string{"h3", "h2", "h1"})
		list, err = tx.HandoffsInState("d1", baton.Active, 0)
		if err != nil {
			return err
		}
		same(t, "active handoffs", list, []baton.Handoff{h2})
		counts, err := tx.CountHandoffs()
		same(t, "counts", counts, map[[2]string]int64{
			{"ended", "agent_closed"}: 1, {"active", ""}: 1, {"queued", ""}: 1, {"requested", ""}: 1})
		return err
	})
	// Replace by ID, and list oldest first with a limit.
	h1.State, h1.EndReason, h1.EndedAt = baton.Queued, "", time.Time{}
	do(t, s, func(tx baton.Tx) error { return tx.PutHandoff(h1) })
	do(t, s, func(tx baton.Tx) error {
		list, err := tx.HandoffsInState("d1", baton.Queued, 0)
		same(t, "queued handoffs", ids(list, func(h baton.Handoff) string { return h.ID }), []string{"h1", "h3"})
		if err != nil {
			return err
		}
		list, err = tx.HandoffsInState("d1", baton.Queued, 1)
		same(t, "queued handoffs, limit 1", list, []baton.Handoff{h1})
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Handoff("w2", "h1")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.HandoffByRef("d2", "chat-1")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.HandoffByRef("d1", "")
		return err
	})
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.PutHandoff(baton.Handoff{ID: "h1", WorkspaceID: "w2"})
	})
}

func testMessage(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error {
		if err := tx.PutConversation(conversation("c1", "w1", "ext-1")); err != nil {
			return err
		}
		return tx.PutConversation(conversation("c2", "w1", "ext-2"))
	})
	var want []baton.Message
	do(t, s, func(tx baton.Tx) error {
		for i := range 5 {
			m := baton.Message{ID: "m" + string(rune('a'+i)), ConversationID: "c1", HandoffID: "h1",
				Author: baton.ByAgent, AgentName: "Ann", Text: "hello " + string(rune('a'+i)), Epoch: 2,
				CreatedAt: at(time.Duration(i) * time.Second)}
			if i == 1 {
				m.Attachments = []baton.Attachment{{URL: "https://x.example/a.png", Name: "a.png", Type: "image/png", Size: 1234}}
			}
			if i == 2 {
				m.Late, m.HandoffID, m.AgentName, m.CreatedAt = true, "", "", time.Time{}
			}
			if err := tx.AddMessage(&m); err != nil {
				return err
			}
			if m.Seq != int64(i+1) {
				t.Errorf("message %d seq = %d", i, m.Seq)
			}
			want = append(want, m)
		}
		// Another conversation counts from 1.
		m := baton.Message{ID: "other", ConversationID: "c2", Author: baton.ByCustomer, Text: "hi"}
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
		if m.Seq != 1 {
			t.Errorf("other conversation seq = %d", m.Seq)
		}
		return nil
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Messages("c1", 0, 0)
		if err != nil {
			return err
		}
		same(t, "messages", got, want)
		got, err = tx.Messages("c1", 2, 2)
		if err != nil {
			return err
		}
		same(t, "messages after 2, limit 2", got, want[2:4])
		got, err = tx.LastMessages("c1", 3)
		if err != nil {
			return err
		}
		same(t, "last 3", got, want[2:])
		got, err = tx.LastMessages("c1", 10)
		if err != nil {
			return err
		}
		same(t, "last 10", got, want)
		got, err = tx.HandoffMessages("h1")
		if err != nil {
			return err
		}
		same(t, "handoff h1", got, []baton.Message{want[0], want[1], want[3], want[4]})
		one, err := tx.Message("mb")
		if err != nil {
			return err
		}
		same(t, "message mb", one, want[1])
		if _, err := tx.Message("nope"); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Errorf("missing message: %v", err)
		}
		got, err = tx.Messages("nope", 0, 0)
		if len(got) != 0 {
			t.Errorf("messages of a missing conversation: %v", got)
		}
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		return tx.AddMessage(&baton.Message{ID: "x", ConversationID: "nope"})
	})
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.AddMessage(&baton.Message{ID: "ma", ConversationID: "c1"})
	})
	// The failed adds used no numbers.
	do(t, s, func(tx baton.Tx) error {
		m := &baton.Message{ID: "m6", ConversationID: "c1"}
		if err := tx.AddMessage(m); err != nil {
			return err
		}
		if m.Seq != 6 {
			t.Errorf("seq after failed adds = %d, want 6", m.Seq)
		}
		return nil
	})
}

func testEvent(t *testing.T, s baton.Store) {
	seed(t, s)
	var want []baton.Event
	do(t, s, func(tx baton.Tx) error {
		for i := range 6 {
			e := baton.Event{ID: "e" + string(rune('a'+i)), WorkspaceID: "w1", BotID: "b1", Type: baton.EventAgentMessage,
				HandoffID: "h1", ExternalID: "ext-1", Epoch: 2, Data: json.RawMessage(`{"text":"hi","n":1}`),
				CreatedAt: at(time.Duration(i) * time.Second)}
			if i%2 == 1 {
				e.BotID, e.Data = "b2", nil
			}
			if err := tx.AddEvent(&e); err != nil {
				return err
			}
			if e.Seq != int64(i+1) {
				t.Errorf("event %d seq = %d", i, e.Seq)
			}
			if e.BotID == "b1" {
				want = append(want, e)
			}
		}
		e := baton.Event{ID: "other", WorkspaceID: "w2", BotID: "b1", Type: baton.EventQueued}
		if err := tx.AddEvent(&e); err != nil {
			return err
		}
		if e.Seq != 1 {
			t.Errorf("other workspace seq = %d", e.Seq)
		}
		return nil
	})
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Events(baton.EventPage{WorkspaceID: "w1", BotID: "b1", After: 0, Limit: 0})
		if err != nil {
			return err
		}
		same(t, "events", got, want)
		got, err = tx.Events(baton.EventPage{WorkspaceID: "w1", BotID: "b1", After: 1, Limit: 1})
		if err != nil {
			return err
		}
		same(t, "events after 1, limit 1", got, want[1:2])
		e, err := tx.Event("ec")
		same(t, "event", e, want[1])
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Event("nope")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		return tx.AddEvent(&baton.Event{ID: "x", WorkspaceID: "nope"})
	})
	wantCode(t, s, baton.ECONFLICT, func(tx baton.Tx) error {
		return tx.AddEvent(&baton.Event{ID: "ea", WorkspaceID: "w1"})
	})
}

func testIdempotency(t *testing.T, s baton.Store) {
	seed(t, s)
	r := baton.Idempotency{WorkspaceID: "w1", Key: "k1", Request: "sha256:abc", Result: "h1", Status: 201, CreatedAt: t0}
	do(t, s, func(tx baton.Tx) error { return tx.PutIdempotency(r) })
	r.Result, r.Status = "h2", 200
	do(t, s, func(tx baton.Tx) error { return tx.PutIdempotency(r) })
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.Idempotency("w1", "k1")
		same(t, "idempotency", got, r)
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Idempotency("w2", "k1")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Idempotency("w1", "k2")
		return err
	})
}

// testIdempotencyConcurrent claims one key from many transactions at once,
// each of which stays open a moment after its claim: exactly one may own the
// key, and every other must see the owner's committed record, never a
// missing or half-written one.
func testIdempotencyConcurrent(t *testing.T, s baton.Store) {
	seed(t, s)
	for round := range 20 {
		key := fmt.Sprint("race-", round)
		const n = 8
		var mu sync.Mutex
		owners, refs := 0, map[string]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				do(t, s, func(tx baton.Tx) error {
					mine := fmt.Sprint("ref-", i)
					got, ok, err := tx.ClaimIdempotency(baton.Idempotency{WorkspaceID: "w1", Key: key, Request: "same", CreatedAt: t0})
					if err != nil {
						return err
					}
					if ok {
						// The owner's work: written after the claim, in its transaction.
						if err := tx.PutIdempotency(baton.Idempotency{WorkspaceID: "w1", Key: key, Request: "same", Result: mine, Status: 201, CreatedAt: t0}); err != nil {
							return err
						}
					}
					mu.Lock()
					defer mu.Unlock()
					if ok {
						owners++
						refs[mine]++
					} else {
						refs[got.Result]++
					}
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		if owners != 1 || len(refs) != 1 {
			t.Fatalf("round %d: %d owners, refs seen %v; want one owner whose ref all see", round, owners, refs)
		}
		for ref := range refs {
			if ref == "" {
				t.Fatalf("round %d: a claim saw the key before its owner committed", round)
			}
		}
	}
}

// testUnstorable writes text PostgreSQL cannot keep (NUL, invalid UTF-8):
// both stores refuse it as invalid and keep nothing, and a look-up by it
// finds nothing, rather than failing as an internal error.
func testUnstorable(t *testing.T, s baton.Store) {
	seed(t, s)
	for _, bad := range []string{"nul\x00inside", "bad utf-8 \xff\xfe"} {
		wantCode(t, s, baton.EINVALID, func(tx baton.Tx) error {
			c := conversation("c-bad", "w1", bad)
			return tx.PutConversation(c)
		})
		wantCode(t, s, baton.EINVALID, func(tx baton.Tx) error {
			_, err := tx.SeenDeskEvent("d1", bad, t0)
			return err
		})
		wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
			_, err := tx.Handoff("w1", bad)
			return err
		})
		wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
			_, err := tx.HandoffByRef("d1", bad)
			return err
		})
		do(t, s, func(tx baton.Tx) error {
			hs, err := tx.Handoffs(bad)
			if len(hs) != 0 {
				t.Errorf("Handoffs(%q) = %v", bad, hs)
			}
			return err
		})
	}
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.ConversationByID("c-bad")
		return err
	})
}

func testSeenDeskEvent(t *testing.T, s baton.Store) {
	for i, c := range []struct {
		desk, id string
		seen     bool
	}{
		{"d1", "ev1", false},
		{"d1", "ev1", true},
		{"d1", "ev2", false},
		{"d2", "ev1", false},
		{"d2", "ev1", true},
	} {
		do(t, s, func(tx baton.Tx) error {
			seen, err := tx.SeenDeskEvent(c.desk, c.id, t0)
			if seen != c.seen {
				t.Errorf("%d: SeenDeskEvent(%s, %s) = %v, want %v", i, c.desk, c.id, seen, c.seen)
			}
			return err
		})
	}
	// A rolled back sighting does not count.
	if err := s.Tx(t.Context(), func(tx baton.Tx) error {
		if _, err := tx.SeenDeskEvent("d1", "ev3", t0); err != nil {
			return err
		}
		return errNope
	}); err != errNope {
		t.Fatal(err)
	}
	do(t, s, func(tx baton.Tx) error {
		seen, err := tx.SeenDeskEvent("d1", "ev3", t0)
		if seen {
			t.Error("rolled back event counted as seen")
		}
		return err
	})
}
