package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestInboundDeskLimit: a desk's inbound route reads bodies up to the limit
// its desk sets (a LiveChat desk: 4 MiB, for an incoming_chat with a long
// thread), not the API's 1 MiB; over the desk's limit it is 413.
func TestInboundDeskLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const org, secret = "390e44e6-f1e6-4368-a6dd-74a14508c2e1", "lc-secret-lc-secret-lc-secret"
	err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		return tx.PutDesk(baton.DeskConfig{ID: "desk_lc", WorkspaceID: ws1, Name: "LiveChat", Kind: baton.KindLiveChat, Status: baton.Available,
			Settings: map[string]string{"organization_id": org, "client_id": "app", "account_id": "acc", "token": "pat",
				"secret_key": secret, "redirect_uri": "https://example.com/cb", "group_id": "0"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	body := func(size int) string {
		head := `{"webhook_id":"w","secret_key":"` + secret + `","action":"routing_status_set","organization_id":"` + org +
			`","payload":{"agent_id":"a@example.com","status":"accepting chats","pad":"`
		return head + strings.Repeat("x", size-len(head)-3) + `"}}`
	}
	r := f.do(req{method: "POST", path: "/v1/desks/desk_lc/inbound/webhook", body: body(2 << 20)})
	if a := must[ack](t, r, http.StatusOK); a != (ack{OK: true, Ignored: "no_events"}) {
		t.Errorf("a 2 MiB webhook was answered %+v", a)
	}
	r = f.do(req{method: "POST", path: "/v1/desks/desk_lc/inbound/webhook", body: body(5 << 20)})
	wantProblem(t, r, http.StatusRequestEntityTooLarge, baton.ETOOLARGE, "")
}
