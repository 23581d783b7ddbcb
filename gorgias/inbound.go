package gorgias

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/jsonpath"
)

// MaxInboundBody is the largest integration call Inbound reads ({{context}}
// carries the ticket and its message).
const MaxInboundBody = 2 << 20

// TokenHeader is the header the integration may carry its token in.
const TokenHeader = "X-Baton-Token"

// InboundLimit implements baton.InboundLimiter.
func (d *Desk) InboundLimit() int { return MaxInboundBody }

// Trigger names.
const (
	TriggerMessageCreated = "ticket-message-created"
	TriggerTicketUpdated  = "ticket-updated"
	TriggerStatusUpdated  = "ticket-status-updated"
)

// Call is one HTTP-integration call, from whichever form it came in.
type Call struct {
	TicketID    string
	ExternalID  string
	EventType   string
	EventID     string
	MessageID   string
	Text        string
	FromAgent   *bool
	Public      *bool
	Channel     string
	Status      string
	AgentID     string
	AgentName   string
	Attachments []Attachment
	At          time.Time
}

// Inbound implements baton.Desk: the token is checked first (query token=
// or X-Baton-Token, constant time), then the call read from the query
// string and the body (a JSON or form body of the same keys, or the whole
// {{context}}). Public agent messages become DeskAgentMessage, a ticket
// set closed DeskAgentClosed; Baton's own messages coming back (from_agent
// false), internal notes and other updates are acknowledged and ignored.
func (d *Desk) Inbound(_ context.Context, path string, h http.Header, body []byte) ([]baton.DeskEvent, error) {
	q, qerr := url.ParseQuery(h.Get(baton.InboundQuery))
	if !d.authentic(append(q["token"], h.Values(TokenHeader)...)) {
		return nil, fmt.Errorf("%w: the HTTP integration's token is missing or wrong", baton.ErrForged)
	}
	if qerr != nil {
		return nil, baton.Errorf(baton.EBADREQUEST, "the query string is malformed: %v", qerr)
	}
	c, err := ParseCall(q, h.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	return c.Events()
}

// authentic reports whether the call presents the token, in the query or
// the header or both, and nothing else: every value given must be it.
func (d *Desk) authentic(vals []string) bool {
	ok := len(vals)
	for _, v := range vals {
		sum := sha256.Sum256([]byte(v))
		ok -= subtle.ConstantTimeCompare(sum[:], d.token[:])
	}
	return len(vals) > 0 && ok == 0
}

// ParseCall reads an integration call: body fields first, the query's
// where the body has none.
func ParseCall(q url.Values, contentType string, body []byte) (Call, error) {
	var c Call
	body = bytes.TrimSpace(body)
	if !utf8.Valid(body) {
		return Call{}, fieldError(baton.EBADREQUEST, "body", "is not valid UTF-8")
	}
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(contentType)
		var err error
		if mt == "application/x-www-form-urlencoded" {
			var v url.Values
			if v, err = url.ParseQuery(string(body)); err != nil {
				return Call{}, baton.Errorf(baton.EBADREQUEST, "the form body is malformed: %v", err)
			}
			err = c.fromValues(v)
		} else {
			err = c.fromJSON(body)
		}
		if err != nil {
			return Call{}, err
		}
	}
	if err := c.fromValues(q); err != nil {
		return Call{}, err
	}
	for _, s := range []*string{&c.TicketID, &c.ExternalID, &c.EventType, &c.EventID, &c.MessageID, &c.Text, &c.Channel, &c.Status, &c.AgentID, &c.AgentName} {
		if !utf8.ValidString(*s) {
			return Call{}, baton.Errorf(baton.EBADREQUEST, "the call is not UTF-8")
		}
		*s = strings.TrimSpace(*s)
	}
	return c, nil
}

// fromValues fills what is still empty from form keys.
func (c *Call) fromValues(v url.Values) error {
	fill := func(dst *string, keys ...string) {
		for _, k := range keys {
			if *dst == "" {
				*dst = v.Get(k)
			}
		}
	}
	fill(&c.TicketID, "ticket_id")
	fill(&c.ExternalID, "external_id")
	fill(&c.EventType, "event_type", "event")
	fill(&c.EventID, "event_id")
	fill(&c.MessageID, "message_id")
	fill(&c.Text, "text")
	fill(&c.Channel, "channel")
	fill(&c.Status, "status")
	fill(&c.AgentID, "sender_id")
	fill(&c.AgentName, "sender_name", "agent")
	for _, f := range []struct {
		dst **bool
		key string
	}{{&c.FromAgent, "from_agent"}, {&c.Public, "public"}} {
		if *f.dst != nil || v.Get(f.key) == "" {
			continue
		}
		b, err := boolean(v.Get(f.key))
		if err != nil {
			return baton.FieldErrorf(f.key, "%v", err)
		}
		*f.dst = &b
	}
	return nil
}

