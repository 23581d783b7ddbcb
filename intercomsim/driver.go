package intercomsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrNotFound: no such conversation or admin.
var ErrNotFound = errors.New("intercomsim: not found")

// actor returns the admin with id as a part's author; s.mu is held.
func (s *Sim) actor(id string) (Author, error) {
	a, ok := s.admin(id)
	if !ok {
		return Author{}, fmt.Errorf("%w: no admin %q", ErrNotFound, id)
	}
	return Author{Type: "admin", ID: a.ID, Name: a.Name, Email: a.Email}, nil
}

// adminReply adds an admin's comment, note or quick reply; s.mu is held.
func (s *Sim) adminReply(c *Conversation, admin, kind, text string, files []Attachment) (Part, error) {
	by, err := s.actor(admin)
	if err != nil {
		return Part{}, err
	}
	topic := TopicReplied
	switch kind {
	case "comment", "quick_reply":
	case "note":
		topic = TopicNoted
	default:
		return Part{}, fmt.Errorf("message_type must be comment, note or quick_reply for an admin reply")
	}
	p := s.addPart(c, kind, text, by, files)
	if kind != "note" && c.State == "closed" {
		c.State = "open"
	}
	s.notify(topic, c, []Part{p})
	return p, nil
}

// closeConv closes c as admin; s.mu is held.
func (s *Sim) closeConv(c *Conversation, admin, text string) error {
	by, err := s.actor(admin)
	if err != nil {
		return err
	}
	if c.State == "closed" {
		return nil
	}
	c.State = "closed"
	s.notify(TopicClosed, c, []Part{s.addPart(c, "close", text, by, nil)})
	return nil
}

// snooze snoozes c until (Unix seconds); s.mu is held.
func (s *Sim) snooze(c *Conversation, admin string, until int64) error {
	by, err := s.actor(admin)
	switch {
	case err != nil:
		return err
	case until <= s.cfg.Now().Unix():
		return fmt.Errorf("snoozed_until must be in the future")
	case c.State == "closed":
		return fmt.Errorf("a closed conversation cannot be snoozed")
	}
	c.State, c.SnoozedUntil = "snoozed", until
	s.notify(TopicSnoozed, c, []Part{s.addPart(c, "snoozed", "", by, nil)})
	return nil
}

// open opens c (unsnoozes or reopens it); s.mu is held.
func (s *Sim) open(c *Conversation, admin string) error {
	by, err := s.actor(admin)
	if err != nil {
		return err
	}
	topic := TopicOpened
	switch c.State {
	case "open":
		return nil
	case "snoozed":
		topic = TopicUnsnoozed
	}
	c.State, c.SnoozedUntil = "open", 0
	s.notify(topic, c, []Part{s.addPart(c, "open", "", by, nil)})
	return nil
}

// assign gives c to assignee (an admin; a team or "0" for nobody); s.mu is held.
func (s *Sim) assign(c *Conversation, admin, assignee, kind string) error {
	by, err := s.actor(admin)
	if err != nil {
		return err
	}
	if assignee == "" {
		return fmt.Errorf("assignee_id is required")
	}
	to := &Assigned{Type: "admin", ID: assignee}
	switch {
	case kind == "team":
		to.Type = "team"
	case assignee == "0":
		to.Type = "nobody_admin"
	default:
		if _, ok := s.admin(assignee); !ok {
			return fmt.Errorf("%w: no admin %q to assign to", ErrNotFound, assignee)
		}
		c.AdminAssignee = assignee
	}
	p := s.addPart(c, "assignment", "", by, nil)
	p.AssignedTo = to
	c.Parts[len(c.Parts)-1] = p
	s.notify(TopicAssigned, c, []Part{p})
	return nil
}

// with runs fn on conversation id under s.mu.
func (s *Sim) with(id string, fn func(*Conversation) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversation(id)
	if c == nil {
		return fmt.Errorf("%w: no conversation %s", ErrNotFound, id)
	}
	return fn(c)
}

