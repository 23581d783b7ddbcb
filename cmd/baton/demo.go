package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/webhook"
)

// The demo's fixed credentials, printed for people to use.
const (
	demoKey      = "demo-key"
	demoAgentKey = "agent-key"
)

// demoWait bounds how long the walk waits for the bot to hear of each step.
const demoWait = 30 * time.Second

// demo runs Baton on a temporary SQLite database with a demo workspace, an
// inbox desk, an inbox agent (Ana) and a scripted bot that prints the events
// it receives. It prints the curl commands that walk a handoff through its
// states and waits for Ctrl-C; with walk it runs those steps itself and
// returns once the bot has received handoff.ended.
func demo(ctx context.Context, e env, walk bool, log *slog.Logger, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "baton-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := make([]byte, 32)
	rand.Read(key)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "baton.db"), key)
	if err != nil {
		return err
	}
	defer store.Close()

	out := &lockedWriter{w: stdout}
	secret := webhook.NewSecret()
	events := make(chan string, 64)
	botLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bot := &http.Server{Handler: demoBot(secret, events), ReadHeaderTimeout: 5 * time.Second}
	go bot.Serve(botLn)
	defer bot.Close()

	cfg := &config.File{Workspaces: []config.Workspace{{
		ID: "demo", Name: "Demo",
		APIKeys: []config.APIKey{{Name: "demo", Key: demoKey}},
		Desks:   []config.Desk{{ID: "inbox", Name: "Inbox", Kind: baton.KindInbox}},
		Bots: []config.Bot{{ID: "demo-bot", Name: "Demo bot", Desk: "inbox",
			WebhookURL: "http://" + botLn.Addr().String() + "/webhook", WebhookSecret: secret}},
		InboxAgents: []config.Agent{{ID: "ana", Name: "Ana", Email: "ana@demo.example", Desk: "inbox", Key: demoAgentKey}},
	}}}
	newDesk := deskFactory(&http.Client{Timeout: deskTimeout})
	if err := cfg.Validate(newDesk); err != nil {
		return err
	}

	// The demo's keys are public: listen on loopback unless told otherwise.
	addr := "127.0.0.1:0"
	if e.addr != "" {
		host, port, err := net.SplitHostPort(e.addr)
		if err != nil {
			return fmt.Errorf("BATON_ADDR: %w", err)
		}
		if host == "" {
			host = "127.0.0.1"
		}
		addr = net.JoinHostPort(host, port)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var walked error
	var wg sync.WaitGroup
	started := func(addr string) {
		base := "http://" + addr
		fmt.Fprintf(out, "\nBaton demo: a temporary SQLite database in %s\n", dir)
		fmt.Fprintf(out, "  workspace demo, bot API key %q; inbox desk \"inbox\"; agent Ana, key %q\n", demoKey, demoAgentKey)
		fmt.Fprintf(out, "  demo bot at http://%s/webhook: it verifies each event's signature and prints it\n\n", botLn.Addr())
		if walk {
			fmt.Fprintln(out, "Walking a handoff through queued → active → ended:")
			wg.Go(func() {
				walked = walkDemo(ctx, base, out, events)
				stop()
			})
			return
		}
		wg.Go(func() {
			for {
				select {
				case line := <-events:
					fmt.Fprintln(out, line)
				case <-ctx.Done():
					return
				}
			}
		})
		fmt.Fprintln(out, "Walk a handoff through queued → active → ended from another terminal:")
		for i, s := range demoSteps {
			fmt.Fprintf(out, "\n  # %d. %s\n  %s\n", i+1, s.say, s.curl(base))
		}
		fmt.Fprintln(out, "\nThe bot's events appear here. Press Ctrl-C to stop.")
	}
	err = serveOn(ctx, log, out, addr, store, newDesk, cfg, engine.Config{}, started)
	stop()
	wg.Wait()
	return errors.Join(err, walked)
}

// step is one request of the demo walk. In path, $H stands for the handoff id.
type step struct {
	say    string // what happens, for people
	method string
	path   string
	key    string
	body   string
	status int    // the answer the walk expects
	event  string // the event the bot then receives, if any
}

var demoSteps = []step{
	{say: "the bot asks for a human (the handoff is requested, then queued in the inbox)", method: "POST", path: "/v1/handoffs", key: demoKey,
		body:   `{"conversation_id":"demo-1","customer":{"id":"cust-1","name":"Sam"},"history":[{"author":"customer","text":"Hello"},{"author":"bot","text":"Hi Sam, how can I help?"}],"question":"Can I change the delivery address of order 1042?"}`,
		status: http.StatusCreated, event: baton.EventQueued},
	{say: "Ana lists her inbox", method: "GET", path: "/v1/inbox/handoffs", key: demoAgentKey, status: http.StatusOK},
	{say: "Ana claims the handoff", method: "POST", path: "/v1/inbox/handoffs/$H/claim", key: demoAgentKey,
		status: http.StatusOK, event: baton.EventAgentJoined},
	{say: "Ana replies: the handoff becomes active and the bot relays her message", method: "POST", path: "/v1/inbox/handoffs/$H/messages", key: demoAgentKey,
		body: `{"text":"Hello Sam, this is Ana. Yes: which address should we use?"}`, status: http.StatusCreated, event: baton.EventAgentMessage},
	{say: "the customer answers, through the bot", method: "POST", path: "/v1/handoffs/$H/messages", key: demoKey,
		body: `{"text":"12 Rue de la Paix, Paris, please."}`, status: http.StatusCreated},
	{say: "Ana ends the handoff: the bot gets handoff.ended and owns the conversation again", method: "POST", path: "/v1/inbox/handoffs/$H/end", key: demoAgentKey,
		status: http.StatusOK, event: baton.EventEnded},
}

