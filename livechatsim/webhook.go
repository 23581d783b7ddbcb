package livechatsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"
)

// Webhook is a registered webhook, as register_webhook takes it.
type Webhook struct {
	ID             string // set on registration
	URL            string
	Description    string
	Action         string
	SecretKey      string
	Type           string // license or bot
	OwnerClientID  string
	AdditionalData []string // chat_properties, chat_presence_user_ids
	Filters        Filters
}

// Filters are register_webhook's filters.
type Filters struct {
	AuthorType     string   // customer or agent; incoming_event and event_updated only
	OnlyMyChats    bool     // chats whose properties.source.client_id is the owner
	UserIDs        []string // chat_presence.user_ids.values: any of them present
	ExcludeUserIDs []string // chat_presence.user_ids.exclude_values: none of them present
	MyBots         bool     // chat_presence.my_bots: a bot of the owner present
	SourceType     []string // my_client, other_clients, system
	AgentIDs       []string // routing_status_set only
}

// MaxWebhooks is the limit of webhooks per action per owner_client_id.
const MaxWebhooks = 3

// v3.6 webhook actions and their filters (Configuration API, register_webhook).
var actions = map[string][]string{}

func init() {
	chat := []string{"chat_presence", "only_my_chats", "source_type"}
	for _, a := range []string{"incoming_chat", "chat_deactivated", "chat_access_updated", "chat_transferred",
		"user_added_to_chat", "user_removed_from_chat", "event_deleted", "incoming_rich_message_postback",
		"chat_properties_updated", "chat_properties_deleted", "thread_properties_updated",
		"thread_properties_deleted", "event_properties_updated", "event_properties_deleted", "thread_tagged",
		"thread_untagged", "events_marked_as_seen", "thread_summary_set"} {
		actions[a] = chat
	}
	actions["incoming_event"] = []string{"chat_presence", "author_type", "only_my_chats", "source_type"}
	actions["event_updated"] = actions["incoming_event"]
	actions["routing_status_set"] = []string{"agent_ids", "source_type"}
	actions["customer_session_fields_updated"] = []string{"chat_presence", "source_type"}
	for _, a := range []string{"group_created", "group_updated", "group_deleted", "agent_created",
		"agent_updated", "agent_deleted", "agent_suspended", "agent_unsuspended", "agent_approved",
		"bot_created", "bot_updated", "bot_deleted", "auto_accesses_updated", "tag_created", "tag_deleted",
		"tag_updated"} {
		actions[a] = []string{"source_type"}
	}
}

var additional = []string{"chat_properties", "chat_presence_user_ids"}

func hasAdditional(action string) bool { return action != "agent_deleted" }

type filtersIn struct {
	AuthorType   *string `json:"author_type"`
	OnlyMyChats  *bool   `json:"only_my_chats"`
	ChatPresence *struct {
		UserIDs *struct {
			Values  []string `json:"values"`
			Exclude []string `json:"exclude_values"`
		} `json:"user_ids"`
		MyBots *bool `json:"my_bots"`
	} `json:"chat_presence"`
	SourceType []string `json:"source_type"`
	AgentIDs   []string `json:"agent_ids"`
}

func (f *filtersIn) filters() (Filters, error) {
	var out Filters
	if f == nil {
		return out, nil
	}
	if f.AuthorType != nil {
		out.AuthorType = *f.AuthorType
		if out.AuthorType == "" {
			return out, badRequest("`filters.author_type` must be customer or agent")
		}
	}
	if f.OnlyMyChats != nil {
		out.OnlyMyChats = *f.OnlyMyChats
	}
	if p := f.ChatPresence; p != nil {
		if u := p.UserIDs; u != nil {
			if (u.Values != nil) == (u.Exclude != nil) {
				return out, badRequest("`filters.chat_presence.user_ids` takes exactly one of `values` and `exclude_values`")
			}
			out.UserIDs, out.ExcludeUserIDs = u.Values, u.Exclude
		}
		if p.MyBots != nil {
			out.MyBots = *p.MyBots
		}
	}
	out.SourceType, out.AgentIDs = f.SourceType, f.AgentIDs
	return out, nil
}

