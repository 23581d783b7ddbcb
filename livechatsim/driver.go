package livechatsim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// agentApp is the client_id behind what driver-driven human agents do (the
// LiveChat agent app), so source_type filters see "other_clients".
const agentApp = "bb9e5b2f1ab480e4a715977b7b1b4279"

// Agent describes a human agent for AddAgent.
type Agent struct {
	ID        string         // e-mail; required
	Name      string         // default: ID up to "@"
	AccountID string         // default: a new UUID
	PAT       string         // default: a new "dal:…" token
	Role      string         // owner, viceowner, administrator or normal (default)
	Status    string         // accepting_chats (default), not_accepting_chats or offline
	MaxChats  int            // max_chats_count; default 6
	Groups    map[int]string // group id → priority (first, normal, last, supervisor); default {0: "normal"}
}

// Basic is the Authorization header value for the agent's PAT:
// "Basic base64(account_id:pat)".
func (a Agent) Basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.AccountID+":"+a.PAT))
}

// Bot describes a bot for AddBot. Bots act as agents in the Agent API and
// authenticate with bot tokens only (issue_bot_token or BotToken).
type Bot struct {
	ID            string         // default: 32 hex digits
	Name          string         // default "Bot"
	Secret        string         // default: 32 hex digits
	OwnerClientID string         // required: the client_id of an app added with AddApp
	Status        string         // offline (default, as after create_bot), accepting_chats or not_accepting_chats
	MaxChats      int            // default 6
	Groups        map[int]string // group id → priority
}

// Transfer is the target of AgentTransfer.
type Transfer struct {
	Type               string // group or agent
	GroupIDs           []int  // Type group
	AgentID            string // Type agent
	IgnoreAvailability bool   // ignore_agents_availability: queue instead of failing
}

func validStatus(st string) bool { return st == Accepting || st == NotAccepting || st == Offline }

func (s *Sim) checkPriorities(groups map[int]string) error {
	for g, p := range groups {
		if s.groups[g] == nil {
			return errf("group_not_found", "Group %d not found", g)
		}
		if _, ok := priorities[p]; !ok {
			return badRequest("Invalid priority %q", p)
		}
	}
	return nil
}

func (s *Sim) addAgent(a *agent) {
	if s.agents[a.id] == nil {
		s.order = append(s.order, a.id)
	}
	if a.avatar == "" {
		a.avatar = "https://cdn.livechat-files.com/api/file/lc/main/default/avatars/" + strings.ToLower(random(upperAlnum[:26], 1)) + ".png"
	}
	s.agents[a.id] = a
}

// AddGroup creates group id (or renames it).
func (s *Sim) AddGroup(id int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.groups[id]; g != nil {
		g.name = name
		return
	}
	s.groups[id] = &group{id: id, name: name, lang: "en"}
}