// curl renders the step as a shell command; the first one sets $H.
func (s step) curl(base string) string {
	var b strings.Builder
	b.WriteString("curl -s")
	if s.method != http.MethodGet {
		b.WriteString(" -X " + s.method)
	}
	b.WriteString(" " + base + s.path + " -H 'Authorization: Bearer " + s.key + "'")
	if s.body != "" {
		b.WriteString(" -H 'Content-Type: application/json' -d '" + s.body + "'")
	}
	if s.path == "/v1/handoffs" {
		return `H=$(` + b.String() + ` | sed -E 's/^\{"id":"([^"]+)".*/\1/'); echo "handoff $H"`
	}
	return b.String()
}

// walkDemo performs the demo steps over HTTP, printing each, and waits after
// each step for the event the bot should receive.
func walkDemo(ctx context.Context, base string, out io.Writer, events <-chan string) error {
	client := &http.Client{Timeout: 10 * time.Second}
	var id string
	for i, s := range demoSteps {
		path := strings.ReplaceAll(s.path, "$H", id)
		var body io.Reader
		if s.body != "" {
			body = strings.NewReader(s.body)
		}
		req, err := http.NewRequestWithContext(ctx, s.method, base+path, body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s.key)
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode != s.status {
			return fmt.Errorf("step %d: %s %s answered %d, want %d: %s", i+1, s.method, path, res.StatusCode, s.status, bytes.TrimSpace(b))
		}
		var h struct {
			ID        string `json:"id"`
			State     string `json:"state"`
			EndReason string `json:"end_reason"`
			Waiting   []struct {
				ID string `json:"id"`
			} `json:"waiting"`
		}
		json.Unmarshal(b, &h)
		if i == 0 {
			id = h.ID
		}
		what := fmt.Sprintf("handoff %s is %s", id, h.State)
		switch {
		case h.EndReason != "":
			what += " (" + h.EndReason + ")"
		case s.method == http.MethodGet:
			what = fmt.Sprintf("%d waiting", len(h.Waiting))
		case h.State == "":
			what = "message relayed to the inbox"
		}
		fmt.Fprintf(out, "[%d/%d] %s\n      %s %s → %d: %s\n", i+1, len(demoSteps), s.say, s.method, path, res.StatusCode, what)
		if i == 0 && id == "" {
			return fmt.Errorf("step 1: no handoff id in %s", b)
		}
		if s.event != "" {
			if err := awaitEvent(ctx, s.event, out, events); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
	}
	fmt.Fprintln(out, "demo walk complete: the bot received handoff.ended and owns the conversation again")
	return nil
}

// awaitEvent prints the bot's lines until one is about an event of type typ.
func awaitEvent(ctx context.Context, typ string, out io.Writer, events <-chan string) error {
	t := time.NewTimer(demoWait)
	defer t.Stop()
	for {
		select {
		case line := <-events:
			fmt.Fprintln(out, line)
			if strings.HasPrefix(line, "bot ← "+typ) {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("the bot received no %s within %v", typ, demoWait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// demoBot is the demo's bot webhook: it verifies each delivery's Standard
// Webhooks signature, ignores repeated deliveries of one event, and sends one
// line per event to lines.
func demoBot(secret string, lines chan<- string) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header, body, time.Time{}); err != nil {
			send(r.Context(), lines, "bot ✗ refused a delivery: "+err.Error())
			http.Error(w, "signature does not verify", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		dup := seen[r.Header.Get(webhook.HeaderID)]
		seen[r.Header.Get(webhook.HeaderID)] = true
		mu.Unlock()
		if dup {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var ev engine.Envelope
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		send(r.Context(), lines, describeEvent(ev))
		w.WriteHeader(http.StatusNoContent)
	})
}

func send(ctx context.Context, lines chan<- string, line string) {
	select {
	case lines <- line:
	case <-ctx.Done():
	}
}

// describeEvent is the demo bot's one line about an event.
func describeEvent(ev engine.Envelope) string {
	var d struct {
		DeskID string      `json:"desk_id"`
		Agent  baton.Agent `json:"agent"`
		Text   string      `json:"text"`
		Reason string      `json:"reason"`
		Epoch  int64       `json:"epoch"`
	}
	json.Unmarshal(ev.Data, &d)
	line := "bot ← " + ev.Type
	switch ev.Type {
	case baton.EventQueued:
		line += " (waiting in desk " + d.DeskID + ")"
	case baton.EventAgentJoined:
		line += ": " + d.Agent.Name + " took the handoff"
	case baton.EventAgentMessage:
		line += fmt.Sprintf(" from %s: %q", d.Agent.Name, d.Text)
	case baton.EventEnded:
		line += fmt.Sprintf(" (%s): the bot owns the conversation again, epoch %d", d.Reason, d.Epoch)
	}
	return line
}

// lockedWriter serialises writes from the server and the demo's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
