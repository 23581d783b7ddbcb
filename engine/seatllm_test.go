package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/llm"
	"github.com/batonhq/baton/llm/llmtest"
	"github.com/batonhq/baton/outbox"
)

// TestSeatLLMRouter: a seat desk whose settings name an LLM endpoint
// transfers to the group the model chooses, and the decision (router and
// reason) is stored on the handoff and sent with handoff.queued; when the
// endpoint fails, the words decide and the decision says why.
func TestSeatLLMRouter(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t, "sk-test", func(r llm.Request) llmtest.Answer {
		if strings.Contains(r.Messages[len(r.Messages)-1].Content, "again") {
			return llmtest.Answer{Status: 500, Error: llm.APIError{Message: "The server had an error", Type: "server_error"}}
		}
		return llmtest.Answer{Content: `{"group_id":"3","reason":"a double charge on a returned purchase is for Returns"}`}
	})
	eachStore(t, func(t *testing.T, st baton.Store) {
		ctx := context.Background()
		desk := &seatDesk{transferred: map[string]string{}, groups: []baton.Group{
			{ID: "1", Name: "Sales", Available: true}, {ID: "2", Name: "Billing", Available: true}, {ID: "3", Name: "Returns", Available: true}}}
		eng := newNode(st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, outbox.Config{})
		pol := &baton.Policy{Transfer: &baton.TransferRules{Enabled: true, OnHumanRequest: true}}
		dc := baton.DeskConfig{ID: "lc-" + t.Name()[len("TestSeatLLMRouter/"):], WorkspaceID: "ws", Kind: baton.KindLiveChat, Policy: pol,
			Settings: map[string]string{"llm_url": fake.URL + "/v1", "llm_key": "sk-test", "llm_model": "gpt-test"}}
		err := st.Tx(ctx, func(tx baton.Tx) error {
			if err := tx.CreateWorkspace(baton.Workspace{ID: "ws"}); err != nil {
				return err
			}
			if err := tx.PutDesk(dc); err != nil {
				return err
			}
			return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "ws", DeskID: dc.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		transfer := func(chat, text string) baton.Handoff {
			t.Helper()
			err := eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: chat, Ref: chat, Type: baton.DeskCustomerMessage, Text: text,
				Customer: baton.Customer{ID: "cust-" + chat, Name: "Kim"}})
			if err != nil {
				t.Fatal(err)
			}
			for range 50 {
				if n, err := eng.RunDue(ctx); err != nil {
					t.Fatal(err)
				} else if n == 0 {
					break
				}
			}
			_, hs, err := eng.Conversation(ctx, "ws", "bot", chat)
			if err != nil || len(hs) != 1 || hs[0].Decision == nil {
				t.Fatalf("chat %s: %d handoffs, %v", chat, len(hs), err)
			}
			return hs[0]
		}
		h := transfer("A", "I was charged twice on the billing of a returned purchase, can I talk to a person?")
		d := h.Decision
		if desk.transferred["A"] != "3" || d.Router != "llm" || d.GroupName != "Returns" || d.Trigger != "customer" ||
			d.Reason != "a double charge on a returned purchase is for Returns" || d.Fallback != "" {
			t.Fatalf("transferred %v, decision %+v", desk.transferred, d)
		}
		evs, err := eng.Events(ctx, "ws", "bot", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		queued := ""
		for _, e := range evs {
			if e.Type == baton.EventQueued {
				b, _ := json.Marshal(e.Data)
				queued = string(b)
			}
		}
		if !strings.Contains(queued, `"router":"llm"`) {
			t.Fatalf("handoff.queued: %s", queued)
		}

		h = transfer("B", "billing problem again, a person please")
		d = h.Decision
		if desk.transferred["B"] != "2" || d.Router != "words" || !strings.Contains(d.Fallback, "HTTP 500") {
			t.Fatalf("transferred %v, decision %+v", desk.transferred, d)
		}
	})
}
