package livechatsim

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"time"
)

// agentMethods are the Agent Chat API methods the simulator serves.
var agentMethods = map[string]method{
	"start_chat":                 (*Sim).startChatM,
	"resume_chat":                (*Sim).resumeChatM,
	"send_event":                 (*Sim).sendEventM,
	"deactivate_chat":            (*Sim).deactivateM,
	"follow_chat":                (*Sim).followM,
	"unfollow_chat":              (*Sim).followM,
	"transfer_chat":              (*Sim).transferM,
	"get_chat":                   (*Sim).getChatM,
	"list_chats":                 (*Sim).listChatsM,
	"list_threads":               (*Sim).listThreadsM,
	"add_user_to_chat":           (*Sim).addUserM,
	"remove_user_from_chat":      (*Sim).removeUserM,
	"get_customer":               (*Sim).getCustomerM,
	"update_customer":            (*Sim).updateCustomerM,
	"set_routing_status":         (*Sim).setStatusM,
	"list_routing_statuses":      (*Sim).listStatusesM,
	"list_agents_for_transfer":   (*Sim).forTransferM,
	"send_rich_message_postback": (*Sim).postbackM,
	"mark_events_as_seen":        (*Sim).seenM,
	"send_typing_indicator":      (*Sim).indicatorM,
	"send_thinking_indicator":    (*Sim).indicatorM,
	"tag_thread":                 (*Sim).tagM,
	"untag_thread":               (*Sim).tagM,
	"upload_file":                nil, // served by upload
}

func (s *Sim) startChatM(c *call) (any, error) {
	var in startIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return s.startChat(c.who, in)
}

func (s *Sim) resumeChatM(c *call) (any, error) {
	var in startIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Chat.ID == "" {
		return nil, badRequest("`chat.id` is required")
	}
	return s.resumeChat(c.who, in)
}

