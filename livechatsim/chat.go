package livechatsim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// widgetClient is the client_id of chats customers start from the
// simulated chat widget (driver endpoints).
const widgetClient = "c5e4f61e1a6c3b1521b541bc5c5a2ac5"

// source describes what triggered a webhook, for filters.
type source struct {
	client string // client_id behind the action; empty: system
	author string // incoming_event: customer, agent, or empty for system messages
	agent  string // routing_status_set: the agent
}

func (a *actor) src() source { return source{client: a.client} }

// chatIn is the chat object of start_chat and resume_chat requests.
type chatIn struct {
	ID         string `json:"id"`
	Properties obj    `json:"properties"`
	Access     *struct {
		GroupIDs []int `json:"group_ids"`
	} `json:"access"`
	Users []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"users"`
	Thread *struct {
		Events     []obj `json:"events"`
		Properties obj   `json:"properties"`
	} `json:"thread"`
}

type startIn struct {
	Chat       chatIn `json:"chat"`
	Active     *bool  `json:"active"`
	Continuous bool   `json:"continuous"`
}

var adminRoles = map[string]bool{"owner": true, "viceowner": true, "administrator": true}

// canSee reports whether an agent has access to a chat.
func (s *Sim) canSee(a *agent, c *chat) bool {
	if adminRoles[a.role] || c.member(a.id) != nil || slices.Contains(c.access, 0) {
		return true
	}
	for g := range a.groups {
		if slices.Contains(c.access, g) {
			return true
		}
	}
	return false
}

// find returns a chat the actor may read, or not_found/missing_access.
func (s *Sim) find(who *actor, id string) (*chat, error) {
	c := s.chats[id]
	if c == nil {
		return nil, notFound("Chat")
	}
	if who.isCustomer() {
		if c.member(who.id) == nil {
			return nil, notFound("Chat")
		}
		return c, nil
	}
	if !s.canSee(s.agents[who.id], c) {
		return nil, errf("missing_access", "Requester has no access to the chat")
	}
	return c, nil
}

func (s *Sim) checkGroups(ids []int) error {
	for _, g := range ids {
		if s.groups[g] == nil {
			return errf("group_not_found", "Group not found")
		}
	}
	return nil
}

func (s *Sim) name(id string) string {
	if a := s.agents[id]; a != nil {
		return a.name
	}
	if c := s.customers[id]; c != nil && c.name != "" {
		return c.name
	}
	return "Customer"
}

func (s *Sim) join(c *chat, id, typ, vis string) *member {
	m := c.member(id)
	if m == nil {
		m = &member{id: id, typ: typ}
		c.users = append(c.users, m)
	}
	m.present, m.vis, m.seen = true, vis, s.now()
	if t := c.last(); t != nil && t.active && !slices.Contains(t.users, id) {
		t.users = append(t.users, id)
	}
	return m
}

func (s *Sim) leave(c *chat, id string) {
	if m := c.member(id); m != nil {
		m.present = false
	}
	if t := c.last(); t != nil && t.active {
		t.users = slices.DeleteFunc(t.users, func(u string) bool { return u == id })
	}
}

func (s *Sim) newThread(c *chat, access []int, props obj, active bool) *thread {
	if props == nil {
		props = obj{}
	}
	t := &thread{id: s.chatID(), created: s.now(), active: active, access: slices.Clone(access), props: props}
	for _, m := range c.users {
		if m.present {
			t.users = append(t.users, m.id)
		}
	}
	c.threads = append(c.threads, t)
	return t
}

// parseEvents validates initial events and their authors.
func (s *Sim) parseEvents(who *actor, in []obj, users []string) ([]*Event, error) {
	var evs []*Event
	for _, raw := range in {
		e, err := s.parseEvent(raw, !who.isCustomer())
		if err != nil {
			return nil, err
		}
		e.AuthorID = who.id
		if a, _ := raw["author_id"].(string); a != "" && !who.isCustomer() {
			if a != who.id && !slices.Contains(users, a) {
				return nil, badRequest("Event author %s must be the requester or one of chat.users", a)
			}
			e.AuthorID = a
		}
		if e.Type == "system_message" {
			e.AuthorID = ""
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// startChat serves start_chat on both APIs.
func (s *Sim) startChat(who *actor, in startIn) (obj, error) {
	groups := []int{0}
	if in.Chat.Access != nil && len(in.Chat.Access.GroupIDs) > 0 {
		groups = in.Chat.Access.GroupIDs
	}
	if err := s.checkGroups(groups); err != nil {
		return nil, err
	}
	active := in.Active == nil || *in.Active
	c := &chat{id: s.chatID(), access: slices.Clone(groups), followers: map[string]bool{},
		props: chatProps(in.Chat.Properties, who.client, in.Continuous)}
	var listed []string
	if who.isCustomer() {
		if active && !in.Continuous && !s.online(groups) {
			return nil, errf("groups_offline", "Groups offline")
		}
		s.join(c, who.id, "customer", "all")
	} else {
		s.join(c, who.id, "agent", "all")
		customers, agents := 0, 0
		for _, u := range in.Chat.Users {
			switch u.Type {
			case "customer":
				if customers++; customers > 1 {
					return nil, badRequest("Chat can have at most one customer")
				}
				if s.customers[u.ID] == nil {
					return nil, notFound("Customer")
				}
				s.join(c, u.ID, "customer", "all")
			case "agent":
				if agents++; agents > 4 {
					return nil, badRequest("Chat can have at most 4 additional agents")
				}
				if s.agents[u.ID] == nil {
					return nil, notFound("Agent")
				}
				s.join(c, u.ID, "agent", "all")
			default:
				return nil, badRequest("Invalid user type %q", u.Type)
			}
			listed = append(listed, u.ID)
		}
	}
	var events []obj
	var tprops obj
	if in.Chat.Thread != nil {
		events, tprops = in.Chat.Thread.Events, in.Chat.Thread.Properties
	}
	evs, err := s.parseEvents(who, events, listed)
	if err != nil {
		return nil, err
	}
	t := s.newThread(c, groups, tprops, active)
	s.chats[c.id] = c
	s.chatOrder = append(s.chatOrder, c.id)
	out := obj{"chat_id": c.id, "thread_id": t.id}
	if ids := s.appendAll(c, t, evs); len(ids) > 0 {
		out["event_ids"] = ids
	}
	if who.isCustomer() && active {
		s.route(c, t)
	}
	s.emit("incoming_chat", c, obj{"chat": s.chatJSON(c, t, "agent", "")}, who.src())
	return out, nil
}

func chatProps(in obj, client string, continuous bool) obj {
	p := cloneJSON(in)
	if p == nil {
		p = obj{}
	}
	routing, _ := p["routing"].(obj)
	if routing == nil {
		routing = obj{}
	}
	routing["continuous"] = continuous
	p["routing"] = routing
	if client != "" {
		src, _ := p["source"].(obj)
		if src == nil {
			src = obj{}
		}
		src["client_id"] = client
		p["source"] = src
	}
	return p
}

// route assigns an accepting agent to a new thread or queues it.
func (s *Sim) route(c *chat, t *thread) {
	if a := s.pick(c.access, c); a != nil {
		s.join(c, a.id, "agent", "all")
		return
	}
	s.enqueue(t)
}

func (s *Sim) enqueue(t *thread) {
	s.seq++
	t.queued, t.qseq = s.now(), s.seq
}

func (s *Sim) appendAll(c *chat, t *thread, evs []*Event) []string {
	var ids []string
	for _, e := range evs {
		s.append(c, t, e)
		ids = append(ids, e.ID)
	}
	return ids
}

// append adds an event to a thread, stamping id and time.
func (s *Sim) append(c *chat, t *thread, e *Event) {
	t.n++
	e.ID = fmt.Sprintf("%s_%d", t.id, t.n)
	e.CreatedAt = s.now()
	t.events = append(t.events, e)
	if m := c.member(e.AuthorID); m != nil {
		m.seen = e.CreatedAt
	}
	if cm := c.customer(); cm != nil && e.AuthorID != "" {
		if cu := s.customers[cm.id]; cu != nil {
			if e.AuthorID == cm.id {
				cu.lastCustomer = e.CreatedAt
			} else {
				cu.lastAgent = e.CreatedAt
			}
		}
	}
}

// post adds an event and fires incoming_event.
func (s *Sim) post(c *chat, t *thread, e *Event, src source) {
	s.append(c, t, e)
	src.author = ""
	if s.customers[e.AuthorID] != nil {
		src.author = "customer"
	} else if s.agents[e.AuthorID] != nil {
		src.author = "agent"
	}
	s.emit("incoming_event", c, obj{"chat_id": c.id, "thread_id": t.id, "event": e.json()}, src)
}

// system posts a system_message.
func (s *Sim) system(c *chat, t *thread, typ, text string, src source) {
	s.post(c, t, &Event{Type: "system_message", Text: text, Visibility: "all",
		Fields: obj{"system_message_type": typ}}, src)
}

func (s *Sim) resumeChat(who *actor, in startIn) (obj, error) {
	c, err := s.find(who, in.Chat.ID)
	if err != nil {
		return nil, err
	}
	if c.active() {
		return nil, badRequest("Chat is already active")
	}
	groups := c.access
	if in.Chat.Access != nil && len(in.Chat.Access.GroupIDs) > 0 {
		groups = in.Chat.Access.GroupIDs
	}
	if err := s.checkGroups(groups); err != nil {
		return nil, err
	}
	active := in.Active == nil || *in.Active
	if who.isCustomer() && active && !in.Continuous && !s.online(groups) {
		return nil, errf("groups_offline", "Groups offline")
	}
	var listed []string
	for _, u := range in.Chat.Users {
		listed = append(listed, u.ID)
	}
	var events []obj
	var tprops obj
	if in.Chat.Thread != nil {
		events, tprops = in.Chat.Thread.Events, in.Chat.Thread.Properties
	}
	evs, err := s.parseEvents(who, events, listed)
	if err != nil {
		return nil, err
	}
	c.access = slices.Clone(groups)
	for k, v := range in.Chat.Properties {
		c.props[k] = v
	}
	if r, ok := c.props["routing"].(obj); ok {
		r["continuous"] = in.Continuous
	}
	for _, m := range c.users {
		if m.typ == "agent" {
			m.present = false
		}
	}
	if !who.isCustomer() {
		s.join(c, who.id, "agent", "all")
		for _, u := range in.Chat.Users {
			if s.agents[u.ID] != nil {
				s.join(c, u.ID, "agent", "all")
			}
		}
	}
	t := s.newThread(c, groups, tprops, active)
	out := obj{"thread_id": t.id}
	if ids := s.appendAll(c, t, evs); len(ids) > 0 {
		out["event_ids"] = ids
	}
	if who.isCustomer() && active {
		s.route(c, t)
	}
	s.emit("incoming_chat", c, obj{"chat": s.chatJSON(c, t, "agent", "")}, who.src())
	return out, nil
}

func (s *Sim) sendEvent(who *actor, chatID string, raw obj, attach bool) (obj, error) {
	c, err := s.find(who, chatID)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, badRequest("`event` is required")
	}
	m := c.member(who.id)
	if m == nil || !m.present {
		return nil, errf("missing_access", "Requester is not user of the chat")
	}
	t := c.last()
	if !t.active && !(attach && who.isCustomer()) {
		return nil, errf("chat_inactive", "Chat is inactive")
	}
	e, err := s.parseEvent(raw, !who.isCustomer())
	if err != nil {
		return nil, err
	}
	if m.vis == "agents" && e.Visibility == "all" {
		return nil, badRequest("User with visibility `agents` cannot send events with visibility `all`")
	}
	if e.Type != "system_message" {
		e.AuthorID = who.id
	}
	s.post(c, t, e, who.src())
	return obj{"event_id": e.ID}, nil
}

func (s *Sim) deactivate(who *actor, id string, ignore bool) error {
	c, err := s.find(who, id)
	if err != nil {
		return err
	}
	if !c.active() {
		return errf("chat_inactive", "Chat is inactive")
	}
	if (who.isCustomer() || !ignore) && !c.present(who.id) {
		return errf("missing_access", "Requester is not user of the chat")
	}
	t := c.last()
	typ := "manual_archived_agent"
	if who.isCustomer() {
		typ = "manual_archived_customer"
	}
	s.system(c, t, typ, s.name(who.id)+" archived the chat", who.src())
	t.active, t.queued = false, time.Time{}
	s.emit("chat_deactivated", c, obj{"chat_id": c.id, "thread_id": t.id, "user_id": who.id}, who.src())
	s.drain()
	return nil
}

type transferIn struct {
	ID     string `json:"id"`
	Target *struct {
		Type string            `json:"type"`
		IDs  []json.RawMessage `json:"ids"`
	} `json:"target"`
	IgnoreAgentsAvailability bool  `json:"ignore_agents_availability"`
	IgnoreRequesterPresence  bool  `json:"ignore_requester_presence"`
	Force                    *bool `json:"force"` // before v3.4
}

func (s *Sim) transfer(who *actor, in transferIn) error {
	c, err := s.find(who, in.ID)
	if err != nil {
		return err
	}
	if !c.active() {
		return errf("chat_inactive", "Chat is inactive")
	}
	if !in.IgnoreRequesterPresence && !c.present(who.id) {
		return errf("missing_access", "Requester is not user of the chat")
	}
	force := in.IgnoreAgentsAvailability || (in.Force != nil && *in.Force)
	t := c.last()
	typ := "group"
	groups, agentIDs := slices.Clone(c.access), []string{}
	if in.Target != nil {
		typ = in.Target.Type
		switch typ {
		case "group":
			groups = nil
			for _, raw := range in.Target.IDs {
				var g int
				if json.Unmarshal(raw, &g) != nil {
					return badRequest("`target.ids` must be group ids (numbers)")
				}
				groups = append(groups, g)
			}
			if len(groups) == 0 {
				return badRequest("`target.ids` is required")
			}
			if err := s.checkGroups(groups); err != nil {
				return err
			}
		case "agent":
			for _, raw := range in.Target.IDs {
				var id string
				if json.Unmarshal(raw, &id) != nil {
					return badRequest("`target.ids` must be agent ids (strings)")
				}
				agentIDs = append(agentIDs, id)
			}
			if len(agentIDs) != 1 {
				return badRequest("`target.ids` must hold exactly one agent")
			}
		default:
			return badRequest("`target.type` must be group or agent")
		}
	}
	var to *agent
	if typ == "agent" {
		to = s.agents[agentIDs[0]]
		if to == nil {
			return notFound("Agent")
		}
		if !s.canSee(to, c) {
			return errf("missing_access", "Target agent has no access to the chat")
		}
		if !force && !s.available(to) {
			return errf("agent_offline", "Cannot assign requested agent: agent is not accepting chats")
		}
	} else {
		to = s.pick(groups, c)
		if to == nil && !force {
			return badRequest("Cannot assign any agent from requested groups")
		}
	}
	for _, m := range c.users {
		if m.typ == "agent" && m.present && (to == nil || m.id != to.id) {
			s.leave(c, m.id)
		}
	}
	c.access, t.access = slices.Clone(groups), slices.Clone(groups)
	t.queued = time.Time{}
	var targets []string
	payload := obj{"chat_id": c.id, "thread_id": t.id, "requester_id": who.id, "reason": "manual"}
	if to != nil {
		s.join(c, to.id, "agent", "all")
		agentIDs = []string{to.id}
		targets = append(targets, to.name)
	} else {
		s.enqueue(t)
		for _, g := range groups {
			targets = append(targets, s.groups[g].name)
		}
	}
	s.system(c, t, "chat_transferred", s.name(who.id)+" transferred the chat to "+strings.Join(targets, ", "), who.src())
	payload["transferred_to"] = obj{"group_ids": groups, "agent_ids": agentIDs}
	if q := s.queue(t); q != nil {
		payload["queue"] = q
	}
	s.emit("chat_transferred", c, payload, who.src())
	s.drain()
	return nil
}

type userIn struct {
	ChatID                  string `json:"chat_id"`
	UserID                  string `json:"user_id"`
	UserType                string `json:"user_type"`
	Visibility              string `json:"visibility"`
	IgnoreRequesterPresence bool   `json:"ignore_requester_presence"`
}

func (s *Sim) addUser(who *actor, in userIn) error {
	c, err := s.find(who, in.ChatID)
	if err != nil {
		return err
	}
	if !c.active() {
		return errf("chat_inactive", "Chat is inactive")
	}
	self := in.UserID == who.id
	if !self && !in.IgnoreRequesterPresence && !c.present(who.id) {
		return errf("missing_access", "Requester is not user of the chat")
	}
	vis := in.Visibility
	if vis == "" {
		vis = "all"
	}
	if vis != "all" && vis != "agents" {
		return badRequest("`visibility` must be all or agents")
	}
	var typ string
	switch in.UserType {
	case "customer":
		if s.customers[in.UserID] == nil {
			return notFound("Customer")
		}
		if vis != "all" {
			return badRequest("Customer must be added with visibility `all`")
		}
		if cm := c.customer(); cm != nil && cm.id != in.UserID {
			return badRequest("Chat already has a customer")
		}
		typ = "customer_added"
	case "agent":
		a := s.agents[in.UserID]
		if a == nil {
			return notFound("Agent")
		}
		if !s.canSee(a, c) {
			return errf("missing_access", "Agent has no access to the chat")
		}
		typ = "agent_added"
		if self {
			typ = "agent_joined"
		}
	default:
		return badRequest("`user_type` must be agent or customer")
	}
	if c.present(in.UserID) {
		return badRequest("User is already in the chat")
	}
	m := s.join(c, in.UserID, in.UserType, vis)
	t := c.last()
	if in.UserType == "agent" {
		t.queued = time.Time{}
	}
	text := s.name(who.id) + " added " + s.name(in.UserID) + " to the chat"
	if self {
		text = s.name(who.id) + " joined the chat"
	}
	s.system(c, t, typ, text, who.src())
	s.emit("user_added_to_chat", c, obj{"chat_id": c.id, "thread_id": t.id, "user": s.userJSON(m, "agent"),
		"user_type": in.UserType, "reason": "manual", "requester_id": who.id}, who.src())
	return nil
}

func (s *Sim) removeUser(who *actor, in userIn) error {
	c, err := s.find(who, in.ChatID)
	if err != nil {
		return err
	}
	if !c.active() {
		return errf("chat_inactive", "Chat is inactive")
	}
	self := in.UserID == who.id
	if !self && !in.IgnoreRequesterPresence && !c.present(who.id) {
		return errf("missing_access", "Requester is not user of the chat")
	}
	if in.UserType == "customer" {
		return badRequest("Customer cannot be removed from the chat")
	}
	if in.UserType != "agent" {
		return badRequest("`user_type` must be agent")
	}
	if !c.present(in.UserID) {
		return badRequest("User is not in the chat")
	}
	s.leave(c, in.UserID)
	t := c.last()
	typ, text := "agent_removed", s.name(who.id)+" removed "+s.name(in.UserID)+" from the chat"
	if self {
		typ, text = "agent_left", s.name(who.id)+" left the chat"
	}
	s.system(c, t, typ, text, who.src())
	s.emit("user_removed_from_chat", c, obj{"chat_id": c.id, "thread_id": t.id, "user_id": in.UserID,
		"user_type": "agent", "reason": "manual", "requester_id": who.id}, who.src())
	s.drain()
	return nil
}

// Routing.

// load counts the active threads an agent is present in.
func (s *Sim) load(a *agent) int {
	n := 0
	for _, c := range s.chats {
		if c.active() && c.present(a.id) {
			n++
		}
	}
	return n
}

func (s *Sim) available(a *agent) bool { return a.status == Accepting && s.load(a) < a.max }

// rank is an agent's best priority over groups; -1 when not routable there.
func rank(a *agent, groups []int) int {
	best := -1
	for _, g := range groups {
		p, ok := a.groups[g]
		if !ok || p == "supervisor" {
			continue
		}
		if r := priorities[p]; best < 0 || r < best {
			best = r
		}
	}
	return best
}

// pick chooses the agent or bot to assign: accepting chats, a member of
// one of the groups (not as supervisor), below max_chats_count and not
// already present in c; by priority first > normal > last, then by fewest
// active chats, then by creation order.
func (s *Sim) pick(groups []int, c *chat) *agent {
	type cand struct {
		a          *agent
		rank, load int
		i          int
	}
	var cs []cand
	for i, id := range s.order {
		a := s.agents[id]
		r := rank(a, groups)
		if r < 0 || a.status != Accepting || (c != nil && c.present(a.id)) {
			continue
		}
		if l := s.load(a); l < a.max {
			cs = append(cs, cand{a, r, l, i})
		}
	}
	if len(cs) == 0 {
		return nil
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].rank != cs[j].rank {
			return cs[i].rank < cs[j].rank
		}
		if cs[i].load != cs[j].load {
			return cs[i].load < cs[j].load
		}
		return cs[i].i < cs[j].i
	})
	return cs[0].a
}

// online reports whether some agent of the groups accepts chats.
func (s *Sim) online(groups []int) bool {
	for _, a := range s.agents {
		if a.status == Accepting && rank(a, groups) >= 0 {
			return true
		}
	}
	return false
}

// drain assigns queued threads, oldest first, to agents that can take them.
func (s *Sim) drain() {
	var queued []*chat
	for _, c := range s.chats {
		if t := c.last(); t.active && !t.queued.IsZero() {
			queued = append(queued, c)
		}
	}
	sort.Slice(queued, func(i, j int) bool { return queued[i].last().qseq < queued[j].last().qseq })
	for _, c := range queued {
		a := s.pick(c.access, c)
		if a == nil {
			continue
		}
		t := c.last()
		t.queued = time.Time{}
		m := s.join(c, a.id, "agent", "all")
		s.emit("user_added_to_chat", c, obj{"chat_id": c.id, "thread_id": t.id, "user": s.userJSON(m, "agent"),
			"user_type": "agent", "reason": "assigned"}, source{})
		s.emit("chat_transferred", c, obj{"chat_id": c.id, "thread_id": t.id, "reason": "assigned",
			"transferred_to": obj{"group_ids": slices.Clone(c.access), "agent_ids": []string{a.id}}}, source{})
	}
}

// setStatus serves set_routing_status.
func (s *Sim) setStatus(who *actor, id, status string) error {
	if id == "" {
		id = who.id
	}
	a := s.agents[id]
	if a == nil {
		return notFound("Agent")
	}
	status = strings.ReplaceAll(status, " ", "_")
	switch status {
	case Accepting, NotAccepting:
	case Offline:
		if !a.bot {
			return badRequest("Only bots can be set to offline")
		}
	default:
		return badRequest("`status` must be accepting_chats or not_accepting_chats")
	}
	if id != who.id && !adminRoles[s.roleOf(who)] && !(a.bot && s.ownsBot(who, a)) {
		return errf("authorization", "Cannot set routing status of another agent")
	}
	a.status = status
	s.emit("routing_status_set", nil, obj{"agent_id": a.id, "status": strings.ReplaceAll(status, "_", " ")},
		source{client: who.client, agent: a.id})
	s.drain()
	return nil
}

func (s *Sim) roleOf(who *actor) string {
	if a := s.agents[who.id]; a != nil {
		return a.role
	}
	return ""
}

func (s *Sim) ownsBot(who *actor, b *agent) bool { return who.client != "" && who.client == b.owner }

// Events.

var richTemplates = map[string]bool{"cards": true, "sticker": true, "quick_replies": true, "ecommerce": true}

// parseEvent validates an event of a send_event or start_chat request.
func (s *Sim) parseEvent(in obj, agentSide bool) (*Event, error) {
	typ, _ := in["type"].(string)
	e := &Event{Type: typ, Visibility: "all", Fields: obj{}}
	vis, ok := in["visibility"].(string)
	if !ok {
		vis, ok = in["recipients"].(string) // renamed to visibility in 3.4
	}
	if ok {
		if vis != "all" && vis != "agents" {
			return nil, badRequest("`event.visibility` must be all or agents")
		}
		e.Visibility = vis
	}
	if !agentSide && e.Visibility != "all" {
		return nil, badRequest("Customers can send events with visibility `all` only")
	}
	e.CustomID, _ = in["custom_id"].(string)
	if p, ok := in["properties"].(obj); ok {
		e.Properties = p
	}
	text, _ := in["text"].(string)
	keep := func(keys ...string) {
		for _, k := range keys {
			if v, ok := in[k]; ok {
				e.Fields[k] = v
			}
		}
	}
	switch typ {
	case "message":
		if text == "" {
			return nil, badRequest("`event.text` is required")
		}
		if len(text) > 16<<10 {
			return nil, badRequest("`event.text` exceeds 16 KB")
		}
		e.Text = text
		keep("postback")
	case "file":
		u, _ := in["url"].(string)
		f := s.fileAt(u)
		if f == nil {
			return nil, badRequest("`event.url` must point to a file uploaded with upload_file")
		}
		f.used = true
		e.Fields["url"], e.Fields["name"], e.Fields["content_type"] = u, f.name, f.ctype
		if f.width > 0 {
			e.Fields["size"], e.Fields["width"], e.Fields["height"] = len(f.data), f.width, f.height
			e.Fields["thumbnail_url"], e.Fields["thumbnail2x_url"] = u, u
			keep("alternative_text")
		}
	case "rich_message":
		tpl, _ := in["template_id"].(string)
		if !richTemplates[tpl] {
			return nil, badRequest("`event.template_id` must be cards, sticker, quick_replies or ecommerce")
		}
		els, _ := in["elements"].([]any)
		if len(els) > 10 {
			return nil, badRequest("Rich message can have at most 10 elements")
		}
		buttons := 0
		for _, el := range els {
			if m, ok := el.(obj); ok {
				bs, _ := m["buttons"].([]any)
				buttons += len(bs)
			}
		}
		if buttons > 13 {
			return nil, badRequest("Rich message can have at most 13 buttons")
		}
		keep("template_id", "elements")
	case "custom":
		keep("content")
	case "filled_form":
		keep("form_id", "fields")
	case "system_message":
		if !agentSide {
			return nil, badRequest("Customers cannot send system messages")
		}
		if st, _ := in["system_message_type"].(string); st == "" {
			return nil, badRequest("`event.system_message_type` is required")
		}
		e.Text = text
		keep("system_message_type", "text_vars")
	case "system":
		return nil, badRequest("It is not possible to send a System event in API version 3.6")
	case "":
		return nil, badRequest("`event.type` is required")
	default:
		return nil, badRequest("Unsupported event type %q", typ)
	}
	return e, nil
}

// fileAt resolves an upload_file URL.
func (s *Sim) fileAt(raw string) *file {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil
	}
	return s.files[u.EscapedPath()]
}
