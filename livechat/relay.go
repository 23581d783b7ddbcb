package livechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	baton "github.com/batonhq/baton"
)

// renewBefore is how long before its expiry a customer token is renewed.
const renewBefore = time.Minute

// Session is what a relay handoff keeps in Handle.Data (JSON): the
// LiveChat customer Baton speaks as and the cookies that renew its token
// through the cookie grant, even after a restart. The token itself is kept
// too, so a new process does not need a grant until it expires.
type Session struct {
	CustomerID string            `json:"customer_id"`            // the LiveChat customer (entity_id)
	Cookies    map[string]string `json:"cookies"`                // __lc_cid and __lc_cst
	Token      string            `json:"access_token,omitempty"` // the customer's Bearer token when the handoff opened
	Expires    time.Time         `json:"expires_at,omitzero"`    // when Token expires
}

// Relay is a LiveChat desk in relay mode: the customer stays on the bot's
// channel and Baton speaks for them in a LiveChat chat. It is safe for
// concurrent use.
type Relay struct {
	*core

	smu      sync.Mutex
	sessions map[string]*Session // chat id → the latest session (renewed tokens)
	opening  map[string]*opening // handoff id → an Open that stopped half way
}

var (
	_ baton.Desk           = (*Relay)(nil)
	_ baton.Opener         = (*Relay)(nil)
	_ baton.Staffed        = (*Relay)(nil)
	_ baton.InboundLimiter = (*Relay)(nil)
	_ baton.InboundLimiter = (*Seat)(nil)
	_ baton.Desk           = (*Seat)(nil)
	_ baton.Seat           = (*Seat)(nil)
)

// opening is the progress of one Open, so a retry resumes instead of
// starting a second chat.
type opening struct {
	mu          sync.Mutex
	started     time.Time
	sess        *Session
	kept        bool // sess is saved (OpenRequest.Save)
	updated     bool
	chatID      string
	transferred bool
}

func newRelay(c *core) *Relay {
	return &Relay{core: c, sessions: map[string]*Session{}, opening: map[string]*opening{}}
}

// Open implements baton.Desk. It creates a LiveChat customer with the
// cookie grant, names it (update_customer), starts a chat as the PAT's
// agent with the customer in it and the history as separate events (the
// customer's turns authored by the customer, the bot's by the PAT's
// account, then the latest question by the customer), and transfers it to
// the routed group, queued when nobody can take it. The PAT's account
// leaves the chat with the transfer (it is taken out explicitly if it is
// still there). The handle's Ref is the chat id; its Data the Session.
func (d *Relay) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if r.HandoffID == "" {
		return baton.Handle{}, &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("handoff_id", "required")}
	}
	op := d.progress(r.HandoffID)
	op.mu.Lock()
	defer op.mu.Unlock()
	group := d.st.Group(r.Routing)
	if op.sess == nil && r.Progress != "" {
		// An earlier attempt, maybe of a process that has died since.
		var p saved
		if err := json.Unmarshal([]byte(r.Progress), &p); err == nil && p.Session != nil {
			op.sess, op.chatID, op.kept = p.Session, p.ChatID, true
			if op.chatID == "" {
				// It may have started the chat and died before saving it:
				// the customer is this handoff's alone, so its chat is ours.
				id, err := d.customerChat(ctx, op.sess)
				if err != nil {
					return baton.Handle{}, err
				}
				op.chatID = id
			}
		}
	}

	if op.sess == nil {
		tok, cookies, err := d.api.CookieGrant(ctx, d.st.ClientID, d.st.RedirectURI, nil)
		if err != nil {
			return baton.Handle{}, err
		}
		op.sess = &Session{CustomerID: tok.EntityID, Cookies: cookies, Token: tok.AccessToken, Expires: d.expiry(tok)}
	}
	if !op.kept {
		// Saved before the chat is started, even when an earlier attempt
		// failed to save it: OpeningRef relies on no progress meaning no chat.
		if err := op.save(r); err != nil {
			return baton.Handle{}, err
		}
		op.kept = true
	}
	if !op.updated {
		if err := d.name(ctx, op.sess, r); err != nil {
			return baton.Handle{}, err
		}
		op.updated = true
	}
	if op.chatID == "" {
		out, err := d.api.StartChat(ctx, StartChatRequest{
			Chat: InitialChat{
				Access: &Access{GroupIDs: []int{group}},
				Users:  []User{{ID: op.sess.CustomerID, Type: UserCustomer}},
				Thread: &InitialThread{Events: history(r, op.sess.CustomerID)},
			},
			Active: true,
		})
		if err != nil {
			return baton.Handle{}, err
		}
		op.chatID = out.ChatID
		if err := op.save(r); err != nil {
			return baton.Handle{}, err
		}
	}
	if !op.transferred {
		err := d.api.TransferChat(ctx, TransferChatRequest{ID: op.chatID, Target: &Target{Type: "group", IDs: []any{group}},
			IgnoreAgentsAvailability: true, IgnoreRequesterPresence: true})
		if err != nil {
			var de *baton.DeskError
			if errors.As(err, &de) && (de.Permanent || de.Busy) {
				_ = d.api.DeactivateChat(ctx, op.chatID) // do not leave a chat nobody routes
				d.forget(r.HandoffID)
			}
			return baton.Handle{}, err
		}
		op.transferred = true
	}
	if err := d.leave(ctx, op.chatID); err != nil {
		return baton.Handle{}, err
	}
	data, err := json.Marshal(op.sess)
	if err != nil {
		return baton.Handle{}, &baton.DeskError{Permanent: true, Err: err}
	}
	d.smu.Lock()
	d.sessions[op.chatID] = op.sess
	delete(d.opening, r.HandoffID)
	d.smu.Unlock()
	return baton.Handle{Ref: op.chatID, Data: string(data)}, nil
}

