package livechat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/jsoncheck"
)

// Webhook actions Baton registers and reads.
const (
	ActionIncomingChat    = "incoming_chat"
	ActionIncomingEvent   = "incoming_event"
	ActionChatTransferred = "chat_transferred"
	ActionChatDeactivated = "chat_deactivated"
	ActionUserAddedToChat = "user_added_to_chat"
)

// verify checks a webhook's secret_key in constant time before anything
// else in the body is read, then decodes the envelope. The body must be a
// JSON object carrying secret_key: a body that is not, or whose secret_key
// is missing or wrong, fails verification (baton.ErrForged). A verified body
// with a NUL character or text that is not UTF-8 in any string is refused as
// malformed (EBADREQUEST naming its path, "payload.event.text" say), as
// jsoncheck.Text says. A verified legacy envelope (license_id, API v3.3 and
// older), one without organization_id or one of another organization is
// refused with a precise error.
func (c *core) verify(body []byte) (*Webhook, error) {
	if err := baton.CheckSize(body, MaxInboundBody); err != nil {
		return nil, err
	}
	var probe struct {
		SecretKey *string `json:"secret_key"`
	}
	if err := json.Unmarshal(body, &probe); err != nil || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return nil, fmt.Errorf("%w: the body is not a JSON object, so its secret_key cannot be checked", baton.ErrForged)
	}
	if probe.SecretKey == nil {
		return nil, fmt.Errorf("%w: the webhook carries no secret_key", baton.ErrForged)
	}
	got := sha256.Sum256([]byte(*probe.SecretKey))
	if subtle.ConstantTimeCompare(got[:], c.secret[:]) != 1 {
		return nil, fmt.Errorf("%w: wrong secret_key", baton.ErrForged)
	}

	var wh Webhook
	if err := json.Unmarshal(body, &wh); err != nil {
		return nil, baton.Errorf(baton.EBADREQUEST, "webhook envelope is not readable: %w", err)
	}
	if err := jsoncheck.Text(body); err != nil {
		return nil, err
	}
	if len(wh.LicenseID) > 0 && string(wh.LicenseID) != "null" && wh.OrganizationID == "" {
		return nil, baton.Errorf(baton.EBADREQUEST,
			"legacy webhook envelope (license_id, LiveChat API v3.3 or older): register the webhooks with API v%s (baton livechat webhooks)", APIVersion)
	}
	if wh.Action == "" {
		return nil, baton.FieldErrorf("action", "required")
	}
	c.api.mu.Lock()
	org := c.api.OrganizationID
	c.api.mu.Unlock()
	if wh.OrganizationID == "" {
		return nil, baton.FieldErrorf("organization_id", "required: LiveChat API v%s sends it in every webhook", APIVersion)
	}
	if org != "" && wh.OrganizationID != org {
		return nil, baton.FieldErrorf("organization_id", "%q is not the organization of this desk", wh.OrganizationID)
	}
	return &wh, nil
}

// errUnavailable is what a webhook gets when LiveChat's API, which mapping
// it needs, cannot answer now.
var errUnavailable = &baton.Error{Code: baton.EUNAVAILABLE, Message: "the LiveChat API cannot be reached to read this webhook: deliver it again later"}

// inboundError classifies an error from mapping a verified webhook. A LiveChat
// API call that failed for a reason that passes (unreachable, a timeout, a
// 5xx, a rate limit, refused credentials) makes the webhook EUNAVAILABLE,
// which the HTTP layer answers 503 so that LiveChat delivers it again; the
// *baton.DeskError stays wrapped, so its RetryAfter can be read. A call
// that can never succeed (get_chat of a chat the API does not know, say)
// means Baton cannot attribute the webhook, and delivering it again would
// not change that: it is acknowledged and ignored (*baton.Ignored,
// "unattributed"). Any other error stays what it was.
func inboundError(err error) error {
	var de *baton.DeskError
	switch {
	case err == nil || !errors.As(err, &de):
		return err
	case de.Permanent || de.Busy:
		return &baton.Ignored{Reason: baton.IgnoredUnattributed, Err: err}
	}
	return fmt.Errorf("%w: %w", errUnavailable, err)
}

