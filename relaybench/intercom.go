package relaybench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intercomsim"
)

// Intercom runs the same traffic into the Intercom simulator: the baseline
// relays each request straight to POST /conversations/{id}/reply as the
// conversation's contact; Baton relays through its Intercom desk (contact
// and conversation made at the open, durable outbox, delivery as a user
// reply). The workspace's rate limit is set far above the load (the real
// 10,000 calls a minute would measure the limit, not the relay), and no
// webhook is subscribed, so the echo of each reply is not part of the run.
func Intercom(ctx context.Context, o Options) (Report, error) {
	return compare(ctx, o, bareIntercom, batonIntercom)
}

// icWorkspace is a simulated workspace the load cannot throttle, with the
// desk that counts the user replies in its conversations.
func icWorkspace() (*intercomsim.Sim, *httptest.Server, string, *tally) {
	sim := intercomsim.New(intercomsim.Config{Limit: unthrottled, Window: time.Second})
	_, tok := sim.AddAdmin("Bench", "bench@acme.test")
	d := &tally{scan: func(add func(string, time.Time)) {
		for _, c := range sim.Conversations() {
			for _, p := range c.Parts {
				if p.PartType == "comment" && p.Author.Type == "user" {
					add(p.Body, p.Stored)
				}
			}
		}
	}}
	return sim, httptest.NewServer(sim.Handler()), tok, d
}

// bareIntercom relays each request to the conversation as its contact,
// storing nothing.
func bareIntercom(ctx context.Context, o Options) (Result, error) {
	sim, srv, tok, d := icWorkspace()
	defer sim.Close()
	defer srv.Close()
	auth := "Bearer " + tok
	out := client(o.Clients)
	convs, contacts := make([]string, o.Conversations), make([]string, o.Conversations)
	for c := range o.Conversations {
		var ct struct {
			ID string `json:"id"`
		}
		var msg struct {
			ConversationID string `json:"conversation_id"`
		}
		if err := post(out, srv.URL+"/contacts", "Bearer "+tok, map[string]string{"role": "user", "external_id": fmt.Sprintf("c%d", c)}, 200, &ct); err != nil {
			return Result{}, err
		}
		if err := post(out, srv.URL+"/conversations", "Bearer "+tok, map[string]any{"from": map[string]string{"type": "user", "id": ct.ID}, "body": "hello"}, 200, &msg); err != nil {
			return Result{}, err
		}
		convs[c], contacts[c] = msg.ConversationID, ct.ID
	}
	relay := httptest.NewServer(forward(out, func(conv int, text string) (string, string, any) {
		return srv.URL + "/conversations/" + convs[conv] + "/reply", auth, map[string]string{"message_type": "comment", "type": "user",
			"intercom_user_id": contacts[conv], "body": text}
	}))
	defer relay.Close()
	in := client(o.Clients)
	return drive(ctx, "bare", o, d, func(conv int, id string) error {
		return post(in, fmt.Sprintf("%s/relay/%d", relay.URL, conv), "", map[string]string{"text": id}, 201, nil)
	})
}

// batonIntercom runs the traffic through Baton's Intercom desk.
func batonIntercom(ctx context.Context, o Options) (Result, error) {
	sim, srv, tok, d := icWorkspace()
	defer sim.Close()
	defer srv.Close()
	return throughStack(ctx, o, d, baton.DeskConfig{Kind: baton.KindIntercom,
		Settings: map[string]string{"access_token": tok, "client_secret": "bench-client-secret", "base_url": srv.URL}}, client(64))
}
