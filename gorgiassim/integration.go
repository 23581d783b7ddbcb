package gorgiassim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Delivery is one integration call made (or given up on).
type Delivery struct {
	ID          int // the same for every attempt and duplicate of one call
	Integration int64
	Trigger     string
	EventID     int64
	Method      string
	URL         string
	Header      http.Header
	Body        []byte
	Attempt     int // 1 for the first try
	Duplicate   bool
	Status      int // 0 when no answer came
	Err         string
}

// delivery is a queued call.
type delivery struct {
	Delivery
	integration *Integration
}

// fire renders the integrations with this trigger for the event and
// queues their calls; s.mu is held.
func (s *Sim) fire(trigger string, t *Ticket, m *Message, by *User) {
	ev := Event{ID: s.id(), Type: trigger, ObjectID: t.ID, ObjectType: "Ticket", Created: s.cfg.Now().UTC()}
	if m != nil {
		ev.ObjectID, ev.ObjectType = m.ID, "TicketMessage"
	}
	if by != nil {
		ev.UserID = &by.ID
	}
	ctx := s.context(t, m, ev)
	for _, in := range s.integrations {
		if in.Deactivated != nil || !in.HTTP.Triggers[trigger] {
			continue
		}
		d := &delivery{integration: in, Delivery: Delivery{ID: s.nextCall(),
			Integration: in.ID, Trigger: trigger, EventID: ev.ID, Method: in.HTTP.Method}}
		d.URL, d.Header, d.Body = render(in.HTTP, ctx)
		s.queue = append(s.queue, d)
		if s.faults.duplicate {
			dup := *d
			dup.Duplicate = true
			s.queue = append(s.queue, &dup)
		}
	}
	s.poke()
}

// nextCall numbers a new call; s.mu is held.
func (s *Sim) nextCall() int { s.calls++; return s.calls }

func (s *Sim) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// context is the template context of an event, as JSON-shaped values.
func (s *Sim) context(t *Ticket, m *Message, ev Event) map[string]any {
	tv := *t
	tv.Messages = nil
	tm := asMap(tv)
	if c := s.customer(idOf(t.Customer)); c != nil {
		tm["customer"] = asMap(*c)
	}
	tm["messages_count"] = len(t.Messages)
	ctx := map[string]any{"ticket": tm, "event": asMap(ev)}
	if m != nil {
		ctx["message"] = asMap(*m)
	}
	return ctx
}

func idOf(p *Party) int64 {
	if p == nil {
		return 0
	}
	return p.ID
}

func asMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	d.Decode(&m)
	return m
}