// customerChat returns the id of a chat the customer of s is in, or "",
// renewing the customer's token first if it has expired (s is not shared
// yet: it belongs to an Open in progress).
func (d *Relay) customerChat(ctx context.Context, s *Session) (string, error) {
	if !s.Expires.IsZero() && !d.now().Before(s.Expires.Add(-renewBefore)) {
		t, kept, err := d.api.CookieGrant(ctx, d.st.ClientID, d.st.RedirectURI, s.Cookies)
		if err != nil {
			return "", err
		}
		s.Token, s.Expires, s.Cookies = t.AccessToken, d.expiry(t), kept
	}
	var out struct {
		Chats []struct {
			ID string `json:"id"`
		} `json:"chats_summary"`
	}
	if err := d.api.Customer(ctx, s.Token, "list_chats", struct{}{}, &out); err != nil {
		return "", err
	}
	if len(out.Chats) == 0 {
		return "", nil
	}
	return out.Chats[0].ID, nil
}

// saved is what an Open keeps through OpenRequest.Save: the customer it
// made and the chat it started, the two calls that must not be made twice.
type saved struct {
	Session *Session `json:"session"`
	ChatID  string   `json:"chat_id,omitempty"`
}

// OpeningRef implements baton.Opener: the chat an Open in progress has
// started, from what it saved. With nothing saved it has not called
// LiveChat yet (the customer comes first), so no chat can be its; with a
// customer but no chat it may have started one and not saved it yet.
func (d *Relay) OpeningRef(progress string) (string, bool) {
	if progress == "" {
		return "", true
	}
	var p saved
	if err := json.Unmarshal([]byte(progress), &p); err != nil || p.ChatID == "" {
		return "", false
	}
	return p.ChatID, true
}

// save records op's progress through r.Save, when the engine gave one.
func (op *opening) save(r baton.OpenRequest) error {
	if r.Save == nil {
		return nil
	}
	b, err := json.Marshal(saved{Session: op.sess, ChatID: op.chatID})
	if err != nil {
		return &baton.DeskError{Permanent: true, Err: err}
	}
	return r.Save(string(b))
}