// AddApp registers an application; empty ClientID and Secret are generated
// and RedirectURI defaults to http://localhost. It returns the app.
func (s *Sim) AddApp(a App) App {
	if a.ClientID == "" {
		a.ClientID = hexID(32)
	}
	if a.Secret == "" {
		a.Secret = hexID(32)
	}
	if a.RedirectURI == "" {
		a.RedirectURI = "http://localhost"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[a.ClientID] = &a
	return a
}

// AddAgent adds a human agent and returns it with the generated fields
// (AccountID, PAT) filled in. Queued chats it can take are assigned to it.
func (s *Sim) AddAgent(a Agent) (Agent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.Contains(a.ID, "@") {
		return a, badRequest("Agent id must be an e-mail")
	}
	if s.agents[a.ID] != nil {
		return a, errf("already_exists", "Agent %s already exists", a.ID)
	}
	if a.Name == "" {
		a.Name, _, _ = strings.Cut(a.ID, "@")
	}
	if a.AccountID == "" {
		a.AccountID = uuid4()
	}
	if a.PAT == "" {
		a.PAT = s.cfg.Region + ":" + random(urlAlnum[:62], 27)
	}
	if a.Role == "" {
		a.Role = "normal"
	}
	if a.Status == "" {
		a.Status = Accepting
	}
	if a.MaxChats == 0 {
		a.MaxChats = 6
	}
	if a.Groups == nil {
		a.Groups = map[int]string{0: "normal"}
	}
	if !validStatus(a.Status) {
		return a, badRequest("Invalid status %q", a.Status)
	}
	if err := s.checkPriorities(a.Groups); err != nil {
		return a, err
	}
	s.addAgent(&agent{id: a.ID, name: a.Name, accountID: a.AccountID, pat: a.PAT, role: a.Role,
		status: a.Status, max: a.MaxChats, groups: maps.Clone(a.Groups), job: "Support Agent"})
	s.drain()
	return a, nil
}

// AddBot adds a bot (as create_bot does) and returns it with the generated
// fields filled in.
func (s *Sim) AddBot(b Bot) (Bot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps[b.OwnerClientID] == nil {
		return b, badRequest("OwnerClientID must be the client_id of an app")
	}
	if b.ID == "" {
		b.ID = hexID(32)
	}
	if s.agents[b.ID] != nil {
		return b, errf("already_exists", "Bot %s already exists", b.ID)
	}
	if b.Name == "" {
		b.Name = "Bot"
	}
	if b.Secret == "" {
		b.Secret = hexID(32)
	}
	if b.Status == "" {
		b.Status = Offline
	}
	if b.MaxChats == 0 {
		b.MaxChats = 6
	}
	if !validStatus(b.Status) {
		return b, badRequest("Invalid status %q", b.Status)
	}
	if err := s.checkPriorities(b.Groups); err != nil {
		return b, err
	}
	groups := maps.Clone(b.Groups)
	if groups == nil {
		groups = map[int]string{}
	}
	s.addAgent(&agent{id: b.ID, name: b.Name, secret: b.Secret, owner: b.OwnerClientID, bot: true,
		role: "normal", status: b.Status, max: b.MaxChats, groups: groups, defPrio: "normal", job: "Bot"})
	s.drain()
	return b, nil
}

// AddWebhook registers a webhook as register_webhook does (same checks;
// OwnerClientID must be an app) and returns its id.
func (s *Sim) AddWebhook(w Webhook) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps[w.OwnerClientID] == nil {
		return "", badRequest("OwnerClientID must be the client_id of an app")
	}
	return s.register(w)
}

// Code mints a single-use authorization code (valid 5 minutes) for an agent
// and app, to exchange at POST /v2/token (grant_type authorization_code).
func (s *Sim) Code(clientID, agentID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[clientID]
	if a == nil {
		return "", notFound("App")
	}
	return s.code(clientID, agentID, a.RedirectURI, "", "")
}

// AgentToken mints an agent OAuth access token (8 h), as the code exchange would.
func (s *Sim) AgentToken(clientID, agentID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps[clientID] == nil {
		return "", notFound("App")
	}
	if a := s.agents[agentID]; a == nil || a.bot {
		return "", notFound("Agent")
	}
	return s.agentToken(clientID, agentID, "").value, nil
}

// BotToken mints a bot token (24 h) for the bot's owner app, as
// issue_bot_token does.
func (s *Sim) BotToken(botID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bot(botID)
	if err != nil {
		return "", err
	}
	return s.mint("bot", b.id, b.owner, BotTokenTTL).value, nil
}

// CustomerToken mints a customer access token (8 h) for an existing customer.
func (s *Sim) CustomerToken(customerID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.customers[customerID] == nil {
		return "", notFound("Customer")
	}
	return s.mint("customer", customerID, widgetClient, TokenTTL).value, nil
}

// Acting as a human agent.

func (s *Sim) as(agentID string) (*actor, error) {
	if s.agents[agentID] == nil {
		return nil, notFound("Agent")
	}
	client := agentApp
	if a := s.agents[agentID]; a.bot {
		client = a.owner
	}
	return &actor{kind: "agent", id: agentID, client: client}, nil
}

func (s *Sim) asCustomer(chatID string) (*actor, error) {
	c := s.chats[chatID]
	if c == nil {
		return nil, notFound("Chat")
	}
	m := c.customer()
	if m == nil {
		return nil, badRequest("Chat has no customer")
	}
	return &actor{kind: "customer", id: m.id, client: widgetClient}, nil
}