// payload decodes the webhook's payload into v.
func payload(wh *Webhook, v any) error {
	if len(bytes.TrimSpace(wh.Payload)) == 0 || string(bytes.TrimSpace(wh.Payload)) == "null" {
		return baton.FieldErrorf("payload", "required for %s", wh.Action)
	}
	if err := json.Unmarshal(wh.Payload, v); err != nil {
		return baton.Errorf(baton.EBADREQUEST, "%s payload is not readable: %w", wh.Action, err)
	}
	return nil
}

// relayEvents maps a verified webhook in relay mode.
func (c *core) relayEvents(ctx context.Context, wh *Webhook) ([]baton.DeskEvent, error) {
	switch wh.Action {
	case ActionIncomingEvent:
		var p IncomingEvent
		if err := incoming(wh, &p); err != nil {
			return nil, err
		}
		ev := p.Event
		if !forCustomer(ev) {
			return nil, nil
		}
		self, err := c.selfID(ctx)
		if err != nil {
			return nil, err
		}
		if ev.AuthorID == self {
			return nil, nil // Baton's own words, echoed
		}
		info, err := c.author(ctx, ev.AuthorID)
		if err != nil {
			return nil, err
		}
		if !info.agent {
			return nil, nil // the customer is Baton speaking for them: our own send, echoed
		}
		text, atts, ok := content(ev)
		if !ok {
			return nil, nil
		}
		return []baton.DeskEvent{{ID: eventID(p.ChatID, ev.ID), Ref: p.ChatID, Type: baton.DeskAgentMessage,
			Agent: baton.Agent{ID: ev.AuthorID, Name: info.name}, Text: text, Attachments: atts, At: ev.CreatedAt}}, nil
	case ActionChatTransferred:
		return c.transferred(ctx, wh, c.bestSelf(ctx), "")
	case ActionChatDeactivated:
		return c.deactivated(ctx, wh, c.bestSelf(ctx))
	case ActionUserAddedToChat:
		return c.added(ctx, wh, c.bestSelf(ctx))
	}
	// incoming_chat is the chat Baton itself started; other actions are
	// not Baton's business. Acknowledged, no events.
	return nil, nil
}

// bestSelf is the PAT's agent id if it can be known now, else "".
func (c *core) bestSelf(ctx context.Context) string {
	self, _ := c.selfID(ctx)
	return self
}

// incoming decodes and checks an incoming_event payload.
func incoming(wh *Webhook, p *IncomingEvent) error {
	if err := payload(wh, p); err != nil {
		return err
	}
	switch {
	case p.ChatID == "":
		return baton.FieldErrorf("payload.chat_id", "required")
	case p.Event.ID == "":
		return baton.FieldErrorf("payload.event.id", "required: it identifies the event for deduplication")
	}
	return nil
}

// forCustomer reports whether an event is something a person wrote for the
// customer to see: an authored event with visibility all.
func forCustomer(ev Event) bool {
	return ev.AuthorID != "" && (ev.Visibility == "" || ev.Visibility == VisibilityAll)
}

// content reads an event's text or file; other event types carry nothing
// Baton relays.
func content(ev Event) (string, []baton.Attachment, bool) {
	switch ev.Type {
	case EventMessage:
		return ev.Text, nil, strings.TrimSpace(ev.Text) != ""
	case EventFile:
		if ev.URL == "" {
			return "", nil, false
		}
		return "", []baton.Attachment{{URL: ev.URL, Name: ev.Name, Type: ev.ContentType, Size: ev.Size}}, true
	}
	return "", nil, false
}

// eventID is the dedupe id of a LiveChat event.
func eventID(chatID, id string) string { return "event:" + chatID + "/" + id }