// progress returns the Open in progress for a handoff, or a new one.
// Entries older than an hour are dropped.
func (d *Relay) progress(handoffID string) *opening {
	d.smu.Lock()
	defer d.smu.Unlock()
	now := d.now()
	for id, op := range d.opening {
		if now.Sub(op.started) > time.Hour {
			delete(d.opening, id)
		}
	}
	op := d.opening[handoffID]
	if op == nil {
		op = &opening{started: now}
		d.opening[handoffID] = op
	}
	return op
}

func (d *Relay) forget(handoffID string) {
	d.smu.Lock()
	delete(d.opening, handoffID)
	d.smu.Unlock()
}

// name sets the customer's name, email and Baton's ids (customer,
// conversation, handoff) as session fields.
// A refused email is dropped rather than failing the handoff; other refusals
// are ignored (the chat is still worth opening); temporary failures return.
func (d *Relay) name(ctx context.Context, s *Session, r baton.OpenRequest) error {
	req := UpdateCustomerRequest{Name: r.Customer.Name, Email: r.Customer.Email}
	if r.Customer.ID != "" {
		req.SessionFields = append(req.SessionFields, SessionField{"customer_id": r.Customer.ID})
	}
	if r.ExternalID != "" {
		req.SessionFields = append(req.SessionFields, SessionField{"conversation_id": r.ExternalID})
	}
	req.SessionFields = append(req.SessionFields, SessionField{"handoff_id": r.HandoffID})
	err := d.api.UpdateCustomer(ctx, s.Token, req)
	if err != nil && errType(err) == "validation" && req.Email != "" {
		req.Email = ""
		err = d.api.UpdateCustomer(ctx, s.Token, req)
	}
	var de *baton.DeskError
	if errors.As(err, &de) && de.Permanent {
		return nil
	}
	return err
}

// history builds the chat's first events: the brief, for agents only (the
// customer never sees it), then each history turn as its own message (the
// customer's authored by the customer, all others by the requester, the
// PAT's account), then the question by the customer unless the history
// already ends with it.
func history(r baton.OpenRequest, customerID string) []Event {
	var evs []Event
	if r.Brief.Summary != "" {
		evs = append(evs, Event{Type: EventMessage, Text: limitText("Handoff brief\n" + r.Brief.Text()), Visibility: VisibilityAgents})
	}
	var last *baton.Message
	for i := range r.History {
		m := &r.History[i]
		text := limitText(textOf(*m))
		if strings.TrimSpace(text) == "" {
			continue
		}
		ev := Event{Type: EventMessage, Text: text, Visibility: VisibilityAll}
		if m.Author == baton.ByCustomer {
			ev.AuthorID = customerID
		}
		evs = append(evs, ev)
		last = m
	}
	q := strings.TrimSpace(r.Question)
	if q != "" && (last == nil || last.Author != baton.ByCustomer || strings.TrimSpace(last.Text) != q) {
		evs = append(evs, Event{Type: EventMessage, Text: limitText(r.Question), Visibility: VisibilityAll, AuthorID: customerID})
	}
	return evs
}

// leave takes the PAT's account out of the chat if it is still there.
func (d *Relay) leave(ctx context.Context, chatID string) error {
	self, err := d.selfID(ctx)
	if err != nil {
		return err
	}
	chat, err := d.api.GetChat(ctx, chatID)
	if err != nil {
		return err
	}
	if !present(chat, self) {
		return nil
	}
	err = d.api.RemoveUser(ctx, RemoveUserRequest{ChatID: chatID, UserID: self, UserType: UserAgent, IgnoreRequesterPresence: true})
	var de *baton.DeskError
	if errors.As(err, &de) && de.Permanent {
		return nil // gone meanwhile, or the chat ended: nothing to leave
	}
	return err
}

// present reports whether id is a present user of the chat.
func present(c Chat, id string) bool {
	for _, u := range c.Users {
		if u.ID == id {
			return u.Present
		}
	}
	return false
}

