package livechat

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	baton "github.com/batonhq/baton"
)

// Seat is a LiveChat desk in seat mode: the bot answers LiveChat chats as
// the agent agent_email (whose personal access token the desk holds) and
// hands chats to human groups. It implements baton.Desk for the human
// segment after a transfer, and baton.Seat. It is safe for concurrent use.
type Seat struct {
	*core
}

// seat is the seat agent's id.
func (s *Seat) seat() string { return s.st.AgentEmail }

// Open implements baton.Desk. In seat mode the conversation is the chat, so
// the handoff's reference is the chat id (OpenRequest.ConversationID);
// Transfer has already placed the chat with the humans. No call is made.
func (s *Seat) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if r.ExternalID == "" {
		return baton.Handle{}, &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("conversation_id", "required: it is the LiveChat chat id")}
	}
	return baton.Handle{Ref: r.ExternalID}, nil
}

// Send implements baton.Desk: it posts nothing. The customer writes in
// LiveChat, where the human reads them directly.
func (s *Seat) Send(ctx context.Context, h baton.Handle, m baton.Message) error { return nil }

// Close implements baton.Desk: it deactivates the chat as the seat
// (ignore_requester_presence: the seat left it at the transfer). A handoff
// that ended because the chat moved on (reason transferred: back to the
// seat, say) leaves the chat open. A chat already inactive counts as closed.
func (s *Seat) Close(ctx context.Context, h baton.Handle, reason baton.EndReason) error {
	if h.Ref == "" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("ref", "required")}
	}
	if reason == baton.Transferred {
		return nil
	}
	err := s.api.DeactivateChat(ctx, h.Ref)
	if closedAlready(err) {
		return nil
	}
	return err
}

// Reply implements baton.Seat: it posts the bot's message into the chat as
// the seat (agent send_event with custom_id "baton:<message id>"); files are
// uploaded with upload_file and sent as file events after the text, or
// become links when they cannot be.
func (s *Seat) Reply(ctx context.Context, ref string, m baton.Message) error {
	if ref == "" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("ref", "required")}
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Attachments) == 0 {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("text", "empty message: no text and no attachments")}
	}
	out, err := s.prepare(ctx, m, func(ctx context.Context, name, ctype string, data []byte) (string, error) {
		return s.api.Upload(ctx, "agent", "", name, ctype, data)
	})
	if err != nil {
		return err
	}
	for _, ev := range events(m.ID, out) {
		if _, err := s.api.SendEvent(ctx, ref, ev); err != nil {
			return err
		}
	}
	return nil
}

// Groups implements baton.Seat: the license's groups (list_groups with
// routing_status); a group is available when it is accepting chats.
func (s *Seat) Groups(ctx context.Context) ([]baton.Group, error) {
	groups, err := s.api.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]baton.Group, 0, len(groups))
	for _, g := range groups {
		out = append(out, baton.Group{ID: strconv.Itoa(g.ID), Name: g.Name,
			Available: strings.ReplaceAll(g.RoutingStatus, " ", "_") == AcceptingChats})
	}
	return out, nil
}

// Transfer implements baton.Seat: transfer_chat to the group with
// ignore_agents_availability (the chat is queued there when nobody can take
// it) and ignore_requester_presence, then, if the seat is still in the
// chat, remove_user_from_chat. A chat already transferred away by an
// earlier attempt is not moved again.
func (s *Seat) Transfer(ctx context.Context, ref string, groupID string) error {
	if ref == "" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("ref", "required")}
	}
	g, err := strconv.Atoi(strings.TrimSpace(groupID))
	if err != nil || g < 0 {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("group_id", "%q is not a LiveChat group id", groupID)}
	}
	chat, err := s.api.GetChat(ctx, ref)
	if err != nil {
		return err
	}
	moved := chat.Access != nil && slices.Equal(chat.Access.GroupIDs, []int{g}) && !present(chat, s.seat())
	if !moved {
		err = s.api.TransferChat(ctx, TransferChatRequest{ID: ref, Target: &Target{Type: "group", IDs: []any{g}},
			IgnoreAgentsAvailability: true, IgnoreRequesterPresence: true})
		if err != nil {
			return err
		}
		if chat, err = s.api.GetChat(ctx, ref); err != nil {
			return err
		}
	}
	if !present(chat, s.seat()) {
		return nil
	}
	err = s.api.RemoveUser(ctx, RemoveUserRequest{ChatID: ref, UserID: s.seat(), UserType: UserAgent, IgnoreRequesterPresence: true})
	if errType(err) == "validation" {
		return nil // not in the chat any more
	}
	return err
}

