// Package demo is the scripted bot of `baton demo`: a webhook on loopback
// that verifies and prints the events Baton delivers, the demo workspace
// that points at it, and the walk of a handoff through queued → active →
// ended, done over HTTP or printed as curl commands for people to run.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/stdwebhook"
)

// The demo's fixed credentials, printed for people to use.
const (
	APIKey        = "demo-bot-key-0123456789"
	AgentKey      = "demo-agent-key-0123456789"
	AgentEmail    = "ana@demo.example"
	AgentPassword = "demo-password-0123"
	// SecondEmail signs in a second agent, Ben (same password), to see a
	// claimed handoff leave his queue.
	SecondEmail = "ben@demo.example"
	AdminKey    = "badm_demo-admin-key-0123456789"
)

// wait bounds how long the walk waits for the bot to hear of each step.
const wait = 30 * time.Second

// Bot is the demo's bot webhook, serving on a loopback port.
type Bot struct {
	// URL is where Baton delivers the bot's events.
	URL    string
	secret string
	lines  chan string
	srv    *http.Server
	base   atomic.Pointer[string] // Baton's address, once Guide or Walk knows it
	chats  chats                  // the chat widget's conversations
}

// Start starts a bot on a free loopback port; Close stops it.
func Start() (*Bot, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo bot: %w", err)
	}
	b := &Bot{URL: "http://" + ln.Addr().String() + "/webhook", secret: stdwebhook.NewSecret(), lines: make(chan string, 64)}
	m := http.NewServeMux()
	m.Handle("/webhook", handler(b.secret, b.lines, b.keepWaiting, b.observe))
	m.Handle("/chat/", b.chatHandler())
	m.HandleFunc("GET /{$}", b.page)
	b.srv = &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

// Close stops the bot.
func (b *Bot) Close() error { return b.srv.Close() }

// File is the demo's configuration: workspace demo with API key APIKey, an
// inbox desk, this bot, the inbox agent Ana with key AgentKey, who signs
// in to the web inbox with AgentEmail and AgentPassword, and Ben
// (SecondEmail, the same password); the admin key AdminKey opens the
// console and the admin API.
func (b *Bot) File() *config.File {
	return &config.File{AdminKeys: []config.AdminKey{{Name: "demo", Key: AdminKey}}, Workspaces: []config.Workspace{{
		ID: "demo", Name: "Demo",
		APIKeys: []config.APIKey{{Name: "demo", Key: APIKey}},
		Desks:   []config.Desk{{ID: "inbox", Name: "Inbox", Kind: baton.KindInbox, Policy: Policy()}},
		Bots: []config.Bot{{ID: "demo-bot", Name: "Demo bot", Desk: "inbox",
			WebhookURL: b.URL, WebhookSecret: b.secret}},
		InboxAgents: []config.Agent{{ID: "ana", Name: "Ana", Email: AgentEmail, Desk: "inbox", Key: AgentKey, Password: AgentPassword},
			{ID: "ben", Name: "Ben", Email: SecondEmail, Desk: "inbox", Password: AgentPassword}},
	}}}
}

// Policy is the demo desk's policy: time for a person to walk the steps at
// reading speed, a few minutes each (the defaults, a 60 s wait and a 180 s
// session, are for bots and would end the handoff under a reader).
func Policy() *baton.Policy {
	return &baton.Policy{WaitTimeout: baton.Duration(10 * time.Minute), SessionTimeout: baton.Duration(30 * time.Minute),
		IdleExpiry: baton.Duration(30 * time.Minute)}
}

// intro prints what the demo holds.
func (b *Bot) intro(out io.Writer) {
	fmt.Fprintf(out, "  workspace demo, bot API key %q; inbox desk \"inbox\"; agent Ana, key %q\n", APIKey, AgentKey)
	fmt.Fprintf(out, "  demo bot at %s: it verifies each event's signature and prints it\n", b.URL)
	p := Policy()
	fmt.Fprintf(out, "  the desk waits %v for an agent and ends a session %v after the agent's last word\n\n", p.WaitTimeout.D(), p.SessionTimeout.D())
}

// Guide prints the curl commands that walk a handoff through its states on
// the Baton at base, then the bot's lines until ctx ends.
func (b *Bot) Guide(ctx context.Context, base string, out io.Writer) {
	b.base.Store(&base)
	b.intro(out)
	fmt.Fprintf(out, "Customer page: %s (the chat widget: ask for a person there)\n", b.CustomerPage())
	fmt.Fprintf(out, "Ana's web inbox: %s/inbox/ (sign in as %s, password %q;\n  a second agent, in another browser: %s, the same password).\n", base, AgentEmail, AgentPassword, SecondEmail)
	fmt.Fprintf(out, "Console: %s/console/ (sign in with the admin key %q).\n", base, AdminKey)
	fmt.Fprintln(out, "Walk a handoff through queued → active → ended from another terminal (or claim,")
	fmt.Fprintln(out, "answer and end it in the web inbox after step 1):")
	for i, s := range steps {
		fmt.Fprintf(out, "\n  # %d. %s\n  %s\n", i+1, s.say, s.curl(base))
	}
	fmt.Fprintln(out, "\nThe bot's events appear here. Press Ctrl-C to stop.")
	for {
		select {
		case line := <-b.lines:
			fmt.Fprintln(out, line)
		case <-ctx.Done():
			return
		}
	}
}