var expr = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_.]*)\s*\}\}`)

// lookup resolves a dotted path in the context.
func lookup(ctx map[string]any, path string) (any, bool) {
	if path == "context" {
		return ctx, true
	}
	var cur any = ctx
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// text renders a value as Jinja would print it: Python booleans, empty for
// missing or null, JSON for objects and lists.
func text(v any, ok bool) string {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// expand renders every {{…}} in tmpl, each through esc.
func expand(tmpl string, ctx map[string]any, esc func(string) string) string {
	return expr.ReplaceAllStringFunc(tmpl, func(m string) string {
		v, ok := lookup(ctx, expr.FindStringSubmatch(m)[1])
		return esc(text(v, ok))
	})
}

// render renders an integration's URL (values URL-encoded), headers and body.
func render(h HTTP, ctx map[string]any) (string, http.Header, []byte) {
	u := expand(h.URL, ctx, url.QueryEscape)
	hdr := http.Header{}
	for k, v := range h.Headers {
		hdr.Set(k, expand(v, ctx, func(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }))
	}
	if h.Method == http.MethodGet || len(bytes.TrimSpace(h.Form)) == 0 {
		return u, hdr, nil
	}
	hdr.Set("Content-Type", h.RequestContentType)
	value := func(tmpl string) any {
		if m := expr.FindStringSubmatch(tmpl); m != nil && m[0] == strings.TrimSpace(tmpl) {
			if v, ok := lookup(ctx, m[1]); ok {
				if _, obj := v.(map[string]any); obj || isList(v) {
					return v // a whole object stays an object
				}
			}
		}
		return expand(tmpl, ctx, func(s string) string { return s })
	}
	var form any
	var str string
	if json.Unmarshal(h.Form, &str) == nil {
		form = value(str)
	} else {
		var fields map[string]any
		json.Unmarshal(h.Form, &fields)
		out := map[string]any{}
		for k, v := range fields {
			if s, ok := v.(string); ok {
				out[k] = value(s)
			} else {
				out[k] = v
			}
		}
		form = out
	}
	if h.RequestContentType == "application/x-www-form-urlencoded" {
		vals := url.Values{}
		if m, ok := form.(map[string]any); ok {
			for k, v := range m {
				vals.Set(k, text(v, true))
			}
		}
		return u, hdr, []byte(vals.Encode())
	}
	if s, ok := form.(string); ok {
		return u, hdr, []byte(s)
	}
	b, _ := json.Marshal(form)
	return u, hdr, b
}

func isList(v any) bool { _, ok := v.([]any); return ok }

// deliver sends queued calls one at a time, in order, retrying failures.
func (s *Sim) deliver() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		var d *delivery
		if !s.held && len(s.queue) > 0 {
			d, s.queue = s.queue[0], s.queue[1:]
			s.pending++
		}
		if d == nil && s.idle != nil && len(s.queue) == 0 && s.pending == 0 {
			close(s.idle)
			s.idle = nil
		}
		s.mu.Unlock()
		if d == nil {
			select {
			case <-s.wake:
				continue
			case <-s.closed:
				return
			}
		}
		s.send(d)
		s.mu.Lock()
		s.pending--
		s.mu.Unlock()
	}
}

// send makes a call's attempts: retried after each timeout, transport
// error or 5xx, as the schedule allows.
func (s *Sim) send(d *delivery) {
	for attempt := 1; ; attempt++ {
		d.Attempt = attempt
		status, err := s.call(d)
		rec := d.Delivery
		rec.Header = d.Header.Clone()
		rec.Status = status
		if err != nil {
			rec.Err = err.Error()
		}
		ok := err == nil && status < 300
		s.mu.Lock()
		s.deliveries = append(s.deliveries, rec)
		in := d.integration
		if ok {
			in.Failures = 0
		} else if in.Failures++; in.Failures >= s.cfg.MaxFailures && in.Deactivated == nil {
			now := s.cfg.Now().UTC()
			in.Deactivated = &now // Gorgias disables it and emails the account
		}
		gone := in.Deactivated != nil
		s.mu.Unlock()
		retry := err != nil || status >= 500
		if ok || !retry || gone || attempt > len(s.cfg.Retry) {
			return
		}
		select {
		case <-time.After(s.cfg.Retry[attempt-1]):
		case <-s.closed:
			return
		}
	}
}

func (s *Sim) call(d *delivery) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	var body io.Reader
	if d.Body != nil {
		body = bytes.NewReader(d.Body)
	}
	req, err := http.NewRequestWithContext(ctx, d.Method, d.URL, body)
	if err != nil {
		return 0, err
	}
	req.Header = d.Header.Clone()
	req.Header.Set("User-Agent", "Gorgias-HTTP-Integration (simulated)")
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, errors.New("timeout after " + s.cfg.Timeout.String())
		}
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Flush waits until no integration call is queued or in flight.
func (s *Sim) Flush(ctx context.Context) error {
	s.mu.Lock()
	if len(s.queue) == 0 && s.pending == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.mu.Unlock()
	s.poke()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Deliveries lists the integration calls made, attempt by attempt.
func (s *Sim) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Redeliver sends delivery id's call again, as a Gorgias retry would.
func (s *Sim) Redeliver(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deliveries {
		if d.ID == id {
			in := s.integration(d.Integration)
			if in == nil {
				return false
			}
			dup := &delivery{Delivery: d, integration: in}
			dup.Duplicate, dup.Status, dup.Err = true, 0, ""
			s.queue = append(s.queue, dup)
			s.poke()
			return true
		}
	}
	return false
}

// Integrations lists the stored integrations with their state.
func (s *Sim) Integrations() []Integration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Integration
	for _, in := range s.integrations {
		out = append(out, *in)
	}
	return out
}

// Failures returns an integration's consecutive failures.
func (s *Sim) Failures(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.integration(id); in != nil {
		return in.Failures
	}
	return 0
}
