package livechat

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/livechatsim"
)

// The people of the simulated license.
const (
	batonAgent = "baton@example.com" // the PAT's agent: relay's account, or the seat
	maria      = "maria@example.com" // a human in group 1 "Sales"
	secretKey  = "sim-webhook-secret-0123456789"
)

// world is a simulated LiveChat license with one Baton desk whose webhooks
// are registered (through RegisterWebhooks) to a receiver that plays
// Baton's inbound URL: it passes each delivery to the desk's Inbound and
// records the events and errors.
type world struct {
	t        *testing.T
	sim      *livechatsim.Sim
	api      *httptest.Server
	app      livechatsim.App
	baton    livechatsim.Agent
	cfg      baton.DeskConfig
	desk     baton.Desk
	inbound  string // the webhook URL
	register Report

	mu     sync.Mutex
	events []baton.DeskEvent
	errs   []error
}

// newWorld builds a license with groups 0 General, 1 Sales (Maria, accepting
// chats) and 2 Billing (nobody), and a desk in mode. In relay mode the PAT's
// agent is not accepting chats; in seat mode it is the seat, first in group 0.
func newWorld(t *testing.T, mode string) *world {
	t.Helper()
	w := &world{t: t}
	w.sim = livechatsim.New(livechatsim.Config{Retry: []time.Duration{}, Timeout: 5 * time.Second})
	t.Cleanup(w.sim.Close)
	w.api = httptest.NewServer(w.sim.Handler())
	t.Cleanup(w.api.Close)
	w.sim.AddGroup(1, "Sales")
	w.sim.AddGroup(2, "Billing")
	w.app = w.sim.AddApp(livechatsim.App{RedirectURI: "https://baton.example.com/livechat"})
	var err error
	ba := livechatsim.Agent{ID: batonAgent, Name: "Baton", Status: livechatsim.NotAccepting, Groups: map[int]string{0: "normal"}}
	if mode == ModeSeat {
		ba = livechatsim.Agent{ID: batonAgent, Name: "Bot", Status: livechatsim.Accepting, MaxChats: 50, Groups: map[int]string{0: "first"}}
	}
	if w.baton, err = w.sim.AddAgent(ba); err != nil {
		t.Fatal(err)
	}
	if _, err = w.sim.AddAgent(livechatsim.Agent{ID: maria, Name: "Maria", Groups: map[int]string{1: "normal"}}); err != nil {
		t.Fatal(err)
	}

	w.cfg = baton.DeskConfig{ID: "desk_lc", Kind: baton.KindLiveChat, Settings: map[string]string{
		SettingMode:        mode,
		SettingClientID:    w.app.ClientID,
		SettingAccountID:   w.baton.AccountID,
		SettingToken:       w.baton.PAT,
		SettingSecretKey:   secretKey,
		SettingAPIURL:      w.api.URL,
		SettingAccountsURL: w.api.URL,
	}}
	if mode == ModeSeat {
		w.cfg.Settings[SettingAgentEmail] = batonAgent
	} else {
		w.cfg.Settings[SettingOrganizationID] = w.sim.OrganizationID()
		w.cfg.Settings[SettingRedirectURI] = w.app.RedirectURI
		w.cfg.Settings[SettingGroupID] = "1"
		w.cfg.Settings[SettingGroups] = "billing=2"
	}
	if w.desk, err = New(w.cfg, nil); err != nil {
		t.Fatal(err)
	}

	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		evs, err := w.desk.Inbound(r.Context(), r.PathValue("path"), r.Header, body)
		w.mu.Lock()
		w.events = append(w.events, evs...)
		if err != nil {
			w.errs = append(w.errs, err)
		}
		w.mu.Unlock()
		switch {
		case err == nil:
			rw.WriteHeader(http.StatusOK)
		case errors.Is(err, baton.ErrForged):
			rw.WriteHeader(http.StatusUnauthorized)
		default:
			rw.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(recv.Close)
	w.inbound = recv.URL + "/v1/desks/desk_lc/inbound/livechat"
	if w.register, err = RegisterWebhooks(context.Background(), w.cfg, w.inbound, nil); err != nil {
		t.Fatalf("RegisterWebhooks: %v", err)
	}
	return w
}

// flush waits for the simulator's webhook deliveries.
func (w *world) flush() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.sim.Flush(ctx); err != nil {
		w.t.Fatalf("webhooks still pending: %v", err)
	}
}

