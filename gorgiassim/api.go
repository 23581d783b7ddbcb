package gorgiassim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Handler serves the REST API under /api/ and the driver under /_sim/.
func (s *Sim) Handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /api/account", s.account)
	api.HandleFunc("GET /api/users", s.listUsers)
	api.HandleFunc("GET /api/customers", s.listCustomers)
	api.HandleFunc("POST /api/customers", s.createCustomer)
	api.HandleFunc("GET /api/customers/{id}", s.getCustomer)
	api.HandleFunc("PUT /api/customers/{id}", s.updateCustomer)
	api.HandleFunc("GET /api/tickets", s.listTickets)
	api.HandleFunc("POST /api/tickets", s.createTicket)
	api.HandleFunc("GET /api/tickets/{id}", s.getTicket)
	api.HandleFunc("PUT /api/tickets/{id}", s.updateTicket)
	api.HandleFunc("GET /api/tickets/{id}/messages", s.listMessages)
	api.HandleFunc("POST /api/tickets/{id}/messages", s.createMessage)
	api.HandleFunc("GET /api/integrations", s.listIntegrations)
	api.HandleFunc("POST /api/integrations", s.createIntegration)
	api.HandleFunc("GET /api/integrations/{id}", s.getIntegration)
	api.HandleFunc("PUT /api/integrations/{id}", s.updateIntegration)
	api.HandleFunc("DELETE /api/integrations/{id}", s.deleteIntegration)
	mux := http.NewServeMux()
	mux.Handle("/api/", s.guard(api))
	s.driverRoutes(mux)
	return mux
}

// fail writes Gorgias' error body.
func fail(w http.ResponseWriter, status int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"msg": msg, "data": data}})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// guard checks the account, the credentials and the bucket, and injects faults.
func (s *Sim) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := strings.Cut(r.Host, ":")
		if sub, ok := strings.CutSuffix(host, ".gorgias.com"); ok && sub != s.cfg.Domain {
			fail(w, http.StatusNotFound, "Account not found", nil)
			return
		}
		email, key, ok := r.BasicAuth()
		s.mu.Lock()
		_, known := s.user(email, key)
		if !ok || !known {
			s.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `Basic realm="Gorgias API"`)
			fail(w, http.StatusUnauthorized, "Unauthorized: bad email or API key", nil)
			return
		}
		used, wait := s.take() // the account's bucket: a stranger's calls do not drain it
		f := &s.faults
		throttled, failed, code, slow := f.throttle > 0, f.fail > 0, f.failCode, f.slow
		if throttled {
			f.throttle--
		} else if failed {
			f.fail--
		}
		late := f.late > 0 && f.lateTo == r.Method+" "+r.URL.Path && !throttled && !failed && wait <= 0
		if late {
			f.late--
		}
		lateBy := f.lateBy
		s.mu.Unlock()
		if late {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
			r = r.WithContext(context.WithoutCancel(r.Context()))
			r.Body = io.NopCloser(bytes.NewReader(body))
			time.Sleep(lateBy) // the fault: the work is done whoever waits
		}
		if slow > 0 {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("X-Gorgias-Account-Api-Call-Limit", fmt.Sprintf("%d/%d", used, s.cfg.Limit))
		switch {
		case throttled || wait > 0:
			if throttled && wait <= 0 {
				wait = time.Second
			}
			w.Header().Set("Retry-after", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			fail(w, http.StatusTooManyRequests, "Too Many Requests", nil)
		case failed:
			if code == 0 {
				code = http.StatusServiceUnavailable
			}
			fail(w, code, http.StatusText(code), nil)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// decode reads a JSON body strictly enough: a bad body is a 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "Invalid JSON", map[string]string{"_schema": err.Error()})
		return false
	}
	return true
}

// paginate serves a cursor page of items sorted by id.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T, id func(T) int64) {
	q := r.URL.Query()
	limit := 30
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			fail(w, http.StatusBadRequest, "Validation error", map[string][]string{"limit": {"Must be between 1 and 100."}})
			return
		}
		limit = n
	}
	after := int64(0)
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		n, err2 := strconv.ParseInt(strings.TrimPrefix(string(b), "after:"), 10, 64)
		if err != nil || err2 != nil {
			fail(w, http.StatusBadRequest, "Validation error", map[string][]string{"cursor": {"Invalid cursor."}})
			return
		}
		after = n
	}
	i := slices.IndexFunc(items, func(t T) bool { return id(t) > after })
	if i < 0 {
		i = len(items)
	}
	end := min(i+limit, len(items))
	var next, prev *string
	if end < len(items) {
		c := base64.RawURLEncoding.EncodeToString([]byte("after:" + strconv.FormatInt(id(items[end-1]), 10)))
		next = &c
	}
	if after > 0 {
		c := ""
		prev = &c
	}
	page := items[i:end]
	if page == nil {
		page = []T{}
	}
	reply(w, http.StatusOK, map[string]any{"data": page, "object": "list",
		"meta": map[string]any{"next_cursor": next, "prev_cursor": prev}})
}