// Reply has admin reply to the conversation's contact, with files.
func (s *Sim) Reply(conv, admin, text string, files ...Attachment) (Part, error) {
	var p Part
	err := s.with(conv, func(c *Conversation) (err error) {
		for i := range files {
			if files[i].Type == "" {
				files[i].Type = "upload"
			}
		}
		p, err = s.adminReply(c, admin, "comment", text, files)
		return err
	})
	return p, err
}

// Note has admin add an internal note.
func (s *Sim) Note(conv, admin, text string) (Part, error) {
	var p Part
	err := s.with(conv, func(c *Conversation) (err error) { p, err = s.adminReply(c, admin, "note", text, nil); return err })
	return p, err
}

// CloseConversation has admin close the conversation.
func (s *Sim) CloseConversation(conv, admin string) error {
	return s.with(conv, func(c *Conversation) error { return s.closeConv(c, admin, "") })
}

// Snooze has admin snooze the conversation until until.
func (s *Sim) Snooze(conv, admin string, until time.Time) error {
	return s.with(conv, func(c *Conversation) error { return s.snooze(c, admin, until.Unix()) })
}

// Unsnooze has admin take the conversation up again.
func (s *Sim) Unsnooze(conv, admin string) error {
	return s.with(conv, func(c *Conversation) error { return s.open(c, admin) })
}

// Assign has admin give the conversation to assignee (an admin id; "0"
// unassigns).
func (s *Sim) Assign(conv, admin, assignee string) error {
	return s.with(conv, func(c *Conversation) error { return s.assign(c, admin, assignee, "admin") })
}

// Read has admin read the conversation.
func (s *Sim) Read(conv, admin string) error {
	return s.with(conv, func(c *Conversation) error {
		if _, err := s.actor(admin); err != nil {
			return err
		}
		c.Read = true
		s.notify(TopicRead, c, nil)
		return nil
	})
}

// Reindex lets search find every contact and conversation now, as the
// index catches up.
func (s *Sim) Reindex() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.contacts {
		c.indexed = time.Time{}
	}
	for _, c := range s.convs {
		c.indexed = time.Time{}
	}
}

// Conversations lists the conversations with all their parts.
func (s *Sim) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conversation, len(s.convs))
	for i, c := range s.convs {
		out[i] = *c
		out[i].Parts = append([]Part(nil), c.Parts...)
	}
	return out
}

// Conversation returns one conversation.
func (s *Sim) Conversation(id string) (Conversation, bool) {
	for _, c := range s.Conversations() {
		if c.ID == id {
			return c, true
		}
	}
	return Conversation{}, false
}

// Contacts lists the contacts.
func (s *Sim) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, len(s.contacts))
	for i, c := range s.contacts {
		out[i] = *c
	}
	return out
}

// AddSchedule adds an office-hours schedule and returns it with its id.
func (s *Sim) AddSchedule(sc Schedule) Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc.Type, sc.ID = "office_hours_schedule", s.next()
	for i := range sc.Intervals {
		sc.Intervals[i].DayOfWeek = sc.Intervals[i].StartMinute / (24 * 60)
	}
	now := s.cfg.Now().Unix()
	sc.CreatedAt, sc.UpdatedAt = now, now
	s.schedules = append(s.schedules, sc)
	return sc
}

// AddException adds an exception to a schedule.
func (s *Sim) AddException(schedule string, e Exception) Exception {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Type, e.ID, e.ScheduleID = "office_hours_exception", s.next(), schedule
	if e.Intervals == nil {
		e.Intervals = []Interval{}
	}
	s.except[schedule] = append(s.except[schedule], e)
	return e
}

