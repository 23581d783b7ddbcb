package webhookdesk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/jsoncheck"
)

// Inbound paths, after /v1/desks/{desk}/inbound/.
const (
	InboundMessage = "message"
	InboundClose   = "close"
	InboundJoin    = "join"
)

// aliases maps the GPTBots receive paths to ours, so a service written
// against GPTBots works by pointing it at Baton's inbound URL.
var aliases = map[string]string{
	InboundMessage:             InboundMessage,
	InboundClose:               InboundClose,
	InboundJoin:                InboundJoin,
	"human/message/receive":    InboundMessage,
	"v1/human/message/receive": InboundMessage,
	"human/close":              InboundClose,
	"v1/human/close":           InboundClose,
}

type inboundAgent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type inboundBody struct {
	ConversationID *string           `json:"conversation_id"`
	Timestamp      json.RawMessage   `json:"timestamp"`
	Body           *string           `json:"body"`
	MessageID      string            `json:"message_id"`
	Agent          *inboundAgent     `json:"agent"`
	Attachments    []json.RawMessage `json:"attachments"`
}

// Inbound implements baton.Desk. It first checks "Authorization: Bearer
// <secret>" in constant time (a failure wraps baton.ErrForged), then the size
// (at most MaxInboundBody), then the path, and only then parses the body.
//
// A body with "istest": true returns no events. A message without message_id
// gets an id derived from its conversation_id, timestamp, body and attachment
// URLs, so a repeated delivery carries the same id; it then needs a timestamp,
// or two equal messages would merge. A message_id is scoped by its
// conversation (services often number messages per conversation). A join's id
// is derived from the conversation, timestamp and agent; a close's is "close:"
// + conversation_id.
//
// Unreadable JSON is EBADREQUEST, and so is a NUL character or text that is
// not UTF-8 in any string or key, naming its path ("body", "agent.name"); a missing or
// malformed field is EINVALID naming it ("conversation_id",
// "attachments[0].url"); an unknown path is ENOTFOUND.
func (d *Desk) Inbound(ctx context.Context, path string, h http.Header, body []byte) ([]baton.DeskEvent, error) {
	if err := d.verify(h); err != nil {
		return nil, err
	}
	if err := baton.CheckSize(body, MaxInboundBody); err != nil {
		return nil, err
	}
	kind, ok := aliases[strings.Trim(path, "/")]
	if !ok {
		return nil, &baton.Error{Code: baton.ENOTFOUND, Message: fmt.Sprintf("no inbound path %q: use message, close or join", path)}
	}

	var top map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &baton.Error{Code: baton.EBADREQUEST, Message: "empty body: expected a JSON object"}
	}
	if err := json.Unmarshal(body, &top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &baton.Error{Code: baton.EBADREQUEST, Message: fmt.Sprintf("body is not valid JSON: %v (offset %d)", se, se.Offset)}
		}
		return nil, &baton.Error{Code: baton.EBADREQUEST, Message: "body is not a JSON object"}
	} else if top == nil {
		return nil, &baton.Error{Code: baton.EBADREQUEST, Message: "body is not a JSON object"}
	}
	if err := jsoncheck.Text(body); err != nil {
		return nil, err
	}
	if string(bytes.TrimSpace(top["istest"])) == "true" {
		return nil, nil
	}
	var in inboundBody
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, decodeError(err)
	}

	if in.ConversationID == nil || strings.TrimSpace(*in.ConversationID) == "" {
		return nil, baton.FieldErrorf("conversation_id", "required")
	}
	ref := *in.ConversationID
	ts, at, err := timestamp(in.Timestamp)
	if err != nil {
		return nil, err
	}
	var agent baton.Agent
	if in.Agent != nil {
		agent = baton.Agent{ID: in.Agent.ID, Name: in.Agent.Name}
	}

	switch kind {
	case InboundClose:
		return []baton.DeskEvent{{ID: "close:" + ref, Ref: ref, Type: baton.DeskAgentClosed, Agent: agent, At: at}}, nil
	case InboundJoin:
		return []baton.DeskEvent{{
			ID:    "join:" + digest("join", ref, ts, agent.ID, agent.Name),
			Ref:   ref,
			Type:  baton.DeskAgentJoined,
			Agent: agent,
			At:    at,
		}}, nil
	}

	atts, err := attachments(in.Attachments)
	if err != nil {
		return nil, err
	}
	text := ""
	if in.Body != nil {
		text = *in.Body
	}
	if strings.TrimSpace(text) == "" && len(atts) == 0 {
		return nil, baton.FieldErrorf("body", "required: the agent's message text")
	}
	var id string
	if in.MessageID != "" {
		id = messageID(ref, in.MessageID)
	} else {
		if ts == "" {
			return nil, baton.FieldErrorf("timestamp", "required when message_id is absent: it tells two equal messages apart")
		}
		parts := []string{ref, ts, text}
		for _, a := range atts {
			parts = append(parts, a.URL)
		}
		id = "message:" + digest("message", parts...)
	}
	return []baton.DeskEvent{{
		ID:          id,
		Ref:         ref,
		Type:        baton.DeskAgentMessage,
		Agent:       agent,
		Text:        text,
		Attachments: atts,
		At:          at,
	}}, nil
}