func (s *Sim) account(w http.ResponseWriter, r *http.Request) {
	reply(w, http.StatusOK, map[string]any{"domain": s.cfg.Domain, "status": map[string]string{"status": "active"}})
}

func (s *Sim) listUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	us := slices.Clone(s.users)
	s.mu.Unlock()
	paginate(w, r, us, func(u User) int64 { return u.ID })
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		fail(w, http.StatusNotFound, "Not Found", nil)
		return 0, false
	}
	return id, true
}

// locked serves a request about one object: the path's id, the JSON body
// into in (when not nil), then under s.mu the object find gives, or a 404
// "<what> not found", and fn with it.
func locked[T any](s *Sim, w http.ResponseWriter, r *http.Request, in any, find func(int64) *T, what string, fn func(*T)) {
	id, ok := pathID(w, r)
	if !ok || (in != nil && !decode(w, r, in)) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := find(id)
	if v == nil {
		fail(w, http.StatusNotFound, what+" not found", nil)
		return
	}
	fn(v)
}

// set copies v into dst when v is given: the fields of a partial update.
func set[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *Sim) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var out []Customer
	for _, c := range s.customers {
		if e := q.Get("email"); e != "" && !strings.EqualFold(c.Email, e) {
			continue
		}
		if e := q.Get("external_id"); e != "" && c.ExternalID != e {
			continue
		}
		out = append(out, *c)
	}
	s.mu.Unlock()
	paginate(w, r, out, func(c Customer) int64 { return c.ID })
}