func (f Filters) json() obj {
	o := obj{}
	if f.AuthorType != "" {
		o["author_type"] = f.AuthorType
	}
	if f.OnlyMyChats {
		o["only_my_chats"] = true
	}
	p := obj{}
	if f.UserIDs != nil {
		p["user_ids"] = obj{"values": f.UserIDs}
	}
	if f.ExcludeUserIDs != nil {
		p["user_ids"] = obj{"exclude_values": f.ExcludeUserIDs}
	}
	if f.MyBots {
		p["my_bots"] = true
	}
	if len(p) > 0 {
		o["chat_presence"] = p
	}
	if f.SourceType != nil {
		o["source_type"] = f.SourceType
	}
	if f.AgentIDs != nil {
		o["agent_ids"] = f.AgentIDs
	}
	return o
}

// register validates and stores a webhook; the owner is already resolved.
func (s *Sim) register(w Webhook) (string, error) {
	allowed, ok := actions[w.Action]
	switch {
	case w.Action == "":
		return "", badRequest("`action` is required")
	case !ok:
		return "", badRequest("Unknown webhook action %q", w.Action)
	case w.SecretKey == "":
		return "", badRequest("`secret_key` is required")
	case w.URL == "":
		return "", badRequest("`url` is required")
	case len(w.URL) > 500:
		return "", badRequest("`url` can have at most 500 characters")
	case w.Type != "license" && w.Type != "bot":
		return "", badRequest("`type` must be license or bot")
	}
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", badRequest("`url` must be an http(s) URL")
	}
	for _, a := range w.AdditionalData {
		if !slices.Contains(additional, a) || !hasAdditional(w.Action) {
			return "", badRequest("Invalid additional_data %q for action %s", a, w.Action)
		}
	}
	f := w.Filters
	used := map[string]bool{
		"author_type":   f.AuthorType != "",
		"only_my_chats": f.OnlyMyChats,
		"chat_presence": f.UserIDs != nil || f.ExcludeUserIDs != nil || f.MyBots,
		"source_type":   f.SourceType != nil,
		"agent_ids":     f.AgentIDs != nil,
	}
	for name, on := range used {
		if on && !slices.Contains(allowed, name) {
			return "", badRequest("Filter %s is not allowed for action %s", name, w.Action)
		}
	}
	if f.AuthorType != "" && f.AuthorType != "customer" && f.AuthorType != "agent" {
		return "", badRequest("`filters.author_type` must be customer or agent")
	}
	if f.UserIDs != nil && f.ExcludeUserIDs != nil {
		return "", badRequest("`filters.chat_presence.user_ids` takes exactly one of `values` and `exclude_values`")
	}
	for _, st := range f.SourceType {
		if st != "my_client" && st != "other_clients" && st != "system" {
			return "", badRequest("Invalid source_type %q", st)
		}
	}
	n := 0
	for _, h := range s.hooks {
		if h.OwnerClientID == w.OwnerClientID && h.Action == w.Action {
			n++
		}
	}
	if n >= MaxWebhooks {
		return "", errf("limit_reached", "Limit of %d webhooks per action reached", MaxWebhooks)
	}
	w.ID = random("abcdefghijklmnopqrstuvwxyz0123456789", 25)
	s.hooks[w.ID] = &w
	s.hookOrder = append(s.hookOrder, w.ID)
	return w.ID, nil
}

