package livechatsim

import (
	"maps"
	"slices"
	"time"
)

// obj is a JSON object as the simulator writes it.
type obj = map[string]any

// Priorities and statuses as LiveChat spells them.
const (
	Accepting    = "accepting_chats"
	NotAccepting = "not_accepting_chats"
	Offline      = "offline"
)

var priorities = map[string]int{"first": 0, "normal": 1, "last": 2, "supervisor": 3}

type group struct {
	id   int
	name string
	lang string
}

// agent is a human agent or a bot (bot set): bots act as agents in the Agent API.
type agent struct {
	id, name, accountID, pat, role, avatar, job string
	status                                      string
	max                                         int
	groups                                      map[int]string // group id → priority
	bot                                         bool
	secret, owner, defPrio                      string // bots: secret, owner_client_id, default_group_priority
}

type customer struct {
	id, name, email, avatar, phone string
	created                        time.Time
	fields                         []map[string]string
	cst                            string // the __lc_cst cookie value
	lastAgent, lastCustomer        time.Time
}

type member struct {
	id, typ string // typ: agent or customer
	present bool
	vis     string // all or agents
	seen    time.Time
}

type thread struct {
	id      string
	created time.Time
	active  bool
	users   []string
	events  []*Event
	props   obj
	access  []int
	tags    []string
	queued  time.Time // zero when not queued
	qseq    int       // queue order
	n       int       // last event number
}

type chat struct {
	id        string
	users     []*member
	props     obj
	access    []int
	threads   []*thread
	followers map[string]bool
}

func (c *chat) last() *thread {
	if len(c.threads) == 0 {
		return nil
	}
	return c.threads[len(c.threads)-1]
}

// thread finds one of the chat's threads by id.
func (c *chat) thread(id string) (*thread, error) {
	i := slices.IndexFunc(c.threads, func(t *thread) bool { return t.id == id })
	if i < 0 {
		return nil, notFound("Thread")
	}
	return c.threads[i], nil
}

func (c *chat) active() bool {
	t := c.last()
	return t != nil && t.active
}

func (c *chat) member(id string) *member {
	for _, m := range c.users {
		if m.id == id {
			return m
		}
	}
	return nil
}

func (c *chat) present(id string) bool {
	m := c.member(id)
	return m != nil && m.present
}

func (c *chat) customer() *member {
	for _, m := range c.users {
		if m.typ == "customer" {
			return m
		}
	}
	return nil
}

// presentIDs lists the users present in the chat (chat_presence_user_ids).
func (c *chat) presentIDs() []string {
	ids := []string{}
	for _, m := range c.users {
		if m.present {
			ids = append(ids, m.id)
		}
	}
	return ids
}

// Event is one chat event. Fields holds the type-specific fields (url, name,
// content_type, size, template_id, elements, system_message_type, text_vars,
// postback, content, form_id, fields, alternative_text, ...).
type Event struct {
	ID         string
	CustomID   string
	Type       string
	Text       string
	AuthorID   string // empty for system messages
	Visibility string // all or agents
	CreatedAt  time.Time
	Properties map[string]any
	Fields     map[string]any
}

func (e *Event) json() obj {
	o := obj{}
	maps.Copy(o, e.Fields)
	o["id"] = e.ID
	o["type"] = e.Type
	o["created_at"] = stamp(e.CreatedAt)
	o["visibility"] = e.Visibility
	if e.AuthorID != "" {
		o["author_id"] = e.AuthorID
	}
	if e.CustomID != "" {
		o["custom_id"] = e.CustomID
	}
	if e.Type == "message" || e.Text != "" {
		o["text"] = e.Text
	}
	if e.Properties != nil {
		o["properties"] = e.Properties
	}
	return o
}

// stamp formats a LiveChat timestamp: RFC 3339 in UTC with microseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Snapshot types of the Go API.

// Chat is a snapshot of a chat with all its threads, oldest first.
type Chat struct {
	ID         string
	Users      []User
	Access     []int // group ids
	Properties map[string]any
	Threads    []Thread
}

// Active reports whether the chat's last thread is active.
func (c Chat) Active() bool { return len(c.Threads) > 0 && c.Threads[len(c.Threads)-1].Active }