// Check implements baton.Desk: it lists the groups (refused credentials are
// an Auth error) and checks that agent_email is an agent of the license
// whose account is the PAT's: the token must act as the seat.
func (s *Seat) Check(ctx context.Context) error {
	if _, err := s.checkGroups(ctx, false); err != nil {
		return err
	}
	a, err := s.api.GetAgent(ctx, s.seat())
	if t := errType(err); t == "not_found" || t == "validation" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("settings.agent_email", "%s is not an agent of the license", s.seat())}
	} else if err != nil {
		return err
	}
	if a.AccountID != "" && a.AccountID != s.st.AccountID {
		return &baton.DeskError{Auth: true, Err: baton.FieldErrorf("settings.token",
			"the personal access token belongs to account %s, but agent %s is account %s: create the token while signed in as %s",
			s.st.AccountID, s.seat(), a.AccountID, s.seat())}
	}
	s.remember(a.ID, agentInfo{agent: true, name: a.Name})
	return nil
}

// Inbound implements baton.Desk for seat mode; see doc.go for the mapping.
func (s *Seat) Inbound(ctx context.Context, path string, h http.Header, body []byte) ([]baton.DeskEvent, error) {
	wh, err := s.verify(body)
	if err != nil {
		return nil, err
	}
	evs, err := s.events(ctx, wh)
	if err != nil {
		return nil, inboundError(err)
	}
	return evs, nil
}

// events maps a verified webhook in seat mode.
func (s *Seat) events(ctx context.Context, wh *Webhook) ([]baton.DeskEvent, error) {
	switch wh.Action {
	case ActionIncomingChat:
		return s.incomingChat(ctx, wh)
	case ActionIncomingEvent:
		return s.incomingEvent(ctx, wh)
	case ActionChatTransferred:
		evs, err := s.transferred(ctx, wh, s.seat(), s.seat())
		if err != nil || len(evs) != 1 || evs[0].Type != baton.DeskSeatReturned {
			return evs, err
		}
		more, err := s.unanswered(ctx, evs[0].Ref)
		if err != nil {
			return nil, err
		}
		return append(evs, more...), nil
	case ActionChatDeactivated:
		return s.deactivated(ctx, wh, s.seat())
	case ActionUserAddedToChat:
		return s.added(ctx, wh, s.seat())
	}
	return nil, nil
}

// incomingChat maps a chat started or resumed with the seat in it: its
// initial events, the customer's as customer messages.
func (s *Seat) incomingChat(ctx context.Context, wh *Webhook) ([]baton.DeskEvent, error) {
	var p IncomingChat
	if err := payload(wh, &p); err != nil {
		return nil, err
	}
	chat := p.Chat
	if chat.ID == "" {
		return nil, baton.FieldErrorf("payload.chat.id", "required")
	}
	users := map[string]User{}
	var ids []string
	for _, u := range chat.Users {
		users[u.ID] = u
		ids = append(ids, u.ID)
		if u.Type == UserCustomer {
			s.keepCustomer(Customer{ID: u.ID, Name: u.Name, Email: u.Email})
		}
	}
	if wh.AdditionalData != nil && wh.AdditionalData.ChatPresenceUserIDs != nil {
		ids = wh.AdditionalData.ChatPresenceUserIDs
	}
	if !slices.Contains(ids, s.seat()) || chat.Thread == nil {
		return nil, nil // not the seat's chat
	}
	var out []baton.DeskEvent
	for _, ev := range chat.Thread.Events {
		if ev.ID == "" {
			continue
		}
		de, err := s.event(ctx, chat.ID, ev, users, true)
		if err != nil {
			return nil, err
		}
		out = append(out, de...)
	}
	return out, nil
}