// messageID is the event id of a message the service numbered itself. A
// service may number messages per conversation ("1", "2", ... in each), so
// the id is scoped by the conversation: the length of ref comes first, so no
// two (ref, id) pairs give the same string.
func messageID(ref, id string) string {
	return "message:" + strconv.Itoa(len(ref)) + ":" + ref + "/" + id
}

// verify checks "Authorization: Bearer <secret>" exactly: the scheme spelled
// "Bearer", one space, then the secret's exact bytes (no other case, no
// padding), compared in constant time. Both sides are hashed first so the
// comparison does not even leak the secret's length.
func (d *Desk) verify(h http.Header) error {
	auth := h.Get("Authorization")
	if auth == "" {
		return fmt.Errorf("%w: missing Authorization header", baton.ErrForged)
	}
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return fmt.Errorf("%w: Authorization is not \"Bearer <secret>\"", baton.ErrForged)
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], d.secret[:]) != 1 {
		return fmt.Errorf("%w: wrong bearer token", baton.ErrForged)
	}
	return nil
}

// timestamp reads an optional millisecond timestamp, a JSON number or a
// string of digits: its canonical decimal form (for ids) and its time. Absent
// or null gives "".
func timestamp(raw json.RawMessage) (string, time.Time, error) {
	v := string(bytes.TrimSpace(raw))
	if v == "" || v == "null" {
		return "", time.Time{}, nil
	}
	if uq, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
		v = uq
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return "", time.Time{}, baton.FieldErrorf("timestamp", "must be whole milliseconds since 1970, not %s", clip(string(raw)))
	}
	return strconv.FormatInt(ms, 10), time.UnixMilli(ms).UTC(), nil
}

// attachments decodes and checks the attachments one by one, so an error
// names the element ("attachments[1].url").
func attachments(raw []json.RawMessage) ([]baton.Attachment, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	atts := make([]baton.Attachment, len(raw))
	for i, r := range raw {
		field := fmt.Sprintf("attachments[%d]", i)
		a := &atts[i]
		if err := json.Unmarshal(r, a); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				return nil, baton.FieldErrorf(field+"."+te.Field, "must be a JSON %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
			}
			return nil, baton.FieldErrorf(field, "must be an object with url, name, type and size")
		}
		if a.URL == "" {
			return nil, baton.FieldErrorf(field+".url", "required")
		}
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, baton.FieldErrorf(field+".url", "must be an absolute http or https URL")
		}
		if a.Size < 0 {
			return nil, baton.FieldErrorf(field+".size", "must not be negative")
		}
	}
	return atts, nil
}

// digest is a stable id over parts, each length-prefixed so that no two
// different lists collide by concatenation.
func digest(kind string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// decodeError turns a json error into a domain error: a wrong type names
// its field (EINVALID), anything else is an unreadable request.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return baton.FieldErrorf(te.Field, "must be a JSON %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
	}
	return &baton.Error{Code: baton.EBADREQUEST, Message: "body is not valid JSON: " + err.Error()}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return "number"
}