// Last is the chat's latest thread (zero when there is none).
func (c Chat) Last() Thread {
	if len(c.Threads) == 0 {
		return Thread{}
	}
	return c.Threads[len(c.Threads)-1]
}

// Events lists the events of every thread, oldest first.
func (c Chat) Events() []Event {
	var evs []Event
	for _, t := range c.Threads {
		evs = append(evs, t.Events...)
	}
	return evs
}

// Present lists the ids of the users present in the chat.
func (c Chat) Present() []string {
	var ids []string
	for _, u := range c.Users {
		if u.Present {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// User is a chat user: a customer, an agent or a bot (type "agent").
type User struct {
	ID         string
	Type       string // customer or agent
	Name       string
	Email      string
	Present    bool
	Visibility string
}

// Thread is a snapshot of one thread.
type Thread struct {
	ID        string
	Active    bool
	CreatedAt time.Time
	UserIDs   []string
	Access    []int
	Events    []Event
	Queue     *Queue // nil unless queued
}

// Queue describes a queued thread.
type Queue struct {
	Position int
	WaitTime int // seconds waited so far
	QueuedAt time.Time
}

// Customer is a snapshot of a customer.
type Customer struct {
	ID            string
	Name          string
	Email         string
	Avatar        string
	Phone         string
	CreatedAt     time.Time
	SessionFields []map[string]string
}

func copyEvent(e *Event) Event {
	c := *e
	c.Fields = maps.Clone(e.Fields)
	c.Properties = maps.Clone(e.Properties)
	return c
}

func (s *Sim) snapshot(c *chat) Chat {
	out := Chat{ID: c.id, Access: slices.Clone(c.access), Properties: cloneJSON(c.props)}
	for _, m := range c.users {
		u := User{ID: m.id, Type: m.typ, Present: m.present, Visibility: m.vis}
		if a := s.agents[m.id]; a != nil {
			u.Name, u.Email = a.name, a.id
			if a.bot {
				u.Email = ""
			}
		} else if cu := s.customers[m.id]; cu != nil {
			u.Name, u.Email = cu.name, cu.email
		}
		out.Users = append(out.Users, u)
	}
	for _, t := range c.threads {
		th := Thread{ID: t.id, Active: t.active, CreatedAt: t.created, UserIDs: slices.Clone(t.users), Access: slices.Clone(t.access)}
		for _, e := range t.events {
			th.Events = append(th.Events, copyEvent(e))
		}
		if q := s.queue(t); q != nil {
			th.Queue = &Queue{Position: q["position"].(int), WaitTime: q["wait_time"].(int), QueuedAt: t.queued}
		}
		out.Threads = append(out.Threads, th)
	}
	return out
}

func cloneJSON(o obj) obj {
	if o == nil {
		return nil
	}
	c := obj{}
	for k, v := range o {
		if m, ok := v.(obj); ok {
			v = cloneJSON(m)
		}
		c[k] = v
	}
	return c
}

// Wire rendering. view is "agent" or "customer": customers never see
// events with visibility "agents".

func (s *Sim) userJSON(m *member, view string) obj {
	if m.typ == "customer" {
		o := s.customerJSON(s.customers[m.id], "user")
		o["present"] = m.present
		o["events_seen_up_to"] = stamp(m.seen)
		return o
	}
	a := s.agents[m.id]
	o := obj{"id": m.id, "type": "agent", "name": a.name, "present": m.present,
		"events_seen_up_to": stamp(m.seen), "avatar": a.avatar}
	if view == "agent" {
		o["visibility"] = m.vis
		if !a.bot {
			o["email"] = a.id
		}
	}
	return o
}

// customerJSON renders a customer; kind is "user" (inside a chat), "agent"
// (get_customer on the Agent API) or "self" (get_customer on the Customer API).
func (s *Sim) customerJSON(c *customer, kind string) obj {
	o := obj{"id": c.id, "type": "customer"}
	for k, v := range map[string]string{"name": c.name, "email": c.email, "avatar": c.avatar, "phone_number": c.phone} {
		if v != "" {
			o[k] = v
		}
	}
	fields := []any{}
	for _, f := range c.fields {
		fields = append(fields, f)
	}
	o["session_fields"] = fields
	if kind == "self" {
		return o
	}
	o["created_at"] = stamp(c.created)
	chats, threads := 0, 0
	var ids []string
	for _, id := range s.chatOrder {
		ch := s.chats[id]
		if ch.member(c.id) != nil {
			chats++
			threads += len(ch.threads)
			ids = append(ids, ch.id)
		}
	}
	o["statistics"] = obj{"chats_count": chats, "threads_count": threads, "visits_count": 1}
	if !c.lastAgent.IsZero() {
		o["agent_last_event_created_at"] = stamp(c.lastAgent)
	}
	if !c.lastCustomer.IsZero() {
		o["customer_last_event_created_at"] = stamp(c.lastCustomer)
	}
	if kind == "agent" && len(ids) > 0 {
		o["chat_ids"] = ids
	}
	return o
}

func visible(e *Event, view string) bool { return view == "agent" || e.Visibility == "all" }

func (s *Sim) threadJSON(c *chat, t *thread, view string, events bool) obj {
	o := obj{"id": t.id, "created_at": stamp(t.created), "active": t.active,
		"user_ids": slices.Clone(t.users), "properties": cloneJSON(t.props),
		"access": obj{"group_ids": slices.Clone(t.access)}}
	if events {
		evs := []any{}
		for _, e := range t.events {
			if visible(e, view) {
				evs = append(evs, e.json())
			}
		}
		o["events"] = evs
	}
	if len(t.tags) > 0 {
		o["tags"] = slices.Clone(t.tags)
	}
	if i := slices.Index(c.threads, t); i > 0 {
		o["previous_thread_id"] = c.threads[i-1].id
	}
	if i := slices.Index(c.threads, t); i >= 0 && i < len(c.threads)-1 {
		o["next_thread_id"] = c.threads[i+1].id
	}
	if q := s.queue(t); q != nil {
		o["queue"] = q
	}
	return o
}

func (s *Sim) usersJSON(c *chat, view string) []any {
	us := []any{}
	for _, m := range c.users {
		us = append(us, s.userJSON(m, view))
	}
	return us
}

// chatJSON renders a chat with one thread (get_chat, incoming_chat); with
// t nil it renders every thread under "threads" (driver endpoints).
func (s *Sim) chatJSON(c *chat, t *thread, view, requester string) obj {
	o := obj{"id": c.id, "users": s.usersJSON(c, view), "properties": cloneJSON(c.props),
		"access": obj{"group_ids": slices.Clone(c.access)}}
	if t != nil {
		o["thread"] = s.threadJSON(c, t, view, true)
	} else {
		ts := []any{}
		for _, th := range c.threads {
			ts = append(ts, s.threadJSON(c, th, view, true))
		}
		o["threads"] = ts
	}
	if view == "agent" && requester != "" {
		o["is_followed"] = c.followers[requester]
	}
	return o
}

// summaryJSON renders a chat summary for list_chats.
func (s *Sim) summaryJSON(c *chat, view, requester string) obj {
	o := obj{"id": c.id, "users": s.usersJSON(c, view), "properties": cloneJSON(c.props),
		"access": obj{"group_ids": slices.Clone(c.access)}}
	if t := c.last(); t != nil {
		o["last_thread_summary"] = s.threadJSON(c, t, view, false)
		delete(o["last_thread_summary"].(obj), "previous_thread_id")
		delete(o["last_thread_summary"].(obj), "next_thread_id")
	}
	per := obj{}
	for _, t := range c.threads {
		for _, e := range t.events {
			if visible(e, view) {
				per[e.Type] = obj{"thread_id": t.id, "thread_created_at": stamp(t.created), "event": e.json()}
			}
		}
	}
	o["last_event_per_type"] = per
	if view == "agent" {
		o["is_followed"] = c.followers[requester]
	}
	return o
}

// queue renders thread.queue, or nil when the thread is not queued. The
// position counts queued threads sharing a group; wait_time is the time
// waited so far, in seconds.
func (s *Sim) queue(t *thread) obj {
	if t.queued.IsZero() || !t.active {
		return nil
	}
	pos := 1
	for _, c := range s.chats {
		o := c.last()
		if o == nil || o == t || o.queued.IsZero() || !o.active || o.qseq > t.qseq {
			continue
		}
		if overlap(o.access, t.access) {
			pos++
		}
	}
	return obj{"position": pos, "wait_time": int(s.now().Sub(t.queued) / time.Second), "queued_at": stamp(t.queued)}
}

func overlap(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