// driverRoutes serves the driver over HTTP (no auth: a local test tool):
//
//	POST /_sim/admins                          {"name","email"} → the admin and its access token
//	POST /_sim/webhooks                        {"url","topics"} → the subscription (HEAD probe, then ping)
//	POST /_sim/conversations/{id}/reply        {"admin_id","text","attachments"}
//	POST /_sim/conversations/{id}/note         {"admin_id","text"}
//	POST /_sim/conversations/{id}/close        {"admin_id"}
//	POST /_sim/conversations/{id}/snooze       {"admin_id","until"} (Unix seconds)
//	POST /_sim/conversations/{id}/unsnooze     {"admin_id"}
//	POST /_sim/conversations/{id}/assign       {"admin_id","assignee_id"}
//	POST /_sim/conversations/{id}/read         {"admin_id"}
//	POST /_sim/faults                          {"throttle","fail","fail_status","lose","duplicate","hold","release","reverse"}
//	GET  /_sim/conversations, /_sim/deliveries
func (s *Sim) driverRoutes(mux *http.ServeMux) {
	type act struct {
		Admin       string       `json:"admin_id"`
		Text        string       `json:"text"`
		Attachments []Attachment `json:"attachments"`
		Until       int64        `json:"until"`
		Assignee    string       `json:"assignee_id"`
	}
	route := func(verb string, fn func(id string, a act) error) {
		mux.HandleFunc("POST /_sim/conversations/{id}/"+verb, func(w http.ResponseWriter, r *http.Request) {
			var a act
			if !read(w, r, &a) {
				return
			}
			err := fn(r.PathValue("id"), a)
			switch {
			case errors.Is(err, ErrNotFound):
				errorList(w, http.StatusNotFound, "not_found", err.Error())
			case err != nil:
				errorList(w, http.StatusBadRequest, "parameter_invalid", err.Error())
			default:
				c, _ := s.Conversation(r.PathValue("id"))
				answer(w, map[string]any{"ok": true, "state": c.State, "parts": len(c.Parts)})
			}
		})
	}
	route("reply", func(id string, a act) error { _, err := s.Reply(id, a.Admin, a.Text, a.Attachments...); return err })
	route("note", func(id string, a act) error { _, err := s.Note(id, a.Admin, a.Text); return err })
	route("close", func(id string, a act) error { return s.CloseConversation(id, a.Admin) })
	route("snooze", func(id string, a act) error { return s.Snooze(id, a.Admin, time.Unix(a.Until, 0)) })
	route("unsnooze", func(id string, a act) error { return s.Unsnooze(id, a.Admin) })
	route("assign", func(id string, a act) error { return s.Assign(id, a.Admin, a.Assignee) })
	route("read", func(id string, a act) error { return s.Read(id, a.Admin) })
	mux.HandleFunc("POST /_sim/admins", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name, Email string }
		if !read(w, r, &in) {
			return
		}
		a, tok := s.AddAdmin(in.Name, in.Email)
		answer(w, map[string]any{"admin": a, "access_token": tok})
	})
	mux.HandleFunc("POST /_sim/webhooks", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			URL    string   `json:"url"`
			Topics []string `json:"topics"`
		}
		if !read(w, r, &in) {
			return
		}
		h, err := s.Subscribe(r.Context(), in.URL, in.Topics...)
		if err != nil {
			errorList(w, http.StatusBadRequest, "parameter_invalid", err.Error())
			return
		}
		answer(w, map[string]any{"id": h.ID, "url": h.URL})
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Throttle   int  `json:"throttle"`
			Fail       int  `json:"fail"`
			FailStatus int  `json:"fail_status"`
			Lose       int  `json:"lose"`
			Duplicate  bool `json:"duplicate"`
			Hold       bool `json:"hold"`
			Release    bool `json:"release"`
			Reverse    bool `json:"reverse"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields() // a misspelt fault must not pass for a set one
		if err := dec.Decode(&in); err != nil {
			errorList(w, http.StatusBadRequest, "parameter_invalid", "faults: "+err.Error())
			return
		}
		s.Throttle(in.Throttle)
		s.Fail(in.Fail, in.FailStatus)
		s.Lose(in.Lose)
		s.Duplicate(in.Duplicate)
		if in.Hold {
			s.Hold()
		}
		if in.Release {
			s.Release(in.Reverse)
		}
		answer(w, map[string]bool{"ok": true})
	})
	mux.HandleFunc("GET /_sim/conversations", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		out := make([]map[string]any, len(s.convs))
		for i, c := range s.convs {
			out[i] = s.view(c, nil, s.cfg.Version)
		}
		s.mu.Unlock()
		answer(w, out)
	})
	mux.HandleFunc("GET /_sim/deliveries", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(s.Deliveries())
	})
}