// AgentSend sends a message as agentID, who must be present in the chat.
// It returns the event id.
func (s *Sim) AgentSend(chatID, agentID, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.as(agentID)
	if err != nil {
		return "", err
	}
	out, err := s.sendEvent(who, chatID, obj{"type": "message", "text": text, "visibility": "all"}, false)
	if err != nil {
		return "", err
	}
	return out["event_id"].(string), nil
}

// AgentFile uploads data as a file and sends it as agentID; it returns the
// event id.
func (s *Sim) AgentFile(chatID, agentID, name string, data []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.as(agentID)
	if err != nil {
		return "", err
	}
	up, err := s.store(name, "", data)
	if err != nil {
		return "", err
	}
	out, err := s.sendEvent(who, chatID, obj{"type": "file", "url": up["url"]}, false)
	if err != nil {
		return "", err
	}
	return out["event_id"].(string), nil
}

// AgentJoin adds agentID to the chat (add_user_to_chat by the agent itself).
func (s *Sim) AgentJoin(chatID, agentID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.as(agentID)
	if err != nil {
		return err
	}
	return s.addUser(who, userIn{ChatID: chatID, UserID: agentID, UserType: "agent", Visibility: "all"})
}

// AgentClose deactivates the chat as agentID (with ignore_requester_presence).
func (s *Sim) AgentClose(chatID, agentID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.as(agentID)
	if err != nil {
		return err
	}
	return s.deactivate(who, chatID, true)
}