// incomingEvent maps one event. The seat's presence comes from
// additional_data.chat_presence_user_ids, or get_chat when the webhook was
// registered without it.
func (s *Seat) incomingEvent(ctx context.Context, wh *Webhook) ([]baton.DeskEvent, error) {
	var p IncomingEvent
	if err := incoming(wh, &p); err != nil {
		return nil, err
	}
	var in bool
	if wh.AdditionalData != nil && wh.AdditionalData.ChatPresenceUserIDs != nil {
		in = slices.Contains(wh.AdditionalData.ChatPresenceUserIDs, s.seat())
	} else {
		chat, err := s.api.GetChat(ctx, p.ChatID)
		if err != nil {
			return nil, err
		}
		in = present(chat, s.seat())
	}
	return s.event(ctx, p.ChatID, p.Event, nil, in)
}

// event maps one chat event for the seat: the seat's own words are dropped
// (by author id), another agent's are an agent message (a human took the
// chat), and the customer's are a customer message when the seat is in the
// chat.
func (s *Seat) event(ctx context.Context, chatID string, ev Event, users map[string]User, seatIn bool) ([]baton.DeskEvent, error) {
	if !forCustomer(ev) || ev.AuthorID == s.seat() {
		return nil, nil
	}
	text, atts, ok := content(ev)
	if !ok {
		return nil, nil
	}
	var info agentInfo
	if u, known := users[ev.AuthorID]; known {
		info = agentInfo{agent: u.Type == UserAgent, name: u.Name}
	} else {
		var err error
		if info, err = s.author(ctx, ev.AuthorID); err != nil {
			return nil, err
		}
	}
	de := baton.DeskEvent{ID: eventID(chatID, ev.ID), Ref: chatID, Text: text, Attachments: atts, At: ev.CreatedAt}
	switch {
	case info.agent:
		de.Type, de.Agent = baton.DeskAgentMessage, baton.Agent{ID: ev.AuthorID, Name: info.name}
	case seatIn:
		de.Type, de.Customer = baton.DeskCustomerMessage, s.customer(ctx, ev.AuthorID)
	default:
		return nil, nil // a customer in a chat the seat is not in
	}
	return []baton.DeskEvent{de}, nil
}

// unanswered returns, as customer messages, what the customer wrote in the
// chat's current thread after the last word of an agent: a chat that waited
// in a queue, or a human's chat given to the seat, reaches the bot with the
// questions nobody has answered yet. Messages the bot has already been given
// carry the same event ids, so the engine drops them.
func (s *Seat) unanswered(ctx context.Context, chatID string) ([]baton.DeskEvent, error) {
	chat, err := s.api.GetChat(ctx, chatID)
	if err != nil || chat.Thread == nil {
		return nil, err
	}
	users := map[string]User{}
	for _, u := range chat.Users {
		users[u.ID] = u
		if u.Type == UserCustomer {
			s.keepCustomer(Customer{ID: u.ID, Name: u.Name, Email: u.Email})
		}
	}
	evs := chat.Thread.Events
	start := 0
	for i, ev := range evs {
		if u, ok := users[ev.AuthorID]; ok && u.Type == UserAgent && forCustomer(ev) {
			start = i + 1
		}
	}
	var out []baton.DeskEvent
	for _, ev := range evs[start:] {
		if u, ok := users[ev.AuthorID]; !ok || u.Type != UserCustomer || ev.ID == "" {
			continue
		}
		de, err := s.event(ctx, chatID, ev, users, true)
		if err != nil {
			return nil, err
		}
		out = append(out, de...)
	}
	return out, nil
}