// take returns the events and errors recorded since the last take.
func (w *world) take() ([]baton.DeskEvent, []error) {
	w.t.Helper()
	w.flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	evs, errs := w.events, w.errs
	w.events, w.errs = nil, nil
	return evs, errs
}

// takeOK returns the recorded events and fails on recorded errors.
func (w *world) takeOK() []baton.DeskEvent {
	w.t.Helper()
	evs, errs := w.take()
	for _, err := range errs {
		w.t.Errorf("Inbound failed: %v", err)
	}
	return evs
}

func (w *world) chat(id string) livechatsim.Chat {
	w.t.Helper()
	c, ok := w.sim.Chat(id)
	if !ok {
		w.t.Fatalf("the simulator has no chat %s", id)
	}
	return c
}

// messages lists the message and file events of a chat, oldest first.
func messages(c livechatsim.Chat) []livechatsim.Event {
	var out []livechatsim.Event
	for _, e := range c.Events() {
		if e.Type == "message" || e.Type == "file" {
			out = append(out, e)
		}
	}
	return out
}

func user(c livechatsim.Chat, id string) (livechatsim.User, bool) {
	for _, u := range c.Users {
		if u.ID == id {
			return u, true
		}
	}
	return livechatsim.User{}, false
}

func customerOf(c livechatsim.Chat) livechatsim.User {
	for _, u := range c.Users {
		if u.Type == "customer" {
			return u
		}
	}
	return livechatsim.User{}
}

// retryable reports whether err is a DeskError the worker retries.
func retryable(err error) bool {
	var de *baton.DeskError
	return errors.As(err, &de) && !de.Auth && !de.Permanent && !de.Busy
}

func permanent(err error) bool {
	var de *baton.DeskError
	return errors.As(err, &de) && de.Permanent
}

func isAuthErr(err error) bool {
	var de *baton.DeskError
	return errors.As(err, &de) && de.Auth
}

func types(evs []baton.DeskEvent) []baton.DeskEventType {
	var out []baton.DeskEventType
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func only(t *testing.T, evs []baton.DeskEvent, typ baton.DeskEventType) baton.DeskEvent {
	t.Helper()
	var hit []baton.DeskEvent
	for _, e := range evs {
		if e.Type == typ {
			hit = append(hit, e)
		}
	}
	if len(hit) != 1 {
		t.Fatalf("want one %s event, got %v", typ, types(evs))
	}
	return hit[0]
}

func has(evs []baton.DeskEvent, typ baton.DeskEventType) bool {
	return slices.ContainsFunc(evs, func(e baton.DeskEvent) bool { return e.Type == typ })
}

// TestRelayAccepting: the relay says whether its group accepts chats, by
// the group's routing status: group 0 has only the relay's own account,
// not accepting; Sales has Maria, accepting.
func TestRelayAccepting(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ModeRelay)
	for group, want := range map[string]bool{"0": false, "1": true} {
		cfg := w.cfg
		cfg.Settings = maps.Clone(w.cfg.Settings)
		cfg.Settings[SettingGroupID] = group
		d, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.(baton.Staffed).Accepting(context.Background())
		if err != nil || got != want {
			t.Errorf("group %s: accepting %v, %v; want %v", group, got, err, want)
		}
	}
	cfg := w.cfg
	cfg.Settings = maps.Clone(w.cfg.Settings)
	cfg.Settings[SettingGroupID] = "9"
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.(baton.Staffed).Accepting(context.Background()); baton.ErrorField(err) != "settings.group_id" {
		t.Errorf("a group the license lacks: %v, want an error naming settings.group_id", err)
	}
}