// AgentTransfer transfers the chat as agentID.
func (s *Sim) AgentTransfer(chatID, agentID string, t Transfer) error {
	in := transferIn{ID: chatID, IgnoreAgentsAvailability: t.IgnoreAvailability, IgnoreRequesterPresence: true}
	in.Target = &struct {
		Type string            `json:"type"`
		IDs  []json.RawMessage `json:"ids"`
	}{Type: t.Type}
	if t.Type == "agent" {
		b, _ := json.Marshal(t.AgentID)
		in.Target.IDs = []json.RawMessage{b}
	}
	for _, g := range t.GroupIDs {
		b, _ := json.Marshal(g)
		in.Target.IDs = append(in.Target.IDs, b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.as(agentID)
	if err != nil {
		return err
	}
	return s.transfer(who, in)
}

// SetStatus sets an agent's or bot's routing status (accepting_chats,
// not_accepting_chats, or offline for bots) as set_routing_status does:
// routing_status_set fires and queued chats are assigned.
func (s *Sim) SetStatus(agentID, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.as(agentID)
	if err != nil {
		return err
	}
	return s.setStatus(&actor{kind: "pat", id: who.id, client: who.client}, agentID, status)
}

// Acting as a customer in the chat widget.

// CustomerStartChat starts a chat in group as a new customer (as the chat
// widget does) with a first message, routed like LiveChat routes it. It
// returns the chat id; the customer is the chat's customer user.
func (s *Sim) CustomerStartChat(group int, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _, err := s.customerStart(group, text, "", "")
	return id, err
}

func (s *Sim) customerStart(group int, text, name, email string) (string, string, error) {
	cu := s.newCustomer()
	cu.name, cu.email = name, email
	var in startIn
	in.Chat.Access = &struct {
		GroupIDs []int `json:"group_ids"`
	}{GroupIDs: []int{group}}
	if text != "" {
		in.Chat.Thread = &struct {
			Events     []obj `json:"events"`
			Properties obj   `json:"properties"`
		}{Events: []obj{{"type": "message", "text": text, "visibility": "all"}}}
	}
	out, err := s.startChat(&actor{kind: "customer", id: cu.id, client: widgetClient}, in)
	if err != nil {
		delete(s.customers, cu.id)
		return "", "", err
	}
	return out["chat_id"].(string), cu.id, nil
}

// CustomerSend sends a message as the chat's customer; it returns the event id.
func (s *Sim) CustomerSend(chatID, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.asCustomer(chatID)
	if err != nil {
		return "", err
	}
	out, err := s.sendEvent(who, chatID, obj{"type": "message", "text": text, "visibility": "all"}, false)
	if err != nil {
		return "", err
	}
	return out["event_id"].(string), nil
}

// CustomerClose deactivates the chat as its customer.
func (s *Sim) CustomerClose(chatID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, err := s.asCustomer(chatID)
	if err != nil {
		return err
	}
	return s.deactivate(who, chatID, false)
}

// Reading state.

// Chat returns a snapshot of a chat.
func (s *Sim) Chat(id string) (Chat, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[id]
	if c == nil {
		return Chat{}, false
	}
	return s.snapshot(c), true
}

// Chats returns snapshots of every chat, oldest first.
func (s *Sim) Chats() []Chat {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Chat
	for _, id := range s.chatOrder {
		out = append(out, s.snapshot(s.chats[id]))
	}
	return out
}

// Customer returns a snapshot of a customer.
func (s *Sim) Customer(id string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	if c == nil {
		return Customer{}, false
	}
	return Customer{ID: c.id, Name: c.name, Email: c.email, Avatar: c.avatar, Phone: c.phone,
		CreatedAt: c.created, SessionFields: slices.Clone(c.fields)}, true
}

// Status returns an agent's or bot's routing status ("" if unknown).
func (s *Sim) Status(agentID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.agents[agentID]; a != nil {
		return a.status
	}
	return ""
}

// Webhooks returns every webhook delivery so far, in order.
func (s *Sim) Webhooks() []Delivery { return s.ob.list() }

// Flush waits until no webhook delivery is pending (retries included).
func (s *Sim) Flush(ctx context.Context) error {
	for !s.ob.idle() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// Redeliver delivers delivery id's body again, as a new delivery marked
// Duplicate (an injected at-least-once duplicate).
func (s *Sim) Redeliver(id int) error {
	for _, d := range s.ob.list() {
		if d.ID == id {
			s.ob.push(d.WebhookID, d.Action, d.URL, d.Body, true)
			return nil
		}
	}
	return notFound("Delivery")
}

// Driver endpoints.

type prioJSON struct {
	ID       int    `json:"id"`
	Priority string `json:"priority"`
}

func prioMap(ps []prioJSON) map[int]string {
	if ps == nil {
		return nil
	}
	m := map[int]string{}
	for _, p := range ps {
		m[p.ID] = p.Priority
	}
	return m
}

type faultsJSON struct {
	RateLimit    int  `json:"rate_limit"`
	RateWindowMS int  `json:"rate_window_ms"`
	TooMany      int  `json:"too_many"`
	Unavailable  int  `json:"unavailable"`
	Internal     int  `json:"internal"`
	Misdirected  int  `json:"misdirected"`
	LatencyMS    int  `json:"latency_ms"`
	Duplicates   bool `json:"duplicates"`
	Legacy       bool `json:"legacy"`
	Paused       bool `json:"paused"`
}

func (f faultsJSON) faults() Faults {
	return Faults{RateLimit: f.RateLimit, RateWindow: time.Duration(f.RateWindowMS) * time.Millisecond,
		TooMany: f.TooMany, Unavailable: f.Unavailable, Internal: f.Internal, Misdirected: f.Misdirected,
		Latency: time.Duration(f.LatencyMS) * time.Millisecond, Duplicates: f.Duplicates, Legacy: f.Legacy,
		Paused: f.Paused}
}

func toFaultsJSON(f Faults) faultsJSON {
	return faultsJSON{RateLimit: f.RateLimit, RateWindowMS: int(f.RateWindow / time.Millisecond),
		TooMany: f.TooMany, Unavailable: f.Unavailable, Internal: f.Internal, Misdirected: f.Misdirected,
		LatencyMS: int(f.Latency / time.Millisecond), Duplicates: f.Duplicates, Legacy: f.Legacy, Paused: f.Paused}
}

// handle wraps a driver endpoint: decode the JSON body into a fresh In, run.
func handle[In any](fn func(In) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if r.Body != nil && r.ContentLength != 0 {
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
				writeErr(w, badRequest("Wrong format of request: %v", err))
				return
			}
		}
		out, err := fn(in)
		reply(w, out, err)
	}
}

type agentReq struct {
	AgentID string `json:"agent_id"`
	ChatID  string `json:"chat_id"`
	Text    string `json:"text"`
	Name    string `json:"name"`
	Data    []byte `json:"data"` // base64 in JSON
	Status  string `json:"status"`
	Target  *struct {
		Type string            `json:"type"`
		IDs  []json.RawMessage `json:"ids"`
	} `json:"target"`
	IgnoreAvailability bool `json:"ignore_agents_availability"`
}

type setupReq struct {
	Groups []struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	} `json:"groups"`
	Apps []struct {
		ClientID    string `json:"client_id"`
		Secret      string `json:"secret"`
		RedirectURI string `json:"redirect_uri"`
	} `json:"apps"`
	Agents []struct {
		ID        string     `json:"id"`
		Name      string     `json:"name"`
		AccountID string     `json:"account_id"`
		PAT       string     `json:"pat"`
		Role      string     `json:"role"`
		Status    string     `json:"status"`
		MaxChats  int        `json:"max_chats_count"`
		Groups    []prioJSON `json:"groups"`
	} `json:"agents"`
	Bots []struct {
		ID       string     `json:"id"`
		Name     string     `json:"name"`
		Secret   string     `json:"secret"`
		Owner    string     `json:"owner_client_id"`
		Status   string     `json:"status"`
		MaxChats int        `json:"max_chats_count"`
		Groups   []prioJSON `json:"groups"`
	} `json:"bots"`
	Webhooks []struct {
		URL            string     `json:"url"`
		Description    string     `json:"description"`
		Action         string     `json:"action"`
		SecretKey      string     `json:"secret_key"`
		Type           string     `json:"type"`
		Owner          string     `json:"owner_client_id"`
		AdditionalData []string   `json:"additional_data"`
		Filters        *filtersIn `json:"filters"`
	} `json:"webhooks"`
}

