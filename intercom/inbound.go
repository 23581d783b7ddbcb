package intercom

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	baton "github.com/batonhq/baton"
)

// MaxInboundBody is the largest notification Inbound reads.
const MaxInboundBody = 2 << 20

// SignatureHeader carries a notification's signature: "sha1=" and the hex
// HMAC-SHA1 of the raw body keyed with the app's client secret.
const SignatureHeader = "X-Hub-Signature"

// InboundLimit implements baton.InboundLimiter.
func (d *Desk) InboundLimit() int { return MaxInboundBody }

// Sign returns the X-Hub-Signature of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature under secret, in
// constant time.
func Verify(secret string, body []byte, sig string) bool {
	got, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha1=")
	if !ok {
		return false
	}
	raw, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(raw, m.Sum(nil))
}

// Topics Baton acts on.
const (
	TopicPing       = "ping"
	TopicReplied    = "conversation.admin.replied"
	TopicClosed     = "conversation.admin.closed"
	TopicSnoozed    = "conversation.admin.snoozed"
	TopicUnsnoozed  = "conversation.admin.unsnoozed"
	TopicOpened     = "conversation.admin.opened"
	TopicAssigned   = "conversation.admin.assigned"
	TopicRead       = "conversation.read"
	TopicNoted      = "conversation.admin.noted"
	TopicUserReply  = "conversation.user.replied"
	TopicUserCreate = "conversation.user.created"
)

// Topics are the webhook topics an Intercom desk subscribes to.
var Topics = []string{TopicReplied, TopicClosed, TopicSnoozed, TopicUnsnoozed, TopicOpened, TopicAssigned, TopicRead}

// Notification is a webhook envelope. ID is null on a ping.
type Notification struct {
	Type      string           `json:"type"` // notification_event
	AppID     string           `json:"app_id"`
	ID        *string          `json:"id"`
	Topic     string           `json:"topic"`
	CreatedAt int64            `json:"created_at"`
	Attempts  int              `json:"delivery_attempts"`
	Data      NotificationData `json:"data"`
}

// NotificationData holds the object a notification is about.
type NotificationData struct {
	Type string          `json:"type"`
	Item json.RawMessage `json:"item"`
}

// ParseNotification reads a webhook body: malformed JSON or an envelope
// without a topic is a precise EBADREQUEST.
func ParseNotification(body []byte) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return n, baton.Errorf(baton.EBADREQUEST, "the body is not an Intercom notification: %v", err)
	}
	switch {
	case n.Type != "notification_event":
		return n, baton.Errorf(baton.EBADREQUEST, "type is %q, want notification_event", clip(n.Type, 40))
	case n.Topic == "":
		return n, baton.Errorf(baton.EBADREQUEST, "topic is required")
	case !utf8.ValidString(n.Topic):
		return n, baton.Errorf(baton.EBADREQUEST, "topic is not UTF-8")
	}
	return n, nil
}

// Inbound implements baton.Desk: the signature is checked against the raw
// body first, then the notification parsed and mapped to desk events.
func (d *Desk) Inbound(ctx context.Context, _ string, h http.Header, body []byte) ([]baton.DeskEvent, error) {
	sig := h.Get(SignatureHeader)
	if sig == "" {
		return nil, fmt.Errorf("%w: the notification has no %s", baton.ErrForged, SignatureHeader)
	}
	if !Verify(d.st.Secret, body, sig) {
		return nil, fmt.Errorf("%w: %s does not match the body under the client secret", baton.ErrForged, SignatureHeader)
	}
	n, err := ParseNotification(body)
	if err != nil {
		return nil, err
	}
	evs, err := n.Events()
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if evs[i].Type == baton.DeskTransferred && evs[i].Agent.Name == "" {
			evs[i].Agent.Name = d.adminName(ctx, ID(evs[i].Agent.ID))
		}
	}
	if len(evs) == 1 && (evs[0].Type == baton.DeskAgentPaused || evs[0].Type == baton.DeskAgentResumed) {
		return d.current(ctx, n.Topic, evs[0])
	}
	return evs, nil
}

