package relaybench

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/stdwebhook"
)

// deskSecret is the webhook desk's shared secret: the company's service
// sends it as a bearer token with every reply it posts to Baton.
const deskSecret = "bench-desk-secret-0123456789"

// inboundReply is what the company's service posts for an agent's reply
// (the webhook protocol's inbound message).
type inboundReply struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Body           string `json:"body"`
	Timestamp      int64  `json:"timestamp"`
	Agent          struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"agent"`
}

func reply(conv, id string) inboundReply {
	r := inboundReply{ConversationID: conv, MessageID: id, Body: id, Timestamp: time.Now().UnixMilli()}
	r.Agent.ID, r.Agent.Name = "ana", "Ana"
	return r
}

// Inbound measures agents' replies through the webhook desk: the company's
// service posts each reply to Baton's inbound endpoint, which commits it
// before its 200 and delivers it from the outbox to the bot as a signed
// handoff.agent_message, in order per conversation. The baseline takes the
// same request, checks the same bearer token, and signs and posts the
// same event to the same receiver before it answers, storing nothing.
func Inbound(ctx context.Context, o Options) (Report, error) {
	return compare(ctx, o, bareInbound, batonInbound)
}

// bareInbound answers each reply after signing and posting its event.
func bareInbound(ctx context.Context, o Options) (Result, error) {
	hook, srv, signer := startHook()
	defer srv.Close()
	out := client(o.Clients)
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+deskSecret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var in inboundReply
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := "evt_" + in.ConversationID + "_" + in.MessageID
		body, _ := json.Marshal(map[string]any{"id": id, "type": baton.EventAgentMessage, "timestamp": time.Now().UTC(),
			"data": map[string]any{"handoff_id": in.ConversationID, "text": in.Body, "agent": in.Agent}})
		res := stdwebhook.Post(r.Context(), out, srv.URL, signer.Headers(id, time.Now(), body), body)
		if !res.OK() {
			http.Error(w, fmt.Sprint("bot answered ", res.Status), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer relay.Close()
	in := client(o.Clients)
	return drive(ctx, "bare", o, hook, func(conv int, id string) error {
		return postDesk(in, relay.URL, reply(fmt.Sprint("h", conv), id))
	})
}

// postDesk posts one inbound call as the company's service does.
func postDesk(c *http.Client, url string, body any) error {
	return post(c, url, "Bearer "+deskSecret, body, http.StatusOK, nil)
}

// batonInbound opens o.Conversations handoffs in a webhook desk, has an
// agent join each, and then posts the replies to the instances' inbound
// endpoints in turn.
func batonInbound(ctx context.Context, o Options) (Result, error) {
	hook := newBotHook()
	bot := httptest.NewServer(hook)
	defer bot.Close()
	company := httptest.NewServer(&sink{at: map[string]time.Time{}})
	defer company.Close()
	sts, closeStores, err := freshStores(ctx, o, o.Instances)
	if err != nil {
		return Result{}, err
	}
	defer closeStores()
	dc := baton.DeskConfig{ID: "desk", WorkspaceID: "bench", Name: "Desk", Kind: baton.KindWebhook, Status: baton.Available,
		Settings: map[string]string{"url": company.URL, "secret": deskSecret},
		Policy:   &baton.Policy{WaitTimeout: baton.Duration(time.Hour), SessionTimeout: baton.Duration(time.Hour), IdleExpiry: baton.Duration(time.Hour)}}
	err = sts[0].Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "bench", Name: "Bench"}); err != nil {
			return err
		}
		if err := tx.PutDesk(dc); err != nil {
			return err
		}
		return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "bench", Name: "Bench bot", DeskID: dc.ID, WebhookURL: bot.URL, WebhookSecret: hook.secret})
	})
	if err != nil {
		return Result{}, err
	}
	out := client(64)
	apps := make([]*app.App, len(sts))
	urls := make([]string, len(sts))
	var running sync.WaitGroup
	wctx, stop := context.WithCancel(ctx)
	defer func() { stop(); running.Wait() }()
	for i, st := range sts {
		apps[i] = app.New(app.Params{Store: st, Desks: registry.New(registry.Params{Client: out}),
			Worker: outbox.Config{Workers: 64, Client: out}})
		running.Go(func() { apps[i].Run(wctx) })
		api := httptest.NewServer(apps[i].Handler)
		defer api.Close()
		urls[i] = api.URL + "/v1/desks/desk/inbound/" // the endpoints message and join are under it
	}
	in := client(o.Clients)
	refs, err := openJoined(ctx, apps, urls, in, hook, o.Conversations)
	if err != nil {
		return Result{}, err
	}
	return drive(ctx, "baton", o, hook, func(conv int, id string) error {
		return postDesk(in, urls[conv%len(urls)]+"message", reply(refs[conv], id))
	})
}

// openJoined opens n handoffs (spread over the instances, whose inbound
// endpoints urls are), waits until
// each is queued in the desk, has the agent join it through the inbound
// endpoint, and waits until the bot has been told of every join: the
// replies that follow find their conversations taken and their lanes
// empty.
func openJoined(ctx context.Context, apps []*app.App, urls []string, in *http.Client, hook *botHook, n int) ([]string, error) {
	refs := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	// About 150 opens a second on the 2-core machine: a bound that grows
	// with n leaves room for 100,000.
	deadline := time.Now().Add(10*time.Minute + time.Duration(n)*20*time.Millisecond)
	const openers = 16
	for g := range openers {
		wg.Go(func() {
			for c := g; c < n; c += openers {
				eng := apps[c%len(apps)].Engine
				h, _, err := eng.CreateHandoff(ctx, "bench", baton.CreateRequest{ExternalID: fmt.Sprint("conv-", c),
					Customer: baton.Customer{ID: fmt.Sprint("cust-", c)}, Question: "help"})
				if err != nil {
					fail(err)
					return
				}
				for h.State != baton.Queued {
					if !h.Open() || time.Now().After(deadline) {
						fail(fmt.Errorf("handoff %s did not open in the desk: %s %s", h.ID, h.State, h.EndReason))
						return
					}
					time.Sleep(2 * time.Millisecond)
					if h, err = eng.Handoff(ctx, "bench", h.ID); err != nil {
						fail(err)
						return
					}
				}
				refs[c] = h.ID // the webhook desk's conversation_id is the handoff id
				join := map[string]any{"conversation_id": h.ID, "timestamp": time.Now().UnixMilli(), "agent": map[string]string{"id": "ana", "name": "Ana"}}
				if err := postDesk(in, urls[c%len(urls)]+"join", join); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for hook.joins() < n {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the bot was told of %d of %d joins", hook.joins(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return refs, nil
}