func (d *Relay) expiry(t CustomerToken) time.Time {
	if t.ExpiresIn <= 0 {
		return time.Time{}
	}
	return d.now().Add(time.Duration(t.ExpiresIn) * time.Second)
}

// session returns the handoff's current session: the one renewed in this
// process, else the one in the handle.
func (d *Relay) session(h baton.Handle) (*Session, error) {
	if h.Ref == "" {
		return nil, &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("ref", "required")}
	}
	d.smu.Lock()
	s := d.sessions[h.Ref]
	d.smu.Unlock()
	if s != nil {
		return s, nil
	}
	var got Session
	if err := json.Unmarshal([]byte(h.Data), &got); err != nil || got.CustomerID == "" || got.Cookies[CookieCustomerID] == "" {
		return nil, &baton.DeskError{Permanent: true, Err: errors.New("livechat: the handoff's data holds no LiveChat customer session")}
	}
	d.smu.Lock()
	defer d.smu.Unlock()
	if s := d.sessions[h.Ref]; s != nil {
		return s, nil
	}
	d.sessions[h.Ref] = &got
	return &got, nil
}

// token returns a customer token for the chat, renewed when it has expired.
func (d *Relay) token(ctx context.Context, ref string, s *Session) (string, error) {
	d.smu.Lock()
	tok, exp := s.Token, s.Expires
	d.smu.Unlock()
	if tok != "" && (exp.IsZero() || d.now().Before(exp.Add(-renewBefore))) {
		return tok, nil
	}
	return d.renew(ctx, ref, s, tok)
}

// renew repeats the cookie grant with the session's cookies, which gives
// the same customer a new token. stale is the token that failed: when
// another call has renewed it meanwhile, that token is used.
func (d *Relay) renew(ctx context.Context, ref string, s *Session, stale string) (string, error) {
	d.smu.Lock()
	if s.Token != "" && s.Token != stale {
		tok := s.Token
		d.smu.Unlock()
		return tok, nil
	}
	cookies := make(map[string]string, len(s.Cookies))
	for k, v := range s.Cookies {
		cookies[k] = v
	}
	d.smu.Unlock()
	t, kept, err := d.api.CookieGrant(ctx, d.st.ClientID, d.st.RedirectURI, cookies)
	if err != nil {
		return "", err
	}
	if t.EntityID != s.CustomerID {
		return "", &baton.DeskError{Permanent: true, Err: fmt.Errorf("livechat: renewing the token of customer %s gave customer %s: the customer's cookies are no longer valid", s.CustomerID, t.EntityID)}
	}
	d.smu.Lock()
	s.Token, s.Expires, s.Cookies = t.AccessToken, d.expiry(t), kept
	d.sessions[ref] = s
	d.smu.Unlock()
	return t.AccessToken, nil
}

// asCustomer runs fn with the customer's token; if LiveChat refuses the
// token, it renews it once and runs fn again, so nothing is lost.
func (d *Relay) asCustomer(ctx context.Context, ref string, s *Session, fn func(token string) error) error {
	tok, err := d.token(ctx, ref, s)
	if err != nil {
		return err
	}
	err = fn(tok)
	if errType(err) != "authentication" {
		return err
	}
	if tok, err = d.renew(ctx, ref, s, tok); err != nil {
		return err
	}
	return fn(tok)
}

