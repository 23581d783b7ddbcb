package intercomsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// knownVersions are the Intercom-Version values the API accepts.
var knownVersions = []string{"1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8",
	"2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16", "2.17", "Preview", "Unstable"}

// Handler serves the REST API and the driver under /_sim/.
func (s *Sim) Handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("GET /me", s.me)
	api.HandleFunc("GET /admins", s.listAdmins)
	api.HandleFunc("GET /admins/{id}", s.getAdmin)
	api.HandleFunc("POST /contacts", s.createContact)
	api.HandleFunc("POST /contacts/search", s.searchContacts)
	api.HandleFunc("GET /contacts/find_by_external_id/{ext}", s.findContact)
	api.HandleFunc("GET /contacts/{id}", s.getContact)
	api.HandleFunc("POST /conversations", s.createConversation)
	api.HandleFunc("POST /conversations/search", s.searchConversations)
	api.HandleFunc("GET /conversations/{id}", s.getConversation)
	api.HandleFunc("POST /conversations/{id}/reply", s.replyConversation)
	api.HandleFunc("POST /conversations/{id}/parts", s.partConversation)
	api.HandleFunc("GET /office_hours_schedules", s.listSchedules)
	api.HandleFunc("GET /office_hours_schedules/{id}/office_hours_exceptions", s.listExceptions)
	mux := http.NewServeMux()
	s.driverRoutes(mux)
	mux.Handle("/", s.guard(api))
	return mux
}

// errorList writes Intercom's error body.
func errorList(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "error.list", "request_id": randomHex(8),
		"errors": []map[string]any{{"code": code, "message": msg, "field": nil}}})
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// guard checks the token and the version, counts the call in the rate
// limit (headers on every answer) and injects faults.
func (s *Sim) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		v := r.Header.Get("Intercom-Version")
		s.mu.Lock()
		_, known := s.tokens[tok]
		if !ok || !known {
			s.mu.Unlock()
			errorList(w, http.StatusUnauthorized, "unauthorized", "Access Token Invalid")
			return
		}
		if v != "" && !slices.Contains(knownVersions, v) {
			s.mu.Unlock()
			errorList(w, http.StatusBadRequest, "intercom_version_invalid", "The requested version "+v+" is not valid")
			return
		}
		s.versions = append(s.versions, v)
		now := s.cfg.Now()
		if now.Sub(s.window) >= s.cfg.Window {
			s.window, s.used = now.Truncate(s.cfg.Window), 0
		}
		reset := s.window.Add(s.cfg.Window)
		f := &s.faults
		limited := s.used >= s.cfg.Limit
		throttled := limited || f.throttle > 0
		failed, code, slow := !throttled && f.fail > 0, f.failCode, f.slow
		lost := false
		switch {
		case limited:
		case f.throttle > 0:
			f.throttle--
			reset = now.Add(time.Second)
		case failed:
			f.fail--
		default:
			s.used++
			if lost = f.lose > 0; lost {
				f.lose--
			}
		}
		left := max(s.cfg.Limit-s.used, 0)
		if throttled {
			left = 0
		}
		s.mu.Unlock()
		if slow > 0 {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
				return
			}
		}
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.cfg.Limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(left))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
		switch {
		case throttled:
			errorList(w, http.StatusTooManyRequests, "rate_limit_exceeded", "You have exceeded the rate limit. Please try again later.")
		case failed:
			errorList(w, code, "server_error", http.StatusText(code))
		case lost:
			next.ServeHTTP(discard{h: http.Header{}}, r)
			errorList(w, http.StatusServiceUnavailable, "server_error", "Service Unavailable")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// discard is a ResponseWriter whose answer nobody gets.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// ceilUnix is t in Unix seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// read decodes a JSON body; a bad one is answered 400.
func read(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		errorList(w, http.StatusBadRequest, "parameter_invalid", "Invalid JSON: "+err.Error())
		return false
	}
	return true
}

func (s *Sim) me(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	a, _ := s.admin(s.tokens[tok])
	s.mu.Unlock()
	answer(w, map[string]any{"type": "admin", "id": a.ID, "name": a.Name, "email": a.Email,
		"app": map[string]any{"type": "app", "id_code": s.cfg.AppID}})
}