// transferred maps chat_transferred: back to the seat (seat mode), else a
// transfer to the first agent it names, if any, with LiveChat's place for
// the chat when the transfer queued it (payload.queue.position).
func (c *core) transferred(ctx context.Context, wh *Webhook, self, seat string) ([]baton.DeskEvent, error) {
	var p ChatTransferred
	if err := payload(wh, &p); err != nil {
		return nil, err
	}
	if p.ChatID == "" {
		return nil, baton.FieldErrorf("payload.chat_id", "required")
	}
	groups := make([]string, len(p.TransferredTo.GroupIDs))
	for i, g := range p.TransferredTo.GroupIDs {
		groups[i] = strconv.Itoa(g)
	}
	// Nothing in a chat_transferred webhook tells one transfer from another
	// to the same place (the envelope's webhook_id names the registration,
	// the payload has no time or id), so a key made of its content drops a
	// chat going back to an earlier agent or group. Every delivery is
	// applied instead: a transfer sets where the chat is, so applying a
	// retry or a duplicate again changes nothing.
	id := strings.Join([]string{ActionChatTransferred, p.ChatID, p.ThreadID, strings.Join(p.TransferredTo.AgentIDs, ","), strings.Join(groups, ","), baton.NewID("d")}, ":")
	if seat != "" && slices.Contains(p.TransferredTo.AgentIDs, seat) {
		return []baton.DeskEvent{{ID: id, Ref: p.ChatID, Type: baton.DeskSeatReturned}}, nil
	}
	ev := baton.DeskEvent{ID: id, Ref: p.ChatID, Type: baton.DeskTransferred}
	if p.Queue != nil && p.Queue.Position > 0 {
		ev.Position = p.Queue.Position
	}
	for _, a := range p.TransferredTo.AgentIDs {
		if a != "" && a != self {
			ev.Agent = c.agent(ctx, a)
			break
		}
	}
	return []baton.DeskEvent{ev}, nil
}

// deactivated maps chat_deactivated: closed by a customer, or by an agent
// (or by LiveChat itself when user_id is absent).
func (c *core) deactivated(ctx context.Context, wh *Webhook, self string) ([]baton.DeskEvent, error) {
	var p ChatDeactivated
	if err := payload(wh, &p); err != nil {
		return nil, err
	}
	if p.ChatID == "" {
		return nil, baton.FieldErrorf("payload.chat_id", "required")
	}
	ev := baton.DeskEvent{ID: ActionChatDeactivated + ":" + p.ChatID + ":" + p.ThreadID, Ref: p.ChatID, Type: baton.DeskAgentClosed}
	if p.UserID != "" && p.UserID != self {
		info, err := c.author(ctx, p.UserID)
		switch {
		case err != nil:
		case info.agent:
			ev.Agent = baton.Agent{ID: p.UserID, Name: info.name}
		default:
			ev.Type = baton.DeskCustomerClosed
		}
	}
	return []baton.DeskEvent{ev}, nil
}

// added maps user_added_to_chat: an agent other than Baton's joined.
func (c *core) added(ctx context.Context, wh *Webhook, self string) ([]baton.DeskEvent, error) {
	var p UserAddedToChat
	if err := payload(wh, &p); err != nil {
		return nil, err
	}
	if p.ChatID == "" || p.User.ID == "" {
		return nil, baton.FieldErrorf("payload.chat_id", "chat_id and user.id are required")
	}
	typ := p.UserType
	if typ == "" {
		typ = p.User.Type
	}
	if typ != UserAgent || p.User.ID == self {
		return nil, nil
	}
	a := baton.Agent{ID: p.User.ID, Name: p.User.Name}
	if a.Name == "" {
		a = c.agent(ctx, p.User.ID)
	}
	return []baton.DeskEvent{{ID: ActionUserAddedToChat + ":" + p.ChatID + ":" + p.ThreadID + ":" + p.User.ID,
		Ref: p.ChatID, Type: baton.DeskAgentJoined, Agent: a}}, nil
}
