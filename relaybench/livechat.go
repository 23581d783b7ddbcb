package relaybench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/livechatsim"
)

// LiveChat runs the same traffic into the LiveChat simulator: the baseline
// relays each request straight to the Customer Chat API's send_event with a
// customer token; Baton relays through its LiveChat desk (customer identity,
// durable outbox, delivery as the customer).
func LiveChat(ctx context.Context, o Options) (Report, error) {
	return compare(ctx, o, bareLiveChat, batonLiveChat)
}

// liveChatTally reads arrivals from the simulator's chats: a customer
// message whose text is the bench's message id.
func liveChatTally(sim *livechatsim.Sim) *tally {
	return &tally{scan: func(add func(string, time.Time)) {
		for _, c := range sim.Chats() {
			for _, th := range c.Threads {
				for _, e := range th.Events {
					if e.Type == "message" {
						add(e.Text, e.CreatedAt)
					}
				}
			}
		}
	}}
}

// newSim starts a simulator with one group and one agent who accepts chats.
func newSim() (*livechatsim.Sim, *httptest.Server, livechatsim.App, livechatsim.Agent, error) {
	sim := livechatsim.New(livechatsim.Config{})
	sim.AddGroup(1, "Support")
	app := sim.AddApp(livechatsim.App{RedirectURI: "http://localhost"})
	agent, err := sim.AddAgent(livechatsim.Agent{ID: "agent@example.com", Name: "Agent", Role: "owner", MaxChats: 1000,
		Groups: map[int]string{0: "normal", 1: "normal"}})
	srv := httptest.NewServer(sim.Handler())
	return sim, srv, app, agent, err
}

// bareLiveChat relays each request to send_event as the customer, storing nothing.
func bareLiveChat(ctx context.Context, o Options) (Result, error) {
	sim, srv, _, _, err := newSim()
	if err != nil {
		return Result{}, err
	}
	defer sim.Close()
	defer srv.Close()
	chats, tokens := make([]string, o.Conversations), make([]string, o.Conversations)
	for c := range o.Conversations {
		if chats[c], err = sim.CustomerStartChat(1, "hello"); err != nil {
			return Result{}, err
		}
		ch, _ := sim.Chat(chats[c])
		for _, u := range ch.Users {
			if u.Type == "customer" {
				tokens[c], err = sim.CustomerToken(u.ID)
			}
		}
		if err != nil || tokens[c] == "" {
			return Result{}, fmt.Errorf("no customer token for chat %s: %v", chats[c], err)
		}
	}
	out := client(o.Clients)
	url := srv.URL + "/v3.6/customer/action/send_event?organization_id=" + sim.OrganizationID()
	relay := httptest.NewServer(forward(out, func(conv int, text string) (string, string, any) {
		return url, "Bearer " + tokens[conv], map[string]any{"chat_id": chats[conv], "event": map[string]any{"type": "message", "text": text, "visibility": "all"}}
	}))
	defer relay.Close()
	in := client(o.Clients)
	return drive(ctx, "bare", o, liveChatTally(sim), func(conv int, id string) error {
		return post(in, fmt.Sprintf("%s/relay/%d", relay.URL, conv), "", map[string]string{"text": id}, 201, nil)
	})
}

// batonLiveChat runs the traffic through Baton's LiveChat relay desk.
func batonLiveChat(ctx context.Context, o Options) (Result, error) {
	sim, srv, lcApp, agent, err := newSim()
	if err != nil {
		return Result{}, err
	}
	defer sim.Close()
	defer srv.Close()
	return throughStack(ctx, o, liveChatTally(sim), baton.DeskConfig{Kind: baton.KindLiveChat,
		Settings: map[string]string{"organization_id": sim.OrganizationID(), "client_id": lcApp.ClientID, "redirect_uri": lcApp.RedirectURI,
			"account_id": agent.AccountID, "token": agent.PAT, "secret_key": "bench-secret-key-0123456789", "group_id": "1",
			"api_url": srv.URL, "accounts_url": srv.URL}}, client(64))
}