// Send implements baton.Desk: it posts the customer's message as the
// customer (customer send_event, custom_id "baton:<message id>"). Files are
// fetched (at most 10 MB), uploaded with upload_file and sent as file
// events after the text; a file that cannot be uploaded is a link in the
// text. An expired or refused customer token is renewed with the cookie
// grant and the call repeated once.
func (d *Relay) Send(ctx context.Context, h baton.Handle, m baton.Message) error {
	s, err := d.session(h)
	if err != nil {
		return err
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Attachments) == 0 {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("text", "empty message: no text and no attachments")}
	}
	out, err := d.prepare(ctx, m, func(ctx context.Context, name, ctype string, data []byte) (string, error) {
		var u string
		err := d.asCustomer(ctx, h.Ref, s, func(tok string) (err error) {
			u, err = d.api.Upload(ctx, "customer", tok, name, ctype, data)
			return err
		})
		return u, err
	})
	if err != nil {
		return err
	}
	for _, ev := range events(m.ID, out) {
		err := d.asCustomer(ctx, h.Ref, s, func(tok string) error {
			_, err := d.api.CustomerSendEvent(ctx, tok, h.Ref, ev)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// events are the send_event events of one message: its text, then its
// files, with custom ids derived from the message id.
func events(id string, out outgoing) []Event {
	var evs []Event
	if strings.TrimSpace(out.text) != "" {
		evs = append(evs, Event{Type: EventMessage, Text: out.text, Visibility: VisibilityAll, CustomID: customID(id, -1)})
	}
	for i, u := range out.files {
		evs = append(evs, Event{Type: EventFile, URL: u, Visibility: VisibilityAll, CustomID: customID(id, i)})
	}
	return evs
}

// customID marks the events Baton sends: "baton:<message id>", plus
// ":file<n>" for the message's files.
func customID(id string, file int) string {
	if id == "" {
		return ""
	}
	if file < 0 {
		return "baton:" + id
	}
	return "baton:" + id + ":file" + strconv.Itoa(file)
}

// Close implements baton.Desk: deactivate_chat as the PAT's agent (with
// ignore_requester_presence, since it left the chat), or as the customer
// when the customer ended the handoff, so agents see who ended it. A chat
// that is already inactive or gone counts as closed.
func (d *Relay) Close(ctx context.Context, h baton.Handle, reason baton.EndReason) error {
	if h.Ref == "" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("ref", "required")}
	}
	var err error
	if reason == baton.CustomerClosed {
		if s, serr := d.session(h); serr == nil {
			err = d.asCustomer(ctx, h.Ref, s, func(tok string) error { return d.api.CustomerDeactivateChat(ctx, tok, h.Ref) })
			if err == nil || closedAlready(err) {
				return nil
			}
		}
	}
	err = d.api.DeactivateChat(ctx, h.Ref)
	if closedAlready(err) {
		return nil
	}
	return err
}

// closedAlready reports whether err says the chat is already inactive or gone.
func closedAlready(err error) bool {
	t := errType(err)
	return t == "chat_inactive" || t == "not_found"
}

// Check implements baton.Desk: it lists the groups (an authenticated call;
// refused credentials are an Auth error), checks that group_id and the
// groups of the groups setting exist, finds the PAT's agent, and resolves
// the organization of a license_id.
func (d *Relay) Check(ctx context.Context) error {
	if _, err := d.checkGroups(ctx, true); err != nil {
		return err
	}
	if _, err := d.selfID(ctx); err != nil {
		return err
	}
	_, err := d.api.Organization(ctx)
	return err
}

// Accepting implements baton.Staffed: whether the relay's group
// (group_id) accepts chats now, by its routing status in list_groups.
func (d *Relay) Accepting(ctx context.Context) (bool, error) {
	groups, err := d.api.ListGroups(ctx)
	if err != nil {
		return false, err
	}
	for _, g := range groups {
		if g.ID == d.st.GroupID {
			return strings.ReplaceAll(g.RoutingStatus, " ", "_") == AcceptingChats, nil
		}
	}
	return false, baton.FieldErrorf("settings.group_id", "group %d does not exist in the license", d.st.GroupID)
}

// Inbound implements baton.Desk for relay mode; see doc.go for the mapping.
func (d *Relay) Inbound(ctx context.Context, path string, h http.Header, body []byte) ([]baton.DeskEvent, error) {
	wh, err := d.verify(body)
	if err != nil || wh == nil {
		return nil, err
	}
	evs, err := d.relayEvents(ctx, wh)
	if err != nil {
		return nil, inboundError(err)
	}
	return evs, nil
}