func (s *Sim) setup(in setupReq) (any, error) {
	out := obj{"organization_id": s.cfg.OrganizationID, "license_id": s.cfg.LicenseID}
	for _, g := range in.Groups {
		s.AddGroup(g.ID, g.Name)
	}
	apps := []any{}
	for _, a := range in.Apps {
		app := s.AddApp(App{ClientID: a.ClientID, Secret: a.Secret, RedirectURI: a.RedirectURI})
		apps = append(apps, obj{"client_id": app.ClientID, "secret": app.Secret, "redirect_uri": app.RedirectURI})
	}
	agents := []any{}
	for _, a := range in.Agents {
		ag, err := s.AddAgent(Agent{ID: a.ID, Name: a.Name, AccountID: a.AccountID, PAT: a.PAT, Role: a.Role,
			Status: a.Status, MaxChats: a.MaxChats, Groups: prioMap(a.Groups)})
		if err != nil {
			return nil, err
		}
		agents = append(agents, obj{"id": ag.ID, "account_id": ag.AccountID, "pat": ag.PAT, "authorization": ag.Basic()})
	}
	bots := []any{}
	for _, b := range in.Bots {
		bt, err := s.AddBot(Bot{ID: b.ID, Name: b.Name, Secret: b.Secret, OwnerClientID: b.Owner, Status: b.Status,
			MaxChats: b.MaxChats, Groups: prioMap(b.Groups)})
		if err != nil {
			return nil, err
		}
		bots = append(bots, obj{"id": bt.ID, "secret": bt.Secret})
	}
	hooks := []any{}
	for _, h := range in.Webhooks {
		f, err := h.Filters.filters()
		if err != nil {
			return nil, err
		}
		id, err := s.AddWebhook(Webhook{URL: h.URL, Description: h.Description, Action: h.Action, SecretKey: h.SecretKey,
			Type: h.Type, OwnerClientID: h.Owner, AdditionalData: h.AdditionalData, Filters: f})
		if err != nil {
			return nil, err
		}
		hooks = append(hooks, obj{"id": id, "action": h.Action})
	}
	out["apps"], out["agents"], out["bots"], out["webhooks"] = apps, agents, bots, hooks
	return out, nil
}

