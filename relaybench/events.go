package relaybench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/stdwebhook"
)

// botHook is the bot's webhook receiver: it verifies every signature and
// records when each agent message (by its text) first arrived, and under
// which webhook id: the same message again under that id is a repeat (a
// redelivery the bot dedupes), under another a duplicate.
type botHook struct {
	secret string
	mu     sync.Mutex
	at     map[string]time.Time
	id     map[string]string
	dups   int
	again  int
	bad    int
	joined int
}

func newBotHook() *botHook {
	return &botHook{secret: stdwebhook.NewSecret(), at: map[string]time.Time{}, id: map[string]string{}}
}

func (b *botHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := stdwebhook.Verify(b.secret, r.Header, body, time.Now()); err != nil {
		b.mu.Lock()
		b.bad++
		b.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var env struct {
		Type string
		Data struct{ Text string }
	}
	json.Unmarshal(body, &env)
	if env.Type == baton.EventAgentJoined {
		b.mu.Lock()
		b.joined++
		b.mu.Unlock()
	}
	if env.Type == baton.EventAgentMessage {
		id := r.Header.Get("webhook-id")
		b.mu.Lock()
		switch first, ok := b.id[env.Data.Text]; {
		case !ok:
			b.at[env.Data.Text], b.id[env.Data.Text] = time.Now(), id
		case first == id:
			b.again++
		default:
			b.dups++
		}
		b.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

// repeats is how many deliveries came again under their first id.
func (b *botHook) repeats() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.again
}

// unverified is how many deliveries failed signature verification.
func (b *botHook) unverified() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bad
}

// startHook starts a bot receiver, and the signer a baseline signs its
// deliveries with.
func startHook() (*botHook, *httptest.Server, *stdwebhook.Signer) {
	hook := newBotHook()
	signer, err := stdwebhook.NewSigner(hook.secret)
	if err != nil {
		panic(err) // NewSecret makes a secret NewSigner takes
	}
	return hook, httptest.NewServer(hook), signer
}

// joins is how many agent_joined events arrived.
func (b *botHook) joins() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.joined
}

func (b *botHook) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.at)
}

func (b *botHook) arrived(id string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.at[id]
	return t, ok
}

func (b *botHook) duplicates() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dups
}

// Events measures signed event delivery to a bot: agents' replies in the
// inbox become handoff.agent_message events, each committed and then posted
// to the bot's webhook signed (Standard Webhooks), in order per conversation.
// The baseline signs and posts the same bodies straight to the receiver.
func Events(ctx context.Context, o Options) (Report, error) {
	return compare(ctx, o, bareEvents, batonEvents)
}

// bareEvents signs and posts each event body directly, storing nothing.
func bareEvents(ctx context.Context, o Options) (Result, error) {
	hook, srv, signer := startHook()
	defer srv.Close()
	out := client(o.Clients)
	return drive(ctx, "bare", o, hook, func(conv int, id string) error {
		body, _ := json.Marshal(map[string]any{"id": "evt_" + id, "type": baton.EventAgentMessage, "data": map[string]any{"text": id}})
		res := stdwebhook.Post(ctx, out, srv.URL, signer.Headers("evt_"+id, time.Now(), body), body)
		if !res.OK() {
			return fmt.Errorf("bare post: %d %v", res.Status, res.Err)
		}
		return nil
	})
}

// batonEvents has inbox agents reply in open handoffs and measures the
// signed deliveries of the resulting events to the bot.
func batonEvents(ctx context.Context, o Options) (Result, error) {
	hook := newBotHook()
	srv := httptest.NewServer(hook)
	defer srv.Close()
	st, closeStore, err := freshStore(ctx, o)
	if err != nil {
		return Result{}, err
	}
	defer closeStore()
	a := app.New(app.Params{Store: st, Worker: outbox.Config{Workers: 64, Client: client(64)}})
	eng := a.Engine
	dc := baton.DeskConfig{ID: "inbox", WorkspaceID: "bench", Kind: baton.KindInbox, Status: baton.Available,
		Policy: &baton.Policy{WaitTimeout: baton.Duration(time.Hour), SessionTimeout: baton.Duration(time.Hour), IdleExpiry: baton.Duration(time.Hour)}}
	err = st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "bench"}); err != nil {
			return err
		}
		if err := tx.PutDesk(dc); err != nil {
			return err
		}
		return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "bench", DeskID: "inbox", WebhookURL: srv.URL, WebhookSecret: hook.secret})
	})
	if err != nil {
		return Result{}, err
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Run(wctx); close(done) }()
	defer func() { stop(); <-done }()
	refs := make([]string, o.Conversations)
	for c := range o.Conversations {
		h, _, err := eng.CreateHandoff(ctx, "bench", baton.CreateRequest{ExternalID: fmt.Sprint("conv-", c),
			Customer: baton.Customer{ID: fmt.Sprint("cust-", c)}, Question: "help"})
		if err != nil {
			return Result{}, err
		}
		refs[c] = h.ID // the inbox's reference is the handoff id
	}
	deadline := time.Now().Add(time.Minute)
	for _, id := range refs {
		for h, _ := eng.Handoff(ctx, "bench", id); h.State != baton.Queued; h, _ = eng.Handoff(ctx, "bench", id) {
			if time.Now().After(deadline) {
				return Result{}, fmt.Errorf("handoff %s did not queue", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	agent := baton.Agent{ID: "ana", Name: "Ana"}
	return drive(ctx, "baton", o, hook, func(conv int, id string) error {
		return eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: id, Ref: refs[conv], Type: baton.DeskAgentMessage, Agent: agent, Text: id})
	})
}
