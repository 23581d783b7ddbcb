package livechat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	baton "github.com/batonhq/baton"
)

// envelope is a webhook of the world's desk carrying payload.
func envelope(w *world, action, payload, additional string) []byte {
	return []byte(`{"webhook_id":"wh1","secret_key":"` + secretKey + `","action":"` + action + `","organization_id":"` +
		w.sim.OrganizationID() + `","payload":` + payload + `,"additional_data":` + additional + `}`)
}

// TestInboundUnattributed: a seat's webhook without chat presence whose
// get_chat fails for good (a chat the API does not know) is acknowledged
// and ignored (*baton.Ignored, unattributed), not refused: delivering it
// again would not change the answer.
func TestInboundUnattributed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ModeSeat)
	body := envelope(w, ActionIncomingEvent,
		`{"chat_id":"NOSUCHCHAT","thread_id":"T","event":{"id":"E1","type":"message","text":"hi","author_id":"cust-1","visibility":"all"}}`, `{}`)
	evs, err := w.desk.Inbound(context.Background(), "livechat", http.Header{}, body)
	var ig *baton.Ignored
	if !errors.As(err, &ig) || ig.Reason != baton.IgnoredUnattributed || evs != nil {
		t.Fatalf("Inbound = %v, %v; want no events and ignored %q", evs, err, baton.IgnoredUnattributed)
	}
	if c := baton.ErrorCode(err); c == baton.EUNAVAILABLE {
		t.Errorf("an unattributable webhook is %s: LiveChat would deliver it again for nothing", c)
	}
}

// TestTransferBackAndForth: a chat transferred to Maria, then Lee, then
// Maria again in the same thread gives three transfers with three ids, the
// last one to Maria: a key made of the transfer's content would make the
// engine drop the third as a duplicate of the first.
func TestTransferBackAndForth(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ModeRelay)
	seen := map[string]bool{}
	var last baton.DeskEvent
	for _, to := range []string{maria, "lee@example.com", maria} {
		body := envelope(w, ActionChatTransferred,
			`{"chat_id":"C1","thread_id":"T1","reason":"manual","transferred_to":{"agent_ids":["`+to+`"],"group_ids":[1]}}`, `{}`)
		evs, err := w.desk.Inbound(context.Background(), "livechat", http.Header{}, body)
		if err != nil || len(evs) != 1 || evs[0].Type != baton.DeskTransferred {
			t.Fatalf("transfer to %s: %v, %v", to, evs, err)
		}
		if seen[evs[0].ID] {
			t.Fatalf("transfer to %s has the id %s of an earlier one", to, evs[0].ID)
		}
		seen[evs[0].ID], last = true, evs[0]
	}
	if last.Agent.ID != maria {
		t.Errorf("the last transfer is to %+v, want %s", last.Agent, maria)
	}
}

// TestInboundNeedsOrganization: an envelope without organization_id (API
// v3.6 always sends it) is refused, like one of another organization.
func TestInboundNeedsOrganization(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ModeRelay)
	var env map[string]any
	if err := json.Unmarshal(webhookFixture(t, "incoming_event_agent.json", secretKey, w.sim.OrganizationID()), &env); err != nil {
		t.Fatal(err)
	}
	delete(env, "organization_id")
	body, _ := json.Marshal(env)
	evs, err := w.desk.Inbound(context.Background(), "livechat", http.Header{}, body)
	if baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != "organization_id" || evs != nil {
		t.Errorf("Inbound = %v, %v; want invalid organization_id", evs, err)
	}
}

// TestRelayOpeningRef: what the relay saves while it opens tells the
// engine which chat the open has reached: nothing saved, no chat yet; a
// customer without a chat, any chat may be its; then the chat it started.
// The customer is saved before the chat is started even when the first
// save failed.
func TestRelayOpeningRef(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ModeRelay)
	relay := w.desk.(*Relay)
	if ref, known := relay.OpeningRef(""); ref != "" || !known {
		t.Errorf(`OpeningRef("") = %q, %v; want "", true`, ref, known)
	}
	r := openRequest("ho_ref", "")
	var saves []string
	fail := true
	r.Save = func(p string) error {
		if fail {
			fail = false
			return errors.New("store down")
		}
		saves = append(saves, p)
		return nil
	}
	if _, err := relay.Open(context.Background(), r); err == nil {
		t.Fatal("Open succeeded though its first save failed")
	}
	h, err := relay.Open(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(saves) != 2 {
		t.Fatalf("saved %q, want the customer, then the chat", saves)
	}
	if ref, known := relay.OpeningRef(saves[0]); ref != "" || known {
		t.Errorf("after the customer: OpeningRef = %q, %v; want any chat", ref, known)
	}
	if ref, known := relay.OpeningRef(saves[1]); ref != h.Ref || !known {
		t.Errorf("after the chat: OpeningRef = %q, %v; want %q", ref, known, h.Ref)
	}
	var lim baton.InboundLimiter = relay
	if lim.InboundLimit() != MaxInboundBody {
		t.Errorf("InboundLimit = %d, want %d", lim.InboundLimit(), MaxInboundBody)
	}
}