func (s *Sim) state() obj {
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := []any{}
	ids := slices.Sorted(maps.Keys(s.groups))
	for _, id := range ids {
		groups = append(groups, s.groupJSON(s.groups[id], []string{"agent_priorities", "routing_status"}))
	}
	agents, bots := []any{}, []any{}
	for _, id := range s.order {
		a := s.agents[id]
		if a.bot {
			o := s.botJSON(a, []string{"default_group_priority", "owner_client_id", "max_chats_count", "groups"})
			o["status"] = a.status
			bots = append(bots, o)
			continue
		}
		o := s.agentJSON(a, []string{"max_chats_count", "groups"})
		o["status"] = a.status
		agents = append(agents, o)
	}
	chats := []any{}
	for _, id := range s.chatOrder {
		chats = append(chats, s.chatJSON(s.chats[id], nil, "agent", ""))
	}
	customers := []any{}
	for _, c := range s.customers {
		customers = append(customers, s.customerJSON(c, "agent"))
	}
	hooks := []any{}
	for _, id := range s.hookOrder {
		h := s.hooks[id]
		hooks = append(hooks, obj{"id": h.ID, "url": h.URL, "action": h.Action, "type": h.Type,
			"owner_client_id": h.OwnerClientID, "filters": h.Filters.json(), "additional_data": h.AdditionalData})
	}
	apps := []any{}
	for _, a := range s.apps {
		apps = append(apps, obj{"client_id": a.ClientID, "redirect_uri": a.RedirectURI})
	}
	return obj{"organization_id": s.cfg.OrganizationID, "license_id": s.cfg.LicenseID, "now": stamp(s.now()),
		"groups": groups, "agents": agents, "bots": bots, "apps": apps, "chats": chats, "customers": customers,
		"webhooks": hooks}
}

func deliveriesJSON(ds []Delivery) []any {
	out := []any{}
	for _, d := range ds {
		out = append(out, obj{"id": d.ID, "webhook_id": d.WebhookID, "action": d.Action, "url": d.URL,
			"attempts": d.Attempts, "status": d.Status, "error": d.Err, "delivered": d.Delivered,
			"failed": d.Failed, "duplicate": d.Duplicate, "body": json.RawMessage(d.Body)})
	}
	return out
}