func (s *Sim) registerM(c *call) (any, error) {
	var in struct {
		URL            string     `json:"url"`
		Description    string     `json:"description"`
		Action         string     `json:"action"`
		SecretKey      string     `json:"secret_key"`
		Type           string     `json:"type"`
		Owner          string     `json:"owner_client_id"`
		AdditionalData []string   `json:"additional_data"`
		Filters        *filtersIn `json:"filters"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	own, err := s.owner(c.who, in.Owner)
	if err != nil {
		return nil, err
	}
	f, err := in.Filters.filters()
	if err != nil {
		return nil, err
	}
	id, err := s.register(Webhook{URL: in.URL, Description: in.Description, Action: in.Action,
		SecretKey: in.SecretKey, Type: in.Type, OwnerClientID: own, AdditionalData: in.AdditionalData, Filters: f})
	if err != nil {
		return nil, err
	}
	return obj{"id": id}, nil
}

type ownerIn struct {
	ID    string `json:"id"`
	Owner string `json:"owner_client_id"`
}

func (s *Sim) listWebhooksM(c *call) (any, error) {
	var in ownerIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	own, err := s.owner(c.who, in.Owner)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, id := range s.hookOrder {
		h := s.hooks[id]
		if h.OwnerClientID != own {
			continue
		}
		o := obj{"id": h.ID, "url": h.URL, "description": h.Description, "action": h.Action,
			"secret_key": h.SecretKey, "filters": h.Filters.json(), "owner_client_id": h.OwnerClientID, "type": h.Type}
		if len(h.AdditionalData) > 0 {
			o["additional_data"] = h.AdditionalData
		}
		out = append(out, o)
	}
	return out, nil
}

func (s *Sim) unregisterM(c *call) (any, error) {
	var in ownerIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	own, err := s.owner(c.who, in.Owner)
	if err != nil {
		return nil, err
	}
	h := s.hooks[in.ID]
	if h == nil || h.OwnerClientID != own {
		return nil, notFound("Webhook")
	}
	delete(s.hooks, in.ID)
	s.hookOrder = slices.DeleteFunc(s.hookOrder, func(id string) bool { return id == in.ID })
	return nil, nil
}

func (s *Sim) licenseHooksM(c *call) (any, error) {
	var in ownerIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	own, err := s.owner(c.who, in.Owner)
	if err != nil {
		return nil, err
	}
	switch c.r.PathValue("method") {
	case "enable_license_webhooks":
		delete(s.disabled, own)
	case "disable_license_webhooks":
		s.disabled[own] = true
	default:
		return obj{"license_webhooks_enabled": !s.disabled[own]}, nil
	}
	return nil, nil
}

func (s *Sim) webhookNamesM(c *call) (any, error) {
	var in struct {
		Version string `json:"version"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Version != "" && in.Version != "3.6" && in.Version != "3.5" && in.Version != "3.4" {
		return nil, errf("unsupported_version", "Cannot call unsupported API versions.")
	}
	var names []string
	for a := range actions {
		names = append(names, a)
	}
	sort.Strings(names)
	out := []any{}
	for _, a := range names {
		o := obj{"action": a, "filters": actions[a]}
		if hasAdditional(a) {
			o["additional_data"] = additional
		}
		out = append(out, o)
	}
	return out, nil
}

// Emission.

// matches applies a webhook's enablement and filters to one occurrence.
func (s *Sim) matches(h *Webhook, c *chat, src source) bool {
	if h.Type == "license" && s.disabled[h.OwnerClientID] {
		return false
	}
	mine := func(a *agent) bool { return a.bot && a.owner == h.OwnerClientID }
	if h.Type == "bot" {
		ok := false
		for _, a := range s.agents {
			ok = ok || (mine(a) && a.status == Accepting)
		}
		if !ok {
			return false
		}
	}
	f := h.Filters
	if f.AuthorType != "" && f.AuthorType != src.author {
		return false
	}
	if c != nil {
		present := c.presentIDs()
		if f.UserIDs != nil || f.MyBots {
			hit := false
			for _, id := range present {
				a := s.agents[id]
				hit = hit || slices.Contains(f.UserIDs, id) || (f.MyBots && a != nil && mine(a))
			}
			if !hit {
				return false
			}
		}
		for _, id := range f.ExcludeUserIDs {
			if slices.Contains(present, id) {
				return false
			}
		}
		if f.OnlyMyChats {
			src, _ := c.props["source"].(obj)
			if id, _ := src["client_id"].(string); id != h.OwnerClientID {
				return false
			}
		}
	}
	if f.SourceType != nil {
		kind := "system"
		if src.client == h.OwnerClientID {
			kind = "my_client"
		} else if src.client != "" {
			kind = "other_clients"
		}
		if !slices.Contains(f.SourceType, kind) {
			return false
		}
	}
	if f.AgentIDs != nil && !slices.Contains(f.AgentIDs, src.agent) {
		return false
	}
	return true
}

// emit queues the webhooks of an action; c is nil for actions without a chat.
func (s *Sim) emit(action string, c *chat, payload obj, src source) {
	for _, id := range s.hookOrder {
		h := s.hooks[id]
		if h.Action != action || !s.matches(h, c, src) {
			continue
		}
		add := obj{}
		if c != nil {
			if slices.Contains(h.AdditionalData, "chat_properties") {
				add["chat_properties"] = cloneJSON(c.props)
			}
			if slices.Contains(h.AdditionalData, "chat_presence_user_ids") {
				add["chat_presence_user_ids"] = c.presentIDs()
			}
		}
		env := obj{"webhook_id": h.ID, "secret_key": h.SecretKey, "action": action, "payload": payload,
			"additional_data": add}
		if s.faults.Legacy {
			env["license_id"] = s.cfg.LicenseID
		} else {
			env["organization_id"] = s.cfg.OrganizationID
		}
		body, err := json.Marshal(env)
		if err != nil {
			panic(err) // payloads are plain JSON values
		}
		s.ob.push(h.ID, action, h.URL, body, false)
		if s.faults.Duplicates {
			s.ob.push(h.ID, action, h.URL, body, true)
		}
	}
}

// Delivery.

// Delivery is one webhook delivery and its attempts.
type Delivery struct {
	ID        int
	WebhookID string
	Action    string
	URL       string
	Body      []byte // the envelope, exactly as sent
	Attempts  int
	Status    int    // HTTP status of the last attempt; 0 for a network error or timeout
	Err       string // error of the last attempt
	Delivered bool   // answered 200
	Failed    bool   // no 200 after the retries
	Duplicate bool   // an injected duplicate (Faults.Duplicates or Redeliver)
}

// Envelope is a webhook body: v3.6 carries organization_id, the legacy
// envelope (Faults.Legacy) license_id.
type Envelope struct {
	WebhookID      string          `json:"webhook_id"`
	SecretKey      string          `json:"secret_key"`
	Action         string          `json:"action"`
	OrganizationID string          `json:"organization_id,omitempty"`
	LicenseID      int             `json:"license_id,omitempty"`
	Payload        json.RawMessage `json:"payload"`
	AdditionalData json.RawMessage `json:"additional_data"`
}

// Envelope decodes the delivery's body.
func (d Delivery) Envelope() (Envelope, error) {
	var e Envelope
	err := json.Unmarshal(d.Body, &e)
	return e, err
}

type job struct {
	d     *Delivery
	due   time.Time
	seq   int
	tries int
}

// outbox delivers webhooks from one goroutine, earliest due first.
type outbox struct {
	s      *Sim
	mu     sync.Mutex
	all    []*Delivery
	queue  []*job
	seq    int
	busy   bool
	paused bool
	wake   chan struct{}
	ctx    context.Context
	stop   context.CancelFunc
	done   chan struct{}
}

func newOutbox(s *Sim) *outbox {
	ctx, stop := context.WithCancel(context.Background())
	o := &outbox{s: s, wake: make(chan struct{}, 1), ctx: ctx, stop: stop, done: make(chan struct{})}
	go o.run()
	return o
}

func (o *outbox) close() {
	o.stop()
	<-o.done
}

func (o *outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) push(hook, action, url string, body []byte, dup bool) {
	o.mu.Lock()
	d := &Delivery{ID: len(o.all) + 1, WebhookID: hook, Action: action, URL: url, Body: body, Duplicate: dup}
	o.all = append(o.all, d)
	o.seq++
	o.queue = append(o.queue, &job{d: d, due: time.Now(), seq: o.seq})
	o.mu.Unlock()
	o.poke()
}

func (o *outbox) run() {
	defer close(o.done)
	for {
		o.mu.Lock()
		var j *job
		wait := time.Hour
		if !o.paused && len(o.queue) > 0 {
			sort.Slice(o.queue, func(a, b int) bool {
				qa, qb := o.queue[a], o.queue[b]
				if !qa.due.Equal(qb.due) {
					return qa.due.Before(qb.due)
				}
				return qa.seq < qb.seq
			})
			if d := time.Until(o.queue[0].due); d <= 0 {
				j, o.queue, o.busy = o.queue[0], o.queue[1:], true
			} else {
				wait = d
			}
		}
		o.mu.Unlock()
		if j != nil {
			o.attempt(j)
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-o.wake:
		case <-t.C:
		case <-o.ctx.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

func (o *outbox) attempt(j *job) {
	ctx, cancel := context.WithTimeout(o.ctx, o.s.cfg.Timeout)
	defer cancel()
	status, msg := 0, ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.d.URL, bytes.NewReader(j.d.Body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "LiveChat-Webhooks (livechatsim)")
		var resp *http.Response
		if resp, err = o.s.cfg.Client.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			status = resp.StatusCode
		}
	}
	if err != nil {
		msg = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			msg = "timeout: " + msg
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	j.d.Attempts++
	j.d.Status, j.d.Err = status, msg
	retry := o.s.cfg.Retry
	switch {
	case status == http.StatusOK:
		j.d.Delivered = true
	case j.tries < len(retry) && o.ctx.Err() == nil:
		j.due = time.Now().Add(retry[j.tries])
		j.tries++
		o.queue = append(o.queue, j)
	default:
		j.d.Failed = true
	}
	o.busy = false
}

func (o *outbox) list() []Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Delivery, len(o.all))
	for i, d := range o.all {
		out[i] = *d
	}
	return out
}

func (o *outbox) idle() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue) == 0 && !o.busy
}

func (o *outbox) setPaused(p bool) {
	o.mu.Lock()
	o.paused = p
	o.mu.Unlock()
	o.poke()
}