func (s *Sim) sendEventM(c *call) (any, error) {
	var in struct {
		ChatID string `json:"chat_id"`
		Event  obj    `json:"event"`
		Attach bool   `json:"attach_to_last_thread"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return s.sendEvent(c.who, in.ChatID, in.Event, in.Attach)
}

func (s *Sim) deactivateM(c *call) (any, error) {
	var in struct {
		ID     string `json:"id"`
		Ignore bool   `json:"ignore_requester_presence"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.deactivate(c.who, in.ID, in.Ignore)
}

func (s *Sim) followM(c *call) (any, error) {
	var in struct {
		ID string `json:"id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := s.find(c.who, in.ID)
	if err != nil {
		return nil, err
	}
	if c.r.PathValue("method") == "follow_chat" {
		ch.followers[c.who.id] = true
	} else {
		delete(ch.followers, c.who.id)
	}
	return nil, nil
}

func (s *Sim) transferM(c *call) (any, error) {
	var in transferIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.transfer(c.who, in)
}

func (s *Sim) addUserM(c *call) (any, error) {
	var in userIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.addUser(c.who, in)
}

func (s *Sim) removeUserM(c *call) (any, error) {
	var in userIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.removeUser(c.who, in)
}

// getChatM serves get_chat on both APIs.
func (s *Sim) getChatM(c *call) (any, error) {
	var in struct {
		ChatID   string `json:"chat_id"`
		ThreadID string `json:"thread_id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := s.find(c.who, in.ChatID)
	if err != nil {
		return nil, err
	}
	t := ch.last()
	if in.ThreadID != "" {
		if t, err = ch.thread(in.ThreadID); err != nil {
			return nil, err
		}
	}
	view := "agent"
	if c.who.isCustomer() {
		view = "customer"
	}
	return s.chatJSON(ch, t, view, c.who.id), nil
}

// page is the state a page_id carries.
type page struct {
	Offset  int             `json:"o"`
	Sort    string          `json:"s"`
	Limit   int             `json:"l"`
	Filters json.RawMessage `json:"f,omitempty"`
}

func (p page) id() string {
	b, _ := json.Marshal(p)
	return base64.StdEncoding.EncodeToString(b)
}

// paging resolves limit, sort_order and page_id (which excludes the others).
func paging(pageID, sortOrder string, limit int, filters json.RawMessage, def, max int) (page, error) {
	if pageID != "" {
		if sortOrder != "" || limit != 0 || (len(filters) > 0 && string(filters) != "null") {
			return page{}, badRequest("`page_id` cannot be combined with `filters`, `limit` or `sort_order`")
		}
		var p page
		b, err := base64.StdEncoding.DecodeString(pageID)
		if err != nil || json.Unmarshal(b, &p) != nil {
			return page{}, badRequest("Invalid `page_id`")
		}
		return p, nil
	}
	if sortOrder == "" {
		sortOrder = "desc"
	}
	if sortOrder != "asc" && sortOrder != "desc" {
		return page{}, badRequest("`sort_order` must be asc or desc")
	}
	if limit == 0 {
		limit = def
	}
	if limit < 1 || limit > max {
		return page{}, badRequest("`limit` must be between 1 and %d", max)
	}
	return page{Sort: sortOrder, Limit: limit, Filters: filters}, nil
}

// window returns the bounds of the page in n items and the page ids.
func (p page) window(n int, out obj) (lo, hi int) {
	lo, hi = min(p.Offset, n), min(p.Offset+p.Limit, n)
	if hi < n {
		q := p
		q.Offset = hi
		out["next_page_id"] = q.id()
	}
	if lo > 0 {
		q := p
		q.Offset = max(lo-p.Limit, 0)
		out["previous_page_id"] = q.id()
	}
	return lo, hi
}

func (s *Sim) sortedChats(keep func(*chat) bool, order string) []*chat {
	var cs []*chat
	for _, id := range s.chatOrder {
		if c := s.chats[id]; keep(c) {
			cs = append(cs, c)
		}
	}
	// chatOrder is creation order, so ties keep it.
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].last().created.Before(cs[j].last().created) })
	if order != "asc" {
		slices.Reverse(cs)
	}
	return cs
}