// driver registers the /sim/ endpoints (see doc.go).
func (s *Sim) driver(mux *http.ServeMux) {
	type none struct{}
	mux.HandleFunc("POST /sim/setup", handle(s.setup))
	mux.HandleFunc("GET /sim/state", handle(func(none) (any, error) { return s.state(), nil }))
	mux.HandleFunc("GET /sim/chats", handle(func(none) (any, error) { return s.state()["chats"], nil }))
	mux.HandleFunc("GET /sim/chats/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.chats[r.PathValue("id")]
		if c == nil {
			writeErr(w, notFound("Chat"))
			return
		}
		writeJSON(w, http.StatusOK, s.chatJSON(c, nil, "agent", ""))
	})
	mux.HandleFunc("GET /sim/customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := s.customers[r.PathValue("id")]
		if c == nil {
			writeErr(w, notFound("Customer"))
			return
		}
		writeJSON(w, http.StatusOK, s.customerJSON(c, "agent"))
	})
	mux.HandleFunc("GET /sim/requests", handle(func(none) (any, error) {
		out := []any{}
		for _, r := range s.Requests() {
			o := obj{"method": r.Method, "path": r.Path, "query": r.Query, "auth": r.Auth, "status": r.Status}
			if json.Valid(r.Body) {
				o["body"] = json.RawMessage(r.Body)
			} else if len(r.Body) > 0 {
				o["body"] = string(r.Body)
			}
			out = append(out, o)
		}
		return out, nil
	}))
	mux.HandleFunc("GET /sim/webhooks", handle(func(none) (any, error) { return deliveriesJSON(s.Webhooks()), nil }))
	mux.HandleFunc("POST /sim/webhooks/flush", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := s.Flush(ctx); err != nil {
			writeErr(w, errf("request_timeout", "Webhook deliveries still pending"))
			return
		}
		writeJSON(w, http.StatusOK, obj{})
	})
	mux.HandleFunc("POST /sim/webhooks/redeliver", handle(func(in struct {
		ID int `json:"id"`
	}) (any, error) {
		return nil, s.Redeliver(in.ID)
	}))
	mux.HandleFunc("GET /sim/faults", handle(func(none) (any, error) { return toFaultsJSON(s.Faults()), nil }))
	mux.HandleFunc("POST /sim/faults", handle(func(in faultsJSON) (any, error) {
		s.SetFaults(in.faults())
		return toFaultsJSON(s.Faults()), nil
	}))
	mux.HandleFunc("POST /sim/expire_tokens", handle(func(none) (any, error) { s.ExpireTokens(); return nil, nil }))
	mux.HandleFunc("POST /sim/advance", handle(func(in struct {
		Seconds float64 `json:"seconds"`
	}) (any, error) {
		s.Advance(time.Duration(in.Seconds * float64(time.Second)))
		s.mu.Lock()
		defer s.mu.Unlock()
		return obj{"now": stamp(s.now())}, nil
	}))
	type tokenReq struct {
		ClientID string `json:"client_id"`
		AgentID  string `json:"agent_id"`
		BotID    string `json:"bot_id"`
	}
	mux.HandleFunc("POST /sim/code", handle(func(in tokenReq) (any, error) {
		c, err := s.Code(in.ClientID, in.AgentID)
		return obj{"code": c}, err
	}))
	mux.HandleFunc("POST /sim/token", handle(func(in tokenReq) (any, error) {
		var t string
		var err error
		if in.BotID != "" {
			t, err = s.BotToken(in.BotID)
		} else {
			t, err = s.AgentToken(in.ClientID, in.AgentID)
		}
		return obj{"access_token": t}, err
	}))
	mux.HandleFunc("POST /sim/agent/send", handle(func(in agentReq) (any, error) {
		id, err := s.AgentSend(in.ChatID, in.AgentID, in.Text)
		return obj{"event_id": id}, err
	}))
	mux.HandleFunc("POST /sim/agent/file", handle(func(in agentReq) (any, error) {
		id, err := s.AgentFile(in.ChatID, in.AgentID, in.Name, in.Data)
		return obj{"event_id": id}, err
	}))
	mux.HandleFunc("POST /sim/agent/join", handle(func(in agentReq) (any, error) {
		return nil, s.AgentJoin(in.ChatID, in.AgentID)
	}))
	mux.HandleFunc("POST /sim/agent/close", handle(func(in agentReq) (any, error) {
		return nil, s.AgentClose(in.ChatID, in.AgentID)
	}))
	mux.HandleFunc("POST /sim/agent/transfer", handle(func(in agentReq) (any, error) {
		t := transferIn{ID: in.ChatID, IgnoreAgentsAvailability: in.IgnoreAvailability, IgnoreRequesterPresence: true,
			Target: in.Target}
		s.mu.Lock()
		defer s.mu.Unlock()
		who, err := s.as(in.AgentID)
		if err != nil {
			return nil, err
		}
		return nil, s.transfer(who, t)
	}))
	mux.HandleFunc("POST /sim/agent/status", handle(func(in agentReq) (any, error) {
		return nil, s.SetStatus(in.AgentID, in.Status)
	}))
	mux.HandleFunc("POST /sim/customer/start", handle(func(in struct {
		GroupID int    `json:"group_id"`
		Text    string `json:"text"`
		Name    string `json:"name"`
		Email   string `json:"email"`
	}) (any, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		chat, cust, err := s.customerStart(in.GroupID, in.Text, in.Name, in.Email)
		return obj{"chat_id": chat, "customer_id": cust}, err
	}))
	mux.HandleFunc("POST /sim/customer/send", handle(func(in agentReq) (any, error) {
		id, err := s.CustomerSend(in.ChatID, in.Text)
		return obj{"event_id": id}, err
	}))
	mux.HandleFunc("POST /sim/customer/close", handle(func(in agentReq) (any, error) {
		return nil, s.CustomerClose(in.ChatID)
	}))
}