func (s *Sim) customer(id int64) *Customer {
	for _, c := range s.customers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (s *Sim) customerByEmail(e string) *Customer {
	for _, c := range s.customers {
		if e != "" && strings.EqualFold(c.Email, e) {
			return c
		}
	}
	return nil
}

func (s *Sim) createCustomer(w http.ResponseWriter, r *http.Request) {
	var in Customer
	if !decode(w, r, &in) {
		return
	}
	if in.Email == "" && in.ExternalID == "" && in.Name == "" && len(in.Channels) == 0 {
		fail(w, http.StatusBadRequest, "Validation error", map[string][]string{"_schema": {"A customer needs a name, an email, an external_id or a channel."}})
		return
	}
	if len(in.ExternalID) > 255 {
		fail(w, http.StatusBadRequest, "Validation error", map[string][]string{"external_id": {"Longer than maximum length 255."}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.customerByEmail(in.Email) != nil {
		fail(w, http.StatusBadRequest, "Validation error", map[string][]string{"email": {"A customer with this email already exists."}})
		return
	}
	in.ID, in.Created = s.id(), s.cfg.Now().UTC()
	if in.Email != "" && len(in.Channels) == 0 {
		in.Channels = []Channel{{Type: "email", Address: in.Email, Preferred: true}}
	}
	if in.Channels == nil {
		in.Channels = []Channel{}
	}
	c := in
	s.customers = append(s.customers, &c)
	reply(w, http.StatusCreated, c)
}

func (s *Sim) getCustomer(w http.ResponseWriter, r *http.Request) {
	locked(s, w, r, nil, s.customer, "Customer", func(c *Customer) { reply(w, http.StatusOK, *c) })
}

func (s *Sim) updateCustomer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name       *string         `json:"name"`
		Email      *string         `json:"email"`
		ExternalID *string         `json:"external_id"`
		Channels   []Channel       `json:"channels"`
		Data       json.RawMessage `json:"data"`
	}
	locked(s, w, r, &in, s.customer, "Customer", func(c *Customer) {
		set(&c.Name, in.Name)
		set(&c.Email, in.Email)
		set(&c.ExternalID, in.ExternalID)
		if in.Channels != nil {
			c.Channels = in.Channels
		}
		if in.Data != nil {
			c.Data = in.Data
		}
		reply(w, http.StatusOK, *c)
	})
}

func (s *Sim) ticket(id int64) *Ticket {
	for _, t := range s.tickets {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (s *Sim) listTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var out []Ticket
	for _, t := range s.tickets {
		if e := q.Get("external_id"); e != "" && t.ExternalID != e {
			continue
		}
		if c := q.Get("customer_id"); c != "" && (t.Customer == nil || strconv.FormatInt(t.Customer.ID, 10) != c) {
			continue
		}
		v := *t
		v.Messages = nil // lists show tickets without their messages
		out = append(out, v)
	}
	s.mu.Unlock()
	paginate(w, r, out, func(t Ticket) int64 { return t.ID })
}

// msgIn is a message as the API takes it.
type msgIn struct {
	Channel     string       `json:"channel"`
	Via         string       `json:"via"`
	FromAgent   *bool        `json:"from_agent"`
	Public      *bool        `json:"public"`
	Sender      *Party       `json:"sender"`
	Receiver    *Party       `json:"receiver"`
	BodyText    string       `json:"body_text"`
	BodyHTML    string       `json:"body_html"`
	ExternalID  string       `json:"external_id"`
	Attachments []Attachment `json:"attachments"`
	Sent        *time.Time   `json:"sent_datetime"`
}

// message checks m and builds it for ticket t; s.mu is held. The
// customer is created from sender.email when unknown.
func (s *Sim) message(t *Ticket, m msgIn, field string) (Message, map[string][]string) {
	bad := func(k, msg string) (Message, map[string][]string) {
		return Message{}, map[string][]string{field + k: {msg}}
	}
	switch {
	case m.Channel == "":
		return bad("channel", "Missing data for required field.")
	case m.Via == "":
		return bad("via", "Missing data for required field.")
	case m.FromAgent == nil:
		return bad("from_agent", "Missing data for required field.")
	case m.Channel == "api" && m.Via != "api":
		return bad("via", `Must be "api" on the api channel.`)
	case m.BodyText == "" && m.BodyHTML == "" && len(m.Attachments) == 0:
		return bad("body_text", "A message needs body_text, body_html or attachments.")
	case len(m.ExternalID) > 255:
		return bad("external_id", "Longer than maximum length 255.")
	case m.Sender == nil || (m.Sender.ID == 0 && m.Sender.Email == ""):
		return bad("sender", "A sender id or email is required.")
	}
	for i, a := range m.Attachments {
		u, err := url.Parse(a.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad(fmt.Sprintf("attachments.%d.url", i), "Not a valid URL.")
		}
	}
	now := s.cfg.Now().UTC()
	out := Message{ID: s.id(), TicketID: t.ID, Channel: m.Channel, Via: m.Via, FromAgent: *m.FromAgent, Public: true,
		BodyText: m.BodyText, BodyHTML: m.BodyHTML, ExternalID: m.ExternalID, Attachments: m.Attachments, Created: now}
	if out.Attachments == nil {
		out.Attachments = []Attachment{}
	}
	if out.BodyText == "" {
		out.BodyText = stripTags(out.BodyHTML)
	}
	if out.BodyHTML == "" {
		out.BodyHTML = "<div>" + htmlEscape(out.BodyText) + "</div>"
	}
	note := m.Channel == "internal-note"
	if note {
		out.Public = false
	}
	if m.Public != nil && !note {
		out.Public = *m.Public
	}
	if !*m.FromAgent {
		if m.Receiver != nil {
			return bad("receiver", "An incoming message (from_agent false) has no receiver.")
		}
		c := s.customer(m.Sender.ID)
		if c == nil && m.Sender.ID == 0 {
			if c = s.customerByEmail(m.Sender.Email); c == nil {
				c = &Customer{ID: s.id(), Email: m.Sender.Email, Channels: []Channel{{Type: "email", Address: m.Sender.Email, Preferred: true}}, Created: now}
				s.customers = append(s.customers, c)
			}
		}
		if c == nil {
			return bad("sender", "Customer not found.")
		}
		out.Sender = &Party{ID: c.ID, Email: c.Email, Name: c.Name}
	} else {
		var u *User
		for i := range s.users {
			if s.users[i].ID == m.Sender.ID || (m.Sender.ID == 0 && strings.EqualFold(s.users[i].Email, m.Sender.Email)) {
				u = &s.users[i]
			}
		}
		if u == nil {
			return bad("sender", "An outgoing message's sender must be a user.")
		}
		out.Sender = &Party{ID: u.ID, Email: u.Email, Name: u.Name}
		if !note {
			if m.Receiver == nil {
				return bad("receiver", "An outgoing message needs its receiver.")
			}
			out.Receiver = m.Receiver
		} else if m.Receiver != nil {
			return bad("receiver", "An internal note has no receiver.")
		}
	}
	// sent_datetime given: imported as sent; empty: sent now (the
	// simulator sends at once).
	sent := now
	if m.Sent != nil {
		sent = m.Sent.UTC()
	}
	out.Sent = &sent
	return out, nil
}

func (s *Sim) createTicket(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Channel    string  `json:"channel"`
		Via        string  `json:"via"`
		FromAgent  *bool   `json:"from_agent"`
		ExternalID string  `json:"external_id"`
		Subject    string  `json:"subject"`
		Status     string  `json:"status"`
		Customer   *Party  `json:"customer"`
		Messages   []msgIn `json:"messages"`
	}
	if !decode(w, r, &in) {
		return
	}
	bad := func(k, msg string) { fail(w, http.StatusBadRequest, "Validation error", map[string][]string{k: {msg}}) }
	switch {
	case len(in.Messages) < 1 || len(in.Messages) > 500:
		bad("messages", "Length must be between 1 and 500.")
		return
	case len(in.ExternalID) > 255:
		bad("external_id", "Longer than maximum length 255.")
		return
	case in.Status != "" && in.Status != "open" && in.Status != "closed":
		bad("status", "Must be one of: open, closed.")
		return
	case in.Channel == "api" && (in.Via != "api" || in.FromAgent == nil || *in.FromAgent):
		bad("channel", `An api-channel ticket needs via "api" and from_agent false.`)
		return
	}
	for i, m := range in.Messages {
		if in.Channel == "api" && (m.Channel != "api" || m.Via != "api" || m.FromAgent == nil || *m.FromAgent) {
			bad(fmt.Sprintf("messages.%d", i), `Messages of an api-channel ticket need channel "api", via "api" and from_agent false.`)
			return
		}
	}
	s.mu.Lock()
	now := s.cfg.Now().UTC()
	t := &Ticket{ID: s.id(), ExternalID: in.ExternalID, Status: "open", Channel: in.Channel, Via: in.Via, Subject: in.Subject, Created: now, Updated: now}
	if t.Channel == "" {
		t.Channel, t.Via = in.Messages[0].Channel, in.Messages[0].Via
	}
	if in.FromAgent != nil {
		t.FromAgent = *in.FromAgent
	}
	var msgs []Message
	for i, m := range in.Messages {
		msg, errs := s.message(t, m, fmt.Sprintf("messages.%d.", i))
		if errs != nil {
			s.mu.Unlock()
			fail(w, http.StatusBadRequest, "Validation error", errs)
			return
		}
		msgs = append(msgs, msg)
	}
	var c *Customer
	if in.Customer != nil {
		if c = s.customer(in.Customer.ID); c == nil && in.Customer.ID == 0 {
			c = s.customerByEmail(in.Customer.Email)
		}
		if c == nil {
			s.mu.Unlock()
			bad("customer", "Customer not found.")
			return
		}
	} else if !msgs[0].FromAgent {
		c = s.customer(msgs[0].Sender.ID)
	}
	if c != nil {
		t.Customer = &Party{ID: c.ID, Email: c.Email, Name: c.Name}
	}
	if in.Status == "closed" {
		t.Status, t.Closed = "closed", &now
	}
	t.Messages = msgs
	s.tickets = append(s.tickets, t)
	view := s.view(t)
	s.fire(TicketCreated, t, nil, nil)
	for i := range msgs {
		s.fire(TicketMessageCreated, t, &t.Messages[i], nil)
	}
	s.mu.Unlock()
	reply(w, http.StatusCreated, view)
}

// view copies a ticket; s.mu is held.
func (s *Sim) view(t *Ticket) Ticket {
	v := *t
	v.Messages = slices.Clone(t.Messages)
	return v
}

func (s *Sim) getTicket(w http.ResponseWriter, r *http.Request) {
	locked(s, w, r, nil, s.ticket, "Ticket", func(t *Ticket) { reply(w, http.StatusOK, s.view(t)) })
}

func (s *Sim) updateTicket(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status     *string `json:"status"`
		Subject    *string `json:"subject"`
		ExternalID *string `json:"external_id"`
	}
	locked(s, w, r, &in, s.ticket, "Ticket", func(t *Ticket) {
		if in.Status != nil && *in.Status != "open" && *in.Status != "closed" {
			fail(w, http.StatusBadRequest, "Validation error", map[string][]string{"status": {"Must be one of: open, closed."}})
			return
		}
		set(&t.Subject, in.Subject)
		set(&t.ExternalID, in.ExternalID)
		if in.Status != nil {
			s.setStatus(t, *in.Status, nil)
		} else {
			t.Updated = s.cfg.Now().UTC()
			s.fire(TicketUpdated, t, nil, nil)
		}
		reply(w, http.StatusOK, s.view(t))
	})
}

// setStatus opens or closes t and fires ticket-updated; s.mu is held.
func (s *Sim) setStatus(t *Ticket, status string, by *User) {
	now := s.cfg.Now().UTC()
	t.Status, t.Updated = status, now
	if status == "closed" {
		t.Closed = &now
	} else {
		t.Closed = nil
	}
	s.fire(TicketUpdated, t, nil, by)
}

func (s *Sim) listMessages(w http.ResponseWriter, r *http.Request) {
	locked(s, w, r, nil, s.ticket, "Ticket", func(t *Ticket) {
		paginate(w, r, t.Messages, func(m Message) int64 { return m.ID })
	})
}

func (s *Sim) createMessage(w http.ResponseWriter, r *http.Request) {
	switch a := r.URL.Query().Get("action"); a {
	case "", "force", "retry", "cancel":
	default:
		fail(w, http.StatusBadRequest, "Validation error", map[string][]string{"action": {"Must be one of: force, retry, cancel."}})
		return
	}
	var in msgIn
	locked(s, w, r, &in, s.ticket, "Ticket", func(t *Ticket) {
		m, errs := s.message(t, in, "")
		if errs != nil {
			fail(w, http.StatusBadRequest, "Validation error", errs)
			return
		}
		reply(w, http.StatusCreated, s.add(t, m))
	})
}

// add appends m to t, reopening a closed ticket on a customer's message,
// and fires; s.mu is held.
func (s *Sim) add(t *Ticket, m Message) Message {
	t.Messages = append(t.Messages, m)
	t.Updated = m.Created
	s.fire(TicketMessageCreated, t, &t.Messages[len(t.Messages)-1], nil)
	if !m.FromAgent && t.Status == "closed" {
		s.setStatus(t, "open", nil)
	}
	return m
}

func (s *Sim) listIntegrations(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var out []Integration
	for _, in := range s.integrations {
		out = append(out, *in)
	}
	s.mu.Unlock()
	paginate(w, r, out, func(i Integration) int64 { return i.ID })
}

// checkIntegration validates an HTTP integration.
func checkIntegration(in *Integration) map[string][]string {
	if in.Type != "http" {
		return map[string][]string{"type": {`Only "http" integrations are simulated.`}}
	}
	if in.Name == "" {
		return map[string][]string{"name": {"Missing data for required field."}}
	}
	u, err := url.Parse(strings.NewReplacer("{{", "", "}}", "").Replace(in.HTTP.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return map[string][]string{"http.url": {"Not a valid URL."}}
	}
	if in.HTTP.Method == "" {
		in.HTTP.Method = http.MethodPost
	}
	switch in.HTTP.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete:
	default:
		return map[string][]string{"http.method": {"Must be one of: GET, POST, PUT, DELETE."}}
	}
	if in.HTTP.RequestContentType == "" {
		in.HTTP.RequestContentType = "application/json"
	}
	switch in.HTTP.RequestContentType {
	case "application/json", "application/x-www-form-urlencoded":
	default:
		return map[string][]string{"http.request_content_type": {"Must be application/json or application/x-www-form-urlencoded."}}
	}
	for k := range in.HTTP.Triggers {
		switch k {
		case TicketCreated, TicketUpdated, TicketMessageCreated, TicketMessageFailed, TicketSelfUnsnoozed:
		default:
			return map[string][]string{"http.triggers": {"Unknown trigger " + k + "."}}
		}
	}
	return nil
}

func (s *Sim) createIntegration(w http.ResponseWriter, r *http.Request) {
	var in Integration
	if !decode(w, r, &in) {
		return
	}
	if errs := checkIntegration(&in); errs != nil {
		fail(w, http.StatusBadRequest, "Validation error", errs)
		return
	}
	reply(w, http.StatusCreated, s.AddIntegration(in))
}

// AddIntegration stores an HTTP integration as POST /api/integrations does.
func (s *Sim) AddIntegration(in Integration) Integration {
	s.mu.Lock()
	defer s.mu.Unlock()
	in.ID, in.Type, in.Failures, in.Deactivated = s.id(), "http", 0, nil
	if in.HTTP.Method == "" {
		in.HTTP.Method = http.MethodPost
	}
	v := in
	s.integrations = append(s.integrations, &v)
	return v
}

func (s *Sim) integration(id int64) *Integration {
	for _, in := range s.integrations {
		if in.ID == id {
			return in
		}
	}
	return nil
}

func (s *Sim) getIntegration(w http.ResponseWriter, r *http.Request) {
	locked(s, w, r, nil, s.integration, "Integration", func(in *Integration) { reply(w, http.StatusOK, *in) })
}

func (s *Sim) updateIntegration(w http.ResponseWriter, r *http.Request) {
	var in Integration
	locked(s, w, r, &in, s.integration, "Integration", func(cur *Integration) {
		if in.Type == "" {
			in.Type = "http"
		}
		if errs := checkIntegration(&in); errs != nil {
			fail(w, http.StatusBadRequest, "Validation error", errs)
			return
		}
		cur.Name, cur.HTTP, cur.Failures, cur.Deactivated = in.Name, in.HTTP, 0, nil // saving re-enables it
		reply(w, http.StatusOK, *cur)
	})
}

func (s *Sim) deleteIntegration(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.integrations, func(in *Integration) bool { return in.ID == id })
	if i < 0 {
		fail(w, http.StatusNotFound, "Integration not found", nil)
		return
	}
	s.integrations = slices.Delete(s.integrations, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&amp;", "&").Replace(b.String())
}