// boolean reads True/False (Gorgias' templates) or true/false (JSON).
func boolean(s string) (bool, error) {
	switch s {
	case "True", "true":
		return true, nil
	case "False", "false":
		return false, nil
	}
	return false, fmt.Errorf("must be True or False (or true or false), not %q", truncate(s, 40))
}

// fieldError is a *baton.Error of code naming field.
func fieldError(code, field, format string, args ...any) *baton.Error {
	e := baton.Errorf(code, format, args...)
	e.Field = field
	return e
}

// jsonError says what is wrong with a JSON body (or its context, under
// prefix) in the integration's terms: the field and the kind of value it
// wants, not Go's types.
func jsonError(prefix string, err error) error {
	join := func(f string) string {
		switch {
		case prefix == "" && f == "":
			return "body"
		case prefix == "":
			return f
		case f == "":
			return prefix
		}
		return prefix + "." + f
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fieldError(baton.EBADREQUEST, join(te.Field), "must be %s, not %s", jsonpath.Kind(te.Type), te.Value)
	case errors.As(err, &se):
		return fieldError(baton.EBADREQUEST, join(""), "is not JSON: %v (at byte %d)", se, se.Offset)
	}
	return fieldError(baton.EBADREQUEST, join(""), "is not the integration's JSON: %v", err)
}

// flex is a JSON value read as a string: a string, number, boolean or null.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
	case string(b) == "null":
		*f = ""
	case string(b) == "true" || string(b) == "false":
		*f = flex(b)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flex(n.String())
	default:
		return fmt.Errorf("want a string, number or boolean, not %.20s", b)
	}
	return nil
}

// wire is a JSON body: the form keys, or the whole context (ticket,
// message, event), or either under "context".
type wire struct {
	TicketID   flex            `json:"ticket_id"`
	ExternalID flex            `json:"external_id"`
	EventType  flex            `json:"event_type"`
	Event      json.RawMessage `json:"event"`
	EventID    flex            `json:"event_id"`
	MessageID  flex            `json:"message_id"`
	Text       flex            `json:"text"`
	FromAgent  flex            `json:"from_agent"`
	Public     flex            `json:"public"`
	Channel    flex            `json:"channel"`
	Status     flex            `json:"status"`
	SenderID   flex            `json:"sender_id"`
	SenderName flex            `json:"sender_name"`

	Ticket  *wireTicket     `json:"ticket"`
	Message *wireMessage    `json:"message"`
	Context json.RawMessage `json:"context"`
}

type wireTicket struct {
	ID         flex `json:"id"`
	ExternalID flex `json:"external_id"`
	Status     flex `json:"status"`
}

type wireMessage struct {
	ID        flex `json:"id"`
	BodyText  flex `json:"body_text"`
	FromAgent flex `json:"from_agent"`
	Public    flex `json:"public"`
	Channel   flex `json:"channel"`
	Sender    *struct {
		ID   flex `json:"id"`
		Name flex `json:"name"`
	} `json:"sender"`
	Attachments []struct {
		URL         flex `json:"url"`
		Name        flex `json:"name"`
		ContentType flex `json:"content_type"`
		Size        flex `json:"size"`
	} `json:"attachments"`
	Created flex `json:"created_datetime"`
}

type wireEvent struct {
	Type     flex `json:"type"`
	ID       flex `json:"id"`
	ObjectID flex `json:"object_id"`
}