func (s *Sim) listAdmins(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	answer(w, map[string]any{"type": "admin.list", "admins": slices.Clone(s.admins)})
}

func (s *Sim) getAdmin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, ok := s.admin(r.PathValue("id"))
	s.mu.Unlock()
	if !ok {
		errorList(w, http.StatusNotFound, "admin_not_found", "Admin not found")
		return
	}
	answer(w, a)
}

// contactBy returns the contact matching field = value; s.mu is held.
func (s *Sim) contactBy(field, value string, indexedOnly bool) []*Contact {
	now := s.cfg.Now()
	var out []*Contact
	for _, c := range s.contacts {
		if indexedOnly && now.Before(c.indexed) {
			continue
		}
		var have string
		switch field {
		case "id":
			have = c.ID
		case "external_id":
			have = deref(c.ExternalID)
		case "email":
			have = strings.ToLower(deref(c.Email))
			value = strings.ToLower(value)
		case "role":
			have = c.Role
		default:
			continue
		}
		if have != "" && have == value {
			out = append(out, c)
		}
	}
	return out
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Sim) createContact(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role       string `json:"role"`
		ExternalID string `json:"external_id"`
		Email      string `json:"email"`
		Name       string `json:"name"`
	}
	if !read(w, r, &in) {
		return
	}
	if in.Role == "" && in.ExternalID == "" && in.Email == "" {
		errorList(w, http.StatusBadRequest, "parameter_invalid", "Contact must have at least one of role, email or external_id")
		return
	}
	if in.Role == "" {
		in.Role = "user"
	}
	if in.Role != "user" && in.Role != "lead" {
		errorList(w, http.StatusBadRequest, "parameter_invalid", "role must be user or lead")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range [][2]string{{"external_id", in.ExternalID}, {"email", in.Email}} {
		if f[1] == "" {
			continue
		}
		if dup := s.contactBy(f[0], f[1], false); len(dup) > 0 {
			errorList(w, http.StatusConflict, "conflict", "A contact matching those details already exists with id="+dup[0].ID)
			return
		}
	}
	now := s.cfg.Now()
	c := &Contact{Type: "contact", ID: randomHex(12), WorkspaceID: s.cfg.AppID, Role: in.Role, ExternalID: ptr(in.ExternalID),
		Email: ptr(in.Email), Name: ptr(in.Name), CreatedAt: now.Unix(), indexed: now.Add(s.cfg.IndexDelay)}
	s.contacts = append(s.contacts, c)
	answer(w, c)
}

// query is a search query, a comparison or an AND of comparisons.
type query struct {
	Field    string          `json:"field"`
	Operator string          `json:"operator"`
	Value    json.RawMessage `json:"value"`
}

// clauses flattens an AND query into its comparisons.
func (q query) clauses() ([]query, error) {
	if q.Operator != "AND" {
		return []query{q}, nil
	}
	var sub []query
	if err := json.Unmarshal(q.Value, &sub); err != nil {
		return nil, err
	}
	return sub, nil
}

func (q query) text() string {
	var v string
	if json.Unmarshal(q.Value, &v) != nil {
		return strings.Trim(string(q.Value), `"`)
	}
	return v
}

// readQuery reads a search body's query as its comparisons; a bad one is
// answered 400.
func readQuery(w http.ResponseWriter, r *http.Request) ([]query, bool) {
	var in struct {
		Query query `json:"query"`
	}
	if !read(w, r, &in) {
		return nil, false
	}
	cl, err := in.Query.clauses()
	if err != nil || len(cl) == 0 {
		errorList(w, http.StatusBadRequest, "parameter_invalid", "query is invalid")
		return nil, false
	}
	return cl, true
}

