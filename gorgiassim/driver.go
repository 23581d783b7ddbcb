package gorgiassim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ErrNotFound: no such ticket or user.
var ErrNotFound = errors.New("gorgiassim: not found")

// agent returns the user with this email; s.mu is held.
func (s *Sim) agent(email string) (*User, error) {
	for i := range s.users {
		if s.users[i].Email == email {
			return &s.users[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no user %s", ErrNotFound, email)
}

func (s *Sim) agentTicket(ticket int64, email string) (*Ticket, *User, error) {
	u, err := s.agent(email)
	if err != nil {
		return nil, nil, err
	}
	t := s.ticket(ticket)
	if t == nil {
		return nil, nil, fmt.Errorf("%w: no ticket %d", ErrNotFound, ticket)
	}
	return t, u, nil
}

// Reply has the agent (a user's email) send an outgoing message to the
// ticket's customer, as from the helpdesk.
func (s *Sim) Reply(ticket int64, agent, text string, files ...Attachment) (Message, error) {
	return s.agentMessage(ticket, agent, text, false, files)
}

// Note has the agent add an internal note.
func (s *Sim) Note(ticket int64, agent, text string) (Message, error) {
	return s.agentMessage(ticket, agent, text, true, nil)
}

func (s *Sim) agentMessage(ticket int64, agent, text string, note bool, files []Attachment) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, u, err := s.agentTicket(ticket, agent)
	if err != nil {
		return Message{}, err
	}
	now := s.cfg.Now().UTC()
	m := Message{ID: s.id(), TicketID: t.ID, Channel: t.Channel, Via: "helpdesk", FromAgent: true, Public: !note,
		Sender: &Party{ID: u.ID, Email: u.Email, Name: u.Name}, Receiver: t.Customer, BodyText: text,
		BodyHTML: "<div>" + htmlEscape(text) + "</div>", Attachments: slices.Clone(files), Created: now, Sent: &now}
	if m.Attachments == nil {
		m.Attachments = []Attachment{}
	}
	if note {
		m.Channel, m.Receiver = "internal-note", nil
	}
	return s.add(t, m), nil
}

// CloseTicket has the agent close the ticket.
func (s *Sim) CloseTicket(ticket int64, agent string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, u, err := s.agentTicket(ticket, agent)
	if err != nil {
		return err
	}
	s.setStatus(t, "closed", u)
	return nil
}

// FailMessage marks a message's sending failed and fires ticket-message-failed.
func (s *Sim) FailMessage(ticket, message int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.ticket(ticket)
	if t == nil {
		return fmt.Errorf("%w: no ticket %d", ErrNotFound, ticket)
	}
	for i := range t.Messages {
		if t.Messages[i].ID == message {
			now := s.cfg.Now().UTC()
			t.Messages[i].Failed = &now
			s.fire(TicketMessageFailed, t, &t.Messages[i], nil)
			return nil
		}
	}
	return fmt.Errorf("%w: no message %d in ticket %d", ErrNotFound, message, ticket)
}

// Snooze has the agent snooze the ticket until until (closed meanwhile,
// as Gorgias does); Unsnooze brings it back as the snooze's end would,
// firing ticket-self-unsnoozed.
func (s *Sim) Snooze(ticket int64, agent string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, u, err := s.agentTicket(ticket, agent)
	if err != nil {
		return err
	}
	t.Snoozed = &until
	s.setStatus(t, "closed", u)
	return nil
}

// Unsnooze ends a snooze now.
func (s *Sim) Unsnooze(ticket int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.ticket(ticket)
	if t == nil {
		return fmt.Errorf("%w: no ticket %d", ErrNotFound, ticket)
	}
	t.Snoozed = nil
	t.Status, t.Closed = "open", nil
	s.fire(TicketSelfUnsnoozed, t, nil, nil)
	return nil
}

// Tickets lists the tickets with their messages.
func (s *Sim) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ticket
	for _, t := range s.tickets {
		out = append(out, s.view(t))
	}
	return out
}

// Ticket returns a ticket with its messages.
func (s *Sim) Ticket(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.ticket(id); t != nil {
		return s.view(t), true
	}
	return Ticket{}, false
}

// Customers lists the customers.
func (s *Sim) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Customer
	for _, c := range s.customers {
		out = append(out, *c)
	}
	return out
}

// driverRoutes serves the driver over HTTP (no auth: a local test tool):
//
//	POST /_sim/users               {"email","name"} → the user with its api_key
//	POST /_sim/tickets/{id}/reply  {"agent","text","attachments"}
//	POST /_sim/tickets/{id}/note   {"agent","text"}
//	POST /_sim/tickets/{id}/close  {"agent"}
//	POST /_sim/faults              {"throttle","fail","fail_status","duplicate","late","late_route","late_ms"}
//	GET  /_sim/deliveries
func (s *Sim) driverRoutes(mux *http.ServeMux) {
	type act struct {
		Agent       string       `json:"agent"`
		Text        string       `json:"text"`
		Attachments []Attachment `json:"attachments"`
	}
	do := func(f func(id int64, a act) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
			var a act
			if err != nil || !decode(w, r, &a) {
				if err != nil {
					fail(w, http.StatusNotFound, "Not Found", nil)
				}
				return
			}
			out, err := f(id, a)
			switch {
			case errors.Is(err, ErrNotFound):
				fail(w, http.StatusNotFound, err.Error(), nil)
			case err != nil:
				fail(w, http.StatusBadRequest, err.Error(), nil)
			default:
				reply(w, http.StatusOK, out)
			}
		}
	}
	mux.HandleFunc("POST /_sim/tickets/{id}/reply", do(func(id int64, a act) (any, error) { return s.Reply(id, a.Agent, a.Text, a.Attachments...) }))
	mux.HandleFunc("POST /_sim/tickets/{id}/note", do(func(id int64, a act) (any, error) { return s.Note(id, a.Agent, a.Text) }))
	mux.HandleFunc("POST /_sim/tickets/{id}/close", do(func(id int64, a act) (any, error) { return map[string]bool{"ok": true}, s.CloseTicket(id, a.Agent) }))
	mux.HandleFunc("POST /_sim/users", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Name string }
		if !decode(w, r, &in) {
			return
		}
		if in.Email == "" {
			fail(w, http.StatusBadRequest, "email is required", nil)
			return
		}
		u := s.AddUser(in.Email, in.Name)
		reply(w, http.StatusCreated, map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "api_key": u.APIKey})
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Throttle   int    `json:"throttle"`
			Fail       int    `json:"fail"`
			FailStatus int    `json:"fail_status"`
			Duplicate  bool   `json:"duplicate"`
			Late       int    `json:"late"`
			LateRoute  string `json:"late_route"`
			LateMS     int    `json:"late_ms"`
		}
		if !decode(w, r, &in) {
			return
		}
		s.Throttle(in.Throttle)
		s.Fail(in.Fail, in.FailStatus)
		s.Duplicate(in.Duplicate)
		s.Late(in.LateRoute, in.Late, time.Duration(in.LateMS)*time.Millisecond)
		reply(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("GET /_sim/deliveries", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(s.Deliveries())
	})
}