func (c *Call) fromJSON(b []byte) error {
	for depth := 0; ; depth++ {
		var w wire
		if err := json.Unmarshal(b, &w); err != nil {
			if depth > 0 {
				return jsonError("context", err)
			}
			return jsonError("", err)
		}
		ctx := bytes.TrimSpace(w.Context)
		if len(ctx) > 0 && ctx[0] == '"' && depth == 0 {
			var s string
			_ = json.Unmarshal(ctx, &s)
			ctx = bytes.TrimSpace([]byte(s)) // a context rendered as a string
		}
		switch {
		case len(ctx) > 0 && ctx[0] == '{' && depth == 0:
			b = ctx
			continue
		case len(ctx) > 0 && string(ctx) != "null":
			return baton.FieldErrorf("context", "must be the ticket's context, an object: template it as {{context}}")
		}
		v := url.Values{}
		set := func(k string, f flex) {
			if f != "" {
				v.Set(k, string(f))
			}
		}
		if t := w.Ticket; t != nil {
			set("ticket_id", t.ID)
			set("external_id", t.ExternalID)
			set("status", t.Status)
		}
		if m := w.Message; m != nil {
			set("message_id", m.ID)
			set("text", m.BodyText)
			set("from_agent", m.FromAgent)
			set("public", m.Public)
			set("channel", m.Channel)
			if m.Sender != nil {
				set("sender_id", m.Sender.ID)
				set("sender_name", m.Sender.Name)
			}
			for i, a := range m.Attachments {
				if a.URL == "" {
					return baton.FieldErrorf(fmt.Sprintf("message.attachments[%d].url", i), "required")
				}
				n, _ := strconv.ParseInt(string(a.Size), 10, 64)
				c.Attachments = append(c.Attachments, Attachment{URL: string(a.URL), Name: string(a.Name), ContentType: string(a.ContentType), Size: n})
			}
			if t, err := time.Parse(time.RFC3339Nano, string(m.Created)); err == nil {
				c.At = t
			}
		}
		if ev := bytes.TrimSpace(w.Event); len(ev) > 0 {
			if ev[0] == '{' {
				var e wireEvent
				if err := json.Unmarshal(ev, &e); err != nil {
					return baton.FieldErrorf("event", "%v", err)
				}
				set("event_type", e.Type)
				set("event_id", e.ID)
				if v.Get("message_id") == "" && (e.Type == TriggerMessageCreated) {
					set("message_id", e.ObjectID)
				}
			} else {
				var f flex
				if err := json.Unmarshal(ev, &f); err != nil {
					return baton.FieldErrorf("event", "%v", err)
				}
				set("event_type", f)
			}
		}
		for k, f := range map[string]flex{"ticket_id": w.TicketID, "external_id": w.ExternalID, "event_type": w.EventType,
			"event_id": w.EventID, "message_id": w.MessageID, "text": w.Text, "from_agent": w.FromAgent, "public": w.Public,
			"channel": w.Channel, "status": w.Status, "sender_id": w.SenderID, "sender_name": w.SenderName} {
			if v.Get(k) == "" {
				set(k, f)
			}
		}
		return c.fromValues(v)
	}
}

// Events turns the call into desk events: none (an Ignored) for what is
// not for the bot.
func (c Call) Events() ([]baton.DeskEvent, error) {
	ignore := func(why string) ([]baton.DeskEvent, error) {
		return nil, &baton.Ignored{Reason: baton.IgnoredNoEvents, Err: fmt.Errorf("ticket %s: %s", c.TicketID, why)}
	}
	if c.TicketID == "" && c.EventType == "" && c.MessageID == "" {
		return ignore("a call naming no ticket (a test call)")
	}
	if c.TicketID == "" {
		return nil, baton.FieldErrorf("ticket_id", "required: template it as {{ticket.id}}")
	}
	if _, err := strconv.ParseInt(c.TicketID, 10, 64); err != nil {
		return nil, baton.FieldErrorf("ticket_id", "must be a ticket id (an integer), not %q", truncate(c.TicketID, 40))
	}
	typ := c.EventType
	if typ == "" {
		switch {
		case c.MessageID != "" || c.Text != "":
			typ = TriggerMessageCreated
		case c.Status != "":
			typ = TriggerTicketUpdated
		}
	}
	id := c.EventID
	switch typ {
	case TriggerMessageCreated, "ticket_message_created":
		switch {
		case c.FromAgent == nil:
			return nil, baton.FieldErrorf("from_agent", "required on a message: template it as {{message.from_agent}}")
		case !*c.FromAgent:
			return ignore("a customer message (Baton's own, come back)")
		case c.Channel == "internal-note" || (c.Public != nil && !*c.Public):
			return ignore("an internal note")
		}
		if c.MessageID != "" {
			id = "message:" + c.MessageID // one message is one event, whichever call tells it
		}
		if id == "" {
			return nil, baton.FieldErrorf("event_id", "required: template {{event.id}} or message_id={{message.id}}")
		}
		ev := baton.DeskEvent{ID: id, Ref: c.TicketID, Type: baton.DeskAgentMessage, Text: c.Text, At: c.At,
			Agent: baton.Agent{ID: c.AgentID, Name: c.AgentName}}
		for _, a := range c.Attachments {
			ev.Attachments = append(ev.Attachments, baton.Attachment{URL: a.URL, Name: a.Name, Type: a.ContentType, Size: a.Size})
		}
		if ev.Text == "" && len(ev.Attachments) == 0 {
			return ignore("an empty message")
		}
		return []baton.DeskEvent{ev}, nil
	case TriggerTicketUpdated, TriggerStatusUpdated, "status-updated", "ticket_updated":
		if !strings.EqualFold(c.Status, "closed") {
			return ignore("an update that leaves it " + c.Status)
		}
		if id == "" {
			id = "closed:" + c.TicketID
		}
		return []baton.DeskEvent{{ID: id, Ref: c.TicketID, Type: baton.DeskAgentClosed, At: c.At}}, nil
	}
	return ignore("event " + truncate(typ, 40) + " is not for Baton")
}