func (s *Sim) searchContacts(w http.ResponseWriter, r *http.Request) {
	cl, ok := readQuery(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var found []*Contact
	for i, c := range cl {
		if c.Operator != "=" {
			s.mu.Unlock()
			errorList(w, http.StatusBadRequest, "parameter_invalid", "the simulator searches with = only")
			return
		}
		m := s.contactBy(c.Field, c.text(), true)
		if i == 0 {
			found = m
		} else {
			found = slices.DeleteFunc(found, func(x *Contact) bool { return !slices.Contains(m, x) })
		}
	}
	out := make([]Contact, len(found))
	for i, c := range found {
		out[i] = *c
	}
	s.mu.Unlock()
	answer(w, map[string]any{"type": "list", "data": out, "total_count": len(out),
		"pages": map[string]any{"type": "pages", "page": 1, "per_page": 50, "total_pages": 1}})
}

func (s *Sim) findContact(w http.ResponseWriter, r *http.Request) {
	s.contactAnswer(w, "external_id", r.PathValue("ext"))
}

func (s *Sim) getContact(w http.ResponseWriter, r *http.Request) {
	s.contactAnswer(w, "id", r.PathValue("id"))
}

func (s *Sim) contactAnswer(w http.ResponseWriter, field, value string) {
	s.mu.Lock()
	m := s.contactBy(field, value, false)
	var c Contact
	if len(m) > 0 {
		c = *m[0]
	}
	s.mu.Unlock()
	if len(m) == 0 {
		errorList(w, http.StatusNotFound, "not_found", "User Not Found")
		return
	}
	answer(w, c)
}

// conversation returns the conversation id; s.mu is held.
func (s *Sim) conversation(id string) *Conversation {
	for _, c := range s.convs {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// attachments checks attachment URLs and base64 files (≤10 each).
func attachments(urls []string, files []struct {
	ContentType string `json:"content_type"`
	Name        string `json:"name"`
	Data        string `json:"data"`
}) ([]Attachment, error) {
	if len(urls) > 10 || len(files) > 10 {
		return nil, fmt.Errorf("at most 10 attachment_urls and 10 attachment_files")
	}
	out := []Attachment{}
	for _, u := range urls {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("attachment_urls must be http(s) URLs, not %q", u)
		}
		name := u[strings.LastIndex(u, "/")+1:]
		out = append(out, Attachment{Type: "upload", Name: name, URL: u})
	}
	for i, f := range files {
		b, err := base64.StdEncoding.DecodeString(f.Data)
		if err != nil || f.Name == "" || f.ContentType == "" {
			return nil, fmt.Errorf("attachment_files[%d] needs content_type, name and base64 data", i)
		}
		out = append(out, Attachment{Type: "upload", Name: f.Name, ContentType: f.ContentType, Filesize: int64(len(b)),
			URL: "https://downloads.intercomcdn.com/i/o/sim/" + randomHex(6) + "/" + f.Name})
	}
	return out, nil
}

type fileIn = struct {
	ContentType string `json:"content_type"`
	Name        string `json:"name"`
	Data        string `json:"data"`
}

func (s *Sim) createConversation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		From struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"from"`
		Body           string   `json:"body"`
		AttachmentURLs []string `json:"attachment_urls"`
	}
	if !read(w, r, &in) {
		return
	}
	switch {
	case in.From.Type != "lead" && in.From.Type != "user" && in.From.Type != "contact":
		errorList(w, http.StatusBadRequest, "parameter_invalid", "from.type must be lead, user or contact")
		return
	case strings.TrimSpace(in.Body) == "":
		errorList(w, http.StatusBadRequest, "parameter_not_found", "Body is required")
		return
	}
	files, err := attachments(in.AttachmentURLs, nil)
	if err != nil {
		errorList(w, http.StatusBadRequest, "parameter_invalid", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.contactBy("id", in.From.ID, false)
	if len(m) == 0 {
		errorList(w, http.StatusNotFound, "not_found", "User Not Found")
		return
	}
	at := s.cfg.Now()
	now := at.Unix()
	c := &Conversation{ID: s.next(), CreatedAt: now, UpdatedAt: now, State: "open", Contact: m[0].ID, ExternalID: deref(m[0].ExternalID),
		indexed: at.Add(s.cfg.IndexDelay),
		Source: Source{Type: "conversation", ID: s.next(), DeliveredAs: "customer_initiated", Body: in.Body,
			Author: Author{Type: m[0].Role, ID: m[0].ID, Name: deref(m[0].Name), Email: deref(m[0].Email)}, Attachments: files}}
	s.convs = append(s.convs, c)
	s.notify(TopicUserCreated, c, nil)
	answer(w, map[string]any{"type": "user_message", "id": c.Source.ID, "created_at": now, "body": in.Body,
		"message_type": "inapp", "conversation_id": c.ID})
}

func (s *Sim) searchConversations(w http.ResponseWriter, r *http.Request) {
	cl, ok := readQuery(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, c := range s.convs {
		match := !s.cfg.Now().Before(c.indexed)
		for _, q := range cl {
			switch {
			case q.Field == "contact_ids" && q.Operator == "=":
				match = match && c.Contact == q.text()
			case q.Field == "source.body" && q.Operator == "~":
				match = match && strings.Contains(c.Source.Body, q.text())
			case q.Field == "state" && q.Operator == "=":
				match = match && c.State == q.text()
			default:
				errorList(w, http.StatusBadRequest, "parameter_invalid", "the simulator cannot search "+q.Field+" "+q.Operator)
				return
			}
		}
		if match {
			out = append(out, s.view(c, nil, s.cfg.Version))
		}
	}
	answer(w, map[string]any{"type": "conversation.list", "conversations": out, "total_count": len(out),
		"pages": map[string]any{"type": "pages", "page": 1, "per_page": 20, "total_pages": 1}})
}

// body renders a part's text as version shows it: HTML before 2.15.
func body(text, version string) string {
	if plain(version) {
		return text
	}
	return "<p>" + strings.ReplaceAll(html.EscapeString(text), "\n", "<br>") + "</p>"
}

// plain reports whether version shows part bodies as plain text (2.15 on).
func plain(version string) bool {
	major, minor, ok := strings.Cut(version, ".")
	n, err := strconv.Atoi(minor)
	return !ok || err != nil || major > "2" || (major == "2" && n >= 15)
}

// view renders a conversation: with parts (nil: all of them, at most 500)
// in version's body format; s.mu is held.
func (s *Sim) view(c *Conversation, parts []Part, version string) map[string]any {
	if parts == nil {
		parts = c.Parts[max(0, len(c.Parts)-500):]
	}
	shown := make([]Part, len(parts))
	for i, p := range parts {
		p.Body = body(p.Body, version)
		shown[i] = p
	}
	var snoozed, assignee any
	if c.State == "snoozed" {
		snoozed = c.SnoozedUntil
	}
	if c.AdminAssignee != "" {
		assignee, _ = strconv.ParseInt(c.AdminAssignee, 10, 64)
	}
	src := c.Source
	src.Body = body(src.Body, version)
	return map[string]any{"type": "conversation", "id": c.ID, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt,
		"state": c.State, "open": c.State != "closed", "read": c.Read, "snoozed_until": snoozed,
		"admin_assignee_id": assignee, "team_assignee_id": nil, "source": src,
		"contacts":           map[string]any{"type": "contact.list", "contacts": []map[string]any{{"type": "contact", "id": c.Contact, "external_id": c.ExternalID}}},
		"conversation_parts": map[string]any{"type": "conversation_part.list", "total_count": len(shown), "conversation_parts": shown}}
}

func (s *Sim) getConversation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversation(r.PathValue("id"))
	if c == nil {
		errorList(w, http.StatusNotFound, "not_found", "Resource Not Found")
		return
	}
	answer(w, s.view(c, nil, r.Header.Get("Intercom-Version")))
}

// addPart appends a part by author to c; s.mu is held.
func (s *Sim) addPart(c *Conversation, typ, text string, by Author, files []Attachment) Part {
	at := s.cfg.Now()
	now := at.Unix()
	if files == nil {
		files = []Attachment{}
	}
	p := Part{Type: "conversation_part", ID: s.next(), PartType: typ, Body: text, CreatedAt: now, UpdatedAt: now, NotifiedAt: now,
		Author: by, Attachments: files, Stored: at}
	c.Parts = append(c.Parts, p)
	c.UpdatedAt = now
	return p
}

func (s *Sim) replyConversation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MessageType     string   `json:"message_type"`
		Type            string   `json:"type"`
		IntercomUserID  string   `json:"intercom_user_id"`
		UserID          string   `json:"user_id"`
		Email           string   `json:"email"`
		AdminID         string   `json:"admin_id"`
		Body            string   `json:"body"`
		AttachmentURLs  []string `json:"attachment_urls"`
		AttachmentFiles []fileIn `json:"attachment_files"`
	}
	if !read(w, r, &in) {
		return
	}
	files, err := attachments(in.AttachmentURLs, in.AttachmentFiles)
	if err != nil {
		errorList(w, http.StatusBadRequest, "parameter_invalid", err.Error())
		return
	}
	if strings.TrimSpace(in.Body) == "" && len(files) == 0 {
		errorList(w, http.StatusBadRequest, "parameter_not_found", "Body is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch in.Type {
	case "user":
		if in.MessageType != "comment" {
			errorList(w, http.StatusBadRequest, "parameter_invalid", "message_type must be comment for a user reply")
			return
		}
		var ids []*Contact
		given := 0
		for _, f := range [][2]string{{"id", in.IntercomUserID}, {"external_id", in.UserID}, {"email", in.Email}} {
			if f[1] != "" {
				given++
				ids = s.contactBy(f[0], f[1], false)
			}
		}
		if given != 1 {
			errorList(w, http.StatusBadRequest, "parameter_invalid", "exactly one of intercom_user_id, user_id or email is required")
			return
		}
		if len(ids) == 0 {
			errorList(w, http.StatusNotFound, "not_found", "User Not Found")
			return
		}
		ct := ids[0]
		c := s.target(r.PathValue("id"), ct.ID)
		if c == nil || c.Contact != ct.ID {
			errorList(w, http.StatusNotFound, "not_found", "Resource Not Found")
			return
		}
		p := s.addPart(c, "comment", in.Body, Author{Type: ct.Role, ID: ct.ID, Name: deref(ct.Name), Email: deref(ct.Email)}, files)
		if c.State != "open" {
			c.State = "open" // a user reply reopens
		}
		s.notify(TopicUserReplied, c, []Part{p})
		answer(w, s.view(c, nil, r.Header.Get("Intercom-Version")))
	case "admin":
		c := s.target(r.PathValue("id"), "")
		if c == nil {
			errorList(w, http.StatusNotFound, "not_found", "Resource Not Found")
			return
		}
		if _, err := s.adminReply(c, in.AdminID, in.MessageType, in.Body, files); err != nil {
			errorList(w, http.StatusBadRequest, "parameter_invalid", err.Error())
			return
		}
		answer(w, s.view(c, nil, r.Header.Get("Intercom-Version")))
	default:
		errorList(w, http.StatusBadRequest, "parameter_invalid", "type must be user or admin")
	}
}

// target resolves a conversation id or "last" (the contact's latest); s.mu is held.
func (s *Sim) target(id, contact string) *Conversation {
	if id != "last" {
		return s.conversation(id)
	}
	for i := len(s.convs) - 1; i >= 0; i-- {
		if contact == "" || s.convs[i].Contact == contact {
			return s.convs[i]
		}
	}
	return nil
}

func (s *Sim) partConversation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MessageType  string `json:"message_type"`
		Type         string `json:"type"`
		AdminID      string `json:"admin_id"`
		Body         string `json:"body"`
		SnoozedUntil int64  `json:"snoozed_until"`
		AssigneeID   string `json:"assignee_id"`
	}
	if !read(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversation(r.PathValue("id"))
	if c == nil {
		errorList(w, http.StatusNotFound, "not_found", "Resource Not Found")
		return
	}
	var err error
	switch in.MessageType {
	case "close":
		err = s.closeConv(c, in.AdminID, in.Body)
	case "snoozed":
		err = s.snooze(c, in.AdminID, in.SnoozedUntil)
	case "open":
		err = s.open(c, in.AdminID)
	case "assignment":
		err = s.assign(c, in.AdminID, in.AssigneeID, in.Type)
	default:
		err = fmt.Errorf("message_type must be close, snoozed, open or assignment")
	}
	if err != nil {
		errorList(w, http.StatusBadRequest, "parameter_invalid", err.Error())
		return
	}
	answer(w, s.view(c, nil, r.Header.Get("Intercom-Version")))
}

func (s *Sim) listSchedules(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	answer(w, map[string]any{"type": "office_hours_schedule.list", "data": append([]Schedule{}, s.schedules...)})
}

func (s *Sim) listExceptions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if !slices.ContainsFunc(s.schedules, func(x Schedule) bool { return x.ID == id }) {
		errorList(w, http.StatusNotFound, "not_found", "Office hours schedule not found")
		return
	}
	answer(w, map[string]any{"type": "office_hours_exception.list", "data": append([]Exception{}, s.except[id]...)})
}