// current checks a snooze or its end against the conversation's state now,
// since notifications may come out of order: a snooze the conversation is
// no longer in, or an unsnooze of a conversation snoozed again since, is
// stale and ignored; a snooze takes the conversation's snoozed_until.
func (d *Desk) current(ctx context.Context, topic string, ev baton.DeskEvent) ([]baton.DeskEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := d.api.Conversation(ctx, ev.Ref)
	if ae := apiError(err); ae != nil && ae.Status == http.StatusNotFound {
		return nil, &baton.Ignored{Reason: baton.IgnoredUnattributed, Err: fmt.Errorf("%s: conversation %s is unknown to the API", topic, ev.Ref)}
	} else if err != nil {
		return nil, &baton.Error{Code: baton.EUNAVAILABLE, Message: fmt.Sprintf("%s: reading conversation %s's state: %v", topic, ev.Ref, err), Err: err}
	}
	snoozed := c.State == "snoozed" && c.SnoozedUntil != nil
	switch {
	case ev.Type == baton.DeskAgentPaused && !snoozed:
		return nil, &baton.Ignored{Reason: baton.IgnoredNoEvents, Err: fmt.Errorf("%s: conversation %s is %s now: a snooze that is over", topic, ev.Ref, c.State)}
	case ev.Type == baton.DeskAgentResumed && snoozed:
		return nil, &baton.Ignored{Reason: baton.IgnoredNoEvents, Err: fmt.Errorf("%s: conversation %s is snoozed again", topic, ev.Ref)}
	case snoozed:
		ev.Until = time.Unix(*c.SnoozedUntil, 0)
	}
	return []baton.DeskEvent{ev}, nil
}