// Walk performs the steps on the Baton at base over HTTP, printing each,
// and waits after each step for the event the bot should receive. It
// returns once the bot has received handoff.ended.
func (b *Bot) Walk(ctx context.Context, base string, out io.Writer) error {
	b.base.Store(&base)
	b.intro(out)
	fmt.Fprintln(out, "Walking a handoff through queued → active → ended:")
	client := &http.Client{Timeout: 10 * time.Second}
	var id string
	for i, s := range steps {
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
		got, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode != s.status {
			return fmt.Errorf("step %d: %s %s answered %d, want %d: %s", i+1, s.method, path, res.StatusCode, s.status, bytes.TrimSpace(got))
		}
		var h struct {
			ID        string `json:"id"`
			State     string `json:"state"`
			EndReason string `json:"end_reason"`
			Waiting   []struct {
				ID string `json:"id"`
			} `json:"waiting"`
		}
		json.Unmarshal(got, &h)
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
		fmt.Fprintf(out, "[%d/%d] %s\n      %s %s → %d: %s\n", i+1, len(steps), s.say, s.method, path, res.StatusCode, what)
		if i == 0 && id == "" {
			return fmt.Errorf("step 1: no handoff id in %s", got)
		}
		if s.event != "" {
			if err := b.await(ctx, s.event, out); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
	}
	fmt.Fprintln(out, "demo walk complete: the bot received handoff.ended and owns the conversation again")
	return nil
}

// await prints the bot's lines until one is about an event of type typ.
func (b *Bot) await(ctx context.Context, typ string, out io.Writer) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case line := <-b.lines:
			fmt.Fprintln(out, line)
			if strings.HasPrefix(line, "bot ← "+typ) {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("the bot received no %s within %v", typ, wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
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

var steps = []step{
	{say: "the bot asks for a human (the handoff is requested, then queued in the inbox)", method: "POST", path: "/v1/handoffs", key: APIKey,
		body:   `{"conversation_id":"demo-1","customer":{"id":"cust-1","name":"Sam"},"history":[{"author":"customer","text":"Hello"},{"author":"bot","text":"Hi Sam, how can I help?"}],"question":"Can I change the delivery address of order 1042?"}`,
		status: http.StatusCreated, event: baton.EventQueued},
	{say: "Ana lists her inbox", method: "GET", path: "/v1/inbox/handoffs", key: AgentKey, status: http.StatusOK},
	{say: "Ana claims the handoff", method: "POST", path: "/v1/inbox/handoffs/$H/claim", key: AgentKey,
		status: http.StatusOK, event: baton.EventAgentJoined},
	{say: "Ana replies: the handoff becomes active and the bot relays her message", method: "POST", path: "/v1/inbox/handoffs/$H/messages", key: AgentKey,
		body: `{"text":"Hello Sam, this is Ana. Yes: which address should we use?"}`, status: http.StatusCreated, event: baton.EventAgentMessage},
	{say: "the customer answers, through the bot", method: "POST", path: "/v1/handoffs/$H/messages", key: APIKey,
		body: `{"text":"12 Rue de la Paix, Paris, please."}`, status: http.StatusCreated},
	{say: "Ana ends the handoff: the bot gets handoff.ended and owns the conversation again", method: "POST", path: "/v1/inbox/handoffs/$H/end", key: AgentKey,
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

// keepWaiting answers a wait timeout as the demo's bot does: a person may
// still come, so it keeps waiting, however slowly the steps are walked.
func (b *Bot) keepWaiting(handoffID string) error {
	base := b.base.Load()
	if base == nil {
		return errors.New("Baton's address is not known yet")
	}
	req, err := http.NewRequest(http.MethodPost, *base+"/v1/handoffs/"+url.PathEscape(handoffID)+"/keep-waiting", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+APIKey)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("keep-waiting answered %d", resp.StatusCode)
	}
	return nil
}

// handler is the bot's webhook: it verifies each delivery's Standard
// Webhooks signature, ignores repeated deliveries of one event, sends one
// line per event to lines, gives it to observe (nil: none), and answers a
// wait timeout with keepWaiting unless observe took the event (a chat
// widget's customer chooses).
func handler(secret string, lines chan<- string, keepWaiting func(handoffID string) error, observe func(baton.Envelope) bool) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := stdwebhook.Verify(secret, r.Header, body, time.Time{}); err != nil {
			send(r.Context(), lines, "bot ✗ refused a delivery: "+err.Error())
			http.Error(w, "signature does not verify", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		dup := seen[r.Header.Get(stdwebhook.HeaderID)]
		seen[r.Header.Get(stdwebhook.HeaderID)] = true
		mu.Unlock()
		if dup {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var ev baton.Envelope
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		send(r.Context(), lines, describe(ev))
		mine := observe != nil && observe(ev)
		w.WriteHeader(http.StatusNoContent)
		if ev.Type == baton.EventWaitTimeout && !mine {
			var d struct {
				HandoffID string `json:"handoff_id"`
			}
			json.Unmarshal(ev.Data, &d)
			go func() { // after the answer: Baton counts the grace from it
				line := "bot → keep waiting: a person may still come"
				if err := keepWaiting(d.HandoffID); err != nil {
					line = "bot ✗ could not keep waiting: " + err.Error()
				}
				send(context.Background(), lines, line)
			}()
		}
	})
}

func send(ctx context.Context, lines chan<- string, line string) {
	select {
	case lines <- line:
	case <-ctx.Done():
	}
}

// describe is the bot's one line about an event.
func describe(ev baton.Envelope) string {
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