// listChatsM serves list_chats on both APIs.
func (s *Sim) listChatsM(c *call) (any, error) {
	var in struct {
		Filters   json.RawMessage `json:"filters"`
		SortOrder string          `json:"sort_order"`
		Limit     int             `json:"limit"`
		PageID    string          `json:"page_id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	max, view := 100, "agent"
	if c.who.isCustomer() {
		max, view = 25, "customer"
	}
	p, err := paging(in.PageID, in.SortOrder, in.Limit, in.Filters, 10, max)
	if err != nil {
		return nil, err
	}
	var f struct {
		Active   *bool `json:"active"`
		GroupIDs []int `json:"group_ids"`
	}
	if len(p.Filters) > 0 && json.Unmarshal(p.Filters, &f) != nil {
		return nil, badRequest("Invalid `filters`")
	}
	cs := s.sortedChats(func(ch *chat) bool {
		if c.who.isCustomer() {
			return ch.member(c.who.id) != nil
		}
		if !s.canSee(s.agents[c.who.id], ch) {
			return false
		}
		if f.Active != nil && ch.active() != *f.Active {
			return false
		}
		return len(f.GroupIDs) == 0 || overlap(f.GroupIDs, ch.access)
	}, p.Sort)
	out := obj{}
	lo, hi := p.window(len(cs), out)
	sums := []any{}
	for _, ch := range cs[lo:hi] {
		sums = append(sums, s.summaryJSON(ch, view, c.who.id))
	}
	out["chats_summary"] = sums
	if c.who.isCustomer() {
		out["total_chats"] = len(cs)
	} else {
		out["found_chats"] = len(cs)
	}
	return out, nil
}

// listThreadsM serves list_threads on both APIs.
func (s *Sim) listThreadsM(c *call) (any, error) {
	var in struct {
		ChatID    string          `json:"chat_id"`
		SortOrder string          `json:"sort_order"`
		Limit     int             `json:"limit"`
		PageID    string          `json:"page_id"`
		MinEvents int             `json:"min_events_count"`
		Filters   json.RawMessage `json:"filters"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Limit != 0 && in.MinEvents != 0 {
		return nil, badRequest("`limit` and `min_events_count` are mutually exclusive")
	}
	ch, err := s.find(c.who, in.ChatID)
	if err != nil {
		return nil, err
	}
	p, err := paging(in.PageID, in.SortOrder, in.Limit, in.Filters, 3, 100)
	if err != nil {
		return nil, err
	}
	ts := slices.Clone(ch.threads)
	if p.Sort != "asc" {
		slices.Reverse(ts)
	}
	view := "agent"
	if c.who.isCustomer() {
		view = "customer"
	}
	out := obj{"found_threads": len(ts)}
	lo, hi := p.window(len(ts), out)
	list := []any{}
	for _, t := range ts[lo:hi] {
		list = append(list, s.threadJSON(ch, t, view, true))
	}
	out["threads"] = list
	return out, nil
}

func (s *Sim) getCustomerM(c *call) (any, error) {
	var in struct {
		ID string `json:"id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cu := s.customers[in.ID]
	if cu == nil {
		return nil, notFound("Customer")
	}
	return s.customerJSON(cu, "agent"), nil
}

type customerIn struct {
	ID            string              `json:"id"`
	Name          *string             `json:"name"`
	Email         *string             `json:"email"`
	Avatar        *string             `json:"avatar"`
	Phone         *string             `json:"phone_number"`
	SessionFields []map[string]string `json:"session_fields"`
}

func (s *Sim) updateCustomerM(c *call) (any, error) {
	var in customerIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if c.who.isCustomer() {
		in.ID = c.who.id
	}
	cu := s.customers[in.ID]
	if cu == nil {
		return nil, notFound("Customer")
	}
	return nil, s.updateCustomer(c.who, cu, in)
}

func (s *Sim) updateCustomer(who *actor, cu *customer, in customerIn) error {
	if in.Name == nil && in.Email == nil && in.Avatar == nil && in.Phone == nil && in.SessionFields == nil {
		return badRequest("At least one optional parameter is required")
	}
	if len(in.SessionFields) > 100 {
		return badRequest("At most 100 session fields are allowed")
	}
	renamed := (in.Name != nil && *in.Name != cu.name) || (in.Email != nil && *in.Email != cu.email)
	for p, v := range map[*string]*string{&cu.name: in.Name, &cu.email: in.Email, &cu.avatar: in.Avatar, &cu.phone: in.Phone} {
		if v != nil {
			*p = *v
		}
	}
	if in.SessionFields != nil {
		cu.fields = in.SessionFields
	}
	for _, id := range s.chatOrder {
		ch := s.chats[id]
		if !ch.active() || !ch.present(cu.id) {
			continue
		}
		t := ch.last()
		if renamed && !who.isCustomer() {
			s.system(ch, t, "customer_updated", s.name(who.id)+" has changed customer's details", who.src())
		}
		if in.SessionFields != nil {
			fields := []any{}
			for _, f := range cu.fields {
				fields = append(fields, f)
			}
			s.emit("customer_session_fields_updated", ch, obj{"id": cu.id,
				"active_chat": obj{"chat_id": ch.id, "thread_id": t.id}, "session_fields": fields}, who.src())
		}
	}
	return nil
}

func (s *Sim) setStatusM(c *call) (any, error) {
	var in struct {
		Status  string `json:"status"`
		AgentID string `json:"agent_id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.setStatus(c.who, in.AgentID, in.Status)
}

func (s *Sim) listStatusesM(c *call) (any, error) {
	var in struct {
		Filters struct {
			GroupIDs []int `json:"group_ids"`
		} `json:"filters"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := []any{}
	for _, id := range s.order {
		a := s.agents[id]
		if a.status == Offline || (len(in.Filters.GroupIDs) > 0 && !inGroups(a, in.Filters.GroupIDs)) {
			continue
		}
		out = append(out, obj{"agent_id": a.id, "status": a.status})
	}
	return out, nil
}

func inGroups(a *agent, groups []int) bool {
	for _, g := range groups {
		if _, ok := a.groups[g]; ok {
			return true
		}
	}
	return false
}

func (s *Sim) forTransferM(c *call) (any, error) {
	var in struct {
		ChatID string `json:"chat_id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := s.find(c.who, in.ChatID)
	if err != nil {
		return nil, err
	}
	type row struct {
		id string
		n  int
	}
	var rows []row
	for _, id := range s.order {
		a := s.agents[id]
		if a.bot || a.status == Offline || ch.present(a.id) || !s.canSee(a, ch) {
			continue
		}
		rows = append(rows, row{a.id, s.load(a)})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].n < rows[j].n })
	out := []any{}
	for _, r := range rows {
		out = append(out, obj{"agent_id": r.id, "total_active_chats": r.n})
	}
	return out, nil
}

// postbackM serves send_rich_message_postback on both APIs.
func (s *Sim) postbackM(c *call) (any, error) {
	var in struct {
		ChatID   string `json:"chat_id"`
		ThreadID string `json:"thread_id"`
		EventID  string `json:"event_id"`
		Postback obj    `json:"postback"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := s.find(c.who, in.ChatID)
	if err != nil {
		return nil, err
	}
	t, err := ch.thread(in.ThreadID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(t.events, func(e *Event) bool { return e.ID == in.EventID }) {
		return nil, notFound("Event")
	}
	if id, _ := in.Postback["id"].(string); id == "" {
		return nil, badRequest("`postback.id` is required")
	}
	if t.active {
		s.emit("incoming_rich_message_postback", ch, obj{"user_id": c.who.id, "chat_id": ch.id, "thread_id": t.id,
			"event_id": in.EventID, "postback": in.Postback}, c.who.src())
	}
	return nil, nil
}

// seenM serves mark_events_as_seen on both APIs.
func (s *Sim) seenM(c *call) (any, error) {
	var in struct {
		ChatID   string `json:"chat_id"`
		SeenUpTo string `json:"seen_up_to"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := s.find(c.who, in.ChatID)
	if err != nil {
		return nil, err
	}
	at, err := time.Parse(time.RFC3339Nano, in.SeenUpTo)
	if err != nil {
		return nil, badRequest("`seen_up_to` must be an RFC 3339 date")
	}
	if m := ch.member(c.who.id); m != nil && at.After(m.seen) {
		m.seen = at
	}
	return nil, nil
}

// indicatorM serves typing and thinking indicators, sneak peeks: no state.
func (s *Sim) indicatorM(c *call) (any, error) {
	var in struct {
		ChatID string `json:"chat_id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := s.find(c.who, in.ChatID)
	if err != nil {
		return nil, err
	}
	if !ch.active() {
		return nil, errf("chat_inactive", "Chat is inactive")
	}
	return nil, nil
}

func (s *Sim) tagM(c *call) (any, error) {
	var in struct {
		ChatID   string `json:"chat_id"`
		ThreadID string `json:"thread_id"`
		Tag      string `json:"tag"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	ch, err := s.find(c.who, in.ChatID)
	if err != nil {
		return nil, err
	}
	t, err := ch.thread(in.ThreadID)
	if err != nil {
		return nil, err
	}
	if in.Tag == "" {
		return nil, badRequest("`tag` is required")
	}
	t.tags = slices.DeleteFunc(t.tags, func(x string) bool { return x == in.Tag })
	if c.r.PathValue("method") == "tag_thread" {
		t.tags = append(t.tags, in.Tag)
	}
	return nil, nil
}