// adminName returns an admin's name, asked of the API once; "" when it
// cannot say.
func (d *Desk) adminName(ctx context.Context, id ID) string {
	d.mu.Lock()
	a, ok := d.admins[id]
	d.mu.Unlock()
	if ok {
		return a.Name
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	a, err := d.api.Admin(ctx, id)
	if err != nil {
		return ""
	}
	d.mu.Lock()
	if len(d.admins) > 1000 {
		clear(d.admins)
	}
	d.admins[id] = a
	d.mu.Unlock()
	return a.Name
}

// Events maps a notification to desk events: none (an Ignored saying why)
// for what is not for the bot.
func (n Notification) Events() ([]baton.DeskEvent, error) {
	ignore := func(why string) ([]baton.DeskEvent, error) {
		return nil, &baton.Ignored{Reason: baton.IgnoredNoEvents, Err: fmt.Errorf("%s: %s", clip(n.Topic, 60), why)}
	}
	switch n.Topic {
	case TopicPing:
		return ignore("a ping (sent when the webhook is saved or tested)")
	case TopicUserReply, TopicUserCreate:
		return ignore("the customer's own message (Baton's, come back)")
	case TopicNoted:
		return ignore("an internal note")
	case TopicReplied, TopicClosed, TopicSnoozed, TopicUnsnoozed, TopicOpened, TopicAssigned, TopicRead:
	default:
		return ignore("a topic Baton does not act on")
	}
	if n.ID == nil || *n.ID == "" {
		return nil, baton.Errorf(baton.EBADREQUEST, "a %s notification needs its id", n.Topic)
	}
	var c Conversation
	if err := json.Unmarshal(n.Data.Item, &c); err != nil {
		return nil, baton.Errorf(baton.EBADREQUEST, "data.item is not a conversation: %v", err)
	}
	if c.ID == "" {
		return nil, baton.Errorf(baton.EBADREQUEST, "data.item.id is required: the conversation's id")
	}
	at := time.Unix(n.CreatedAt, 0)
	if n.CreatedAt <= 0 {
		at = time.Time{}
	}
	base := baton.DeskEvent{ID: *n.ID, Ref: string(c.ID), At: at}
	parts := c.Parts.Parts
	admin := func(p Part) baton.Agent {
		if p.Author.Type != "admin" {
			return baton.Agent{}
		}
		return baton.Agent{ID: string(p.Author.ID), Name: p.Author.Name}
	}
	// acting is the admin of the first part of the notification.
	var acting baton.Agent
	for _, p := range parts {
		if acting = admin(p); acting != (baton.Agent{}) {
			break
		}
	}
	one := func(typ baton.DeskEventType) []baton.DeskEvent {
		ev := base
		ev.Type, ev.Agent = typ, acting
		return []baton.DeskEvent{ev}
	}
	switch n.Topic {
	case TopicReplied:
		var evs []baton.DeskEvent
		for _, p := range parts {
			if p.PartType != "comment" && p.PartType != "quick_reply" && p.PartType != "assign_and_reopen" || p.Author.Type != "admin" {
				continue
			}
			ev := base
			ev.ID = *n.ID + ":" + string(p.ID)
			if p.ID != "" {
				ev.ID = "part:" + string(p.ID) // a part counts once, whichever notification carries it
			}
			ev.Type, ev.Agent, ev.Text = baton.DeskAgentMessage, admin(p), Text(p.Body)
			if p.CreatedAt > 0 {
				ev.At = time.Unix(p.CreatedAt, 0)
			}
			for _, a := range p.Attachments {
				if a.URL != "" {
					ev.Attachments = append(ev.Attachments, baton.Attachment{URL: a.URL, Name: a.Name, Type: a.ContentType, Size: a.Filesize})
				}
			}
			if ev.Text == "" && len(ev.Attachments) == 0 {
				continue
			}
			evs = append(evs, ev)
		}
		if len(evs) == 0 {
			return ignore("no admin comment among its parts")
		}
		return evs, nil
	case TopicClosed:
		return one(baton.DeskAgentClosed), nil
	case TopicSnoozed:
		if c.SnoozedUntil == nil || *c.SnoozedUntil <= 0 {
			return nil, baton.Errorf(baton.EBADREQUEST, "a snooze needs data.item.snoozed_until")
		}
		evs := one(baton.DeskAgentPaused)
		evs[0].Until = time.Unix(*c.SnoozedUntil, 0)
		return evs, nil
	case TopicUnsnoozed, TopicOpened:
		return one(baton.DeskAgentResumed), nil
	case TopicRead:
		return one(baton.DeskAgentRead), nil
	}
	// TopicAssigned: the admin now holding it, from the assignment part,
	// the conversation's assignee, or a 1.x payload's assignee.
	to := baton.Agent{}
	for _, p := range parts {
		if p.AssignedTo != nil && p.AssignedTo.Type == "admin" && p.AssignedTo.ID != "" && p.AssignedTo.ID != "0" {
			to.ID = string(p.AssignedTo.ID)
		}
	}
	if to.ID == "" && c.AdminAssigneeID != "" && c.AdminAssigneeID != "0" {
		to.ID = string(c.AdminAssigneeID)
	}
	if c.Assignee != nil && c.Assignee.ID != "" && (to.ID == "" || to.ID == string(c.Assignee.ID)) {
		to = baton.Agent{ID: string(c.Assignee.ID), Name: c.Assignee.Name}
	}
	if to.ID == "" {
		return ignore("assigned to a team or to nobody: no agent holds it")
	}
	if to.ID == acting.ID {
		to.Name = acting.Name
	}
	evs := one(baton.DeskTransferred)
	evs[0].Agent = to
	return evs, nil
}

var (
	breakRE = regexp.MustCompile(`(?i)<br\s*/?>|</p>\s*<p[^>]*>|</(p|div|li|h[1-6])>`)
	tagRE   = regexp.MustCompile(`<[^>]*>`)
)

// Text renders a part's body as plain text: from 2.15 on the webhooks
// carry plain text already (kept as is); earlier versions' HTML loses its
// tags, keeps its line breaks and decodes its entities.
func Text(body string) string {
	if !tagRE.MatchString(body) {
		return strings.TrimSpace(body)
	}
	s := breakRE.ReplaceAllString(body, "\n")
	s = tagRE.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
