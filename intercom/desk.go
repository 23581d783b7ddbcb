package intercom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	baton "github.com/batonhq/baton"
)

// MaxAttachmentURLs is how many attachment_urls a message may carry; files
// past it are sent as links in the text.
const MaxAttachmentURLs = 10

// RepeatWindow is how far back Send looks for a reply an earlier attempt
// (one of another instance, baton.Repeated) may have posted.
const RepeatWindow = 2 * time.Minute

// Desk is a configured Intercom desk. It is safe for concurrent use.
type Desk struct {
	st  Settings
	api *Client

	mu     sync.Mutex
	admin  ID                   // who closes: admin_id, or the token's admin once known
	admins map[ID]Admin         // names of the admins seen, for assignments
	unsure map[string]time.Time // message id → when a send began whose answer was lost
	sent   map[ID]string        // part id → the message id whose reply made it
}

var (
	_ baton.Desk           = (*Desk)(nil)
	_ baton.Opener         = (*Desk)(nil)
	_ baton.InboundLimiter = (*Desk)(nil)
	_ baton.Abandoner      = (*Desk)(nil)
)

// New returns the desk cfg configures; client makes its calls (nil: a
// client with a 30 s timeout). Invalid settings return a *baton.Error
// naming the field.
func New(cfg baton.DeskConfig, client *http.Client) (baton.Desk, error) {
	return NewDesk(cfg, client)
}

// NewDesk is New returning the concrete desk, for tools that need its
// client (office hours).
func NewDesk(cfg baton.DeskConfig, client *http.Client) (*Desk, error) {
	if cfg.Kind != "" && cfg.Kind != baton.KindIntercom {
		return nil, baton.FieldErrorf("kind", "the intercom package cannot serve a %q desk", cfg.Kind)
	}
	st, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	return &Desk{st: st, api: NewClient(client, st.BaseURL, st.Token, st.Version), admin: ID(st.AdminID), admins: map[ID]Admin{}, unsure: map[string]time.Time{}, sent: map[ID]string{}}, nil
}

// Settings returns the desk's parsed settings.
func (d *Desk) Settings() Settings { return d.st }

// Client returns the desk's API client.
func (d *Desk) Client() *Client { return d.api }

// Capabilities implements baton.Desk: attachments (by URL) and agent
// names. Intercom reports no customer ending a conversation.
func (d *Desk) Capabilities() baton.Capabilities {
	return baton.Capabilities{Attachments: true, AgentProfile: true}
}

// Check implements baton.Desk with GET /me; the admin who owns the token
// closes conversations unless admin_id names another.
func (d *Desk) Check(ctx context.Context) error {
	me, err := d.api.Me(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if d.admin == "" {
		d.admin = me.ID
	}
	d.admins[me.ID] = me
	d.mu.Unlock()
	return nil
}

// closer returns the admin Baton acts as.
func (d *Desk) closer(ctx context.Context) (ID, error) {
	d.mu.Lock()
	id := d.admin
	d.mu.Unlock()
	if id != "" {
		return id, nil
	}
	if err := d.Check(ctx); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.admin, nil
}

// Data is what a handle keeps (JSON): the contact Baton writes as.
type Data struct {
	ContactID ID `json:"contact_id"`
}

// progress is what Open saves between its calls.
type progress struct {
	ContactID ID   `json:"contact_id,omitempty"`
	Lead      bool `json:"lead,omitempty"`     // the contact is a lead
	Creating  bool `json:"creating,omitempty"` // the conversation may have been created
	// Asked is when (Unix ms) a create got no answer: Intercom may have
	// made the conversation, which its search may not show yet.
	Asked          int64 `json:"asked,omitempty"`
	ConversationID ID    `json:"conversation_id,omitempty"`
	Noting         bool  `json:"noting,omitempty"` // the brief's note may have been added
	Noted          bool  `json:"noted,omitempty"`
}

// Settle is how long a conversation whose create got no answer (a
// timeout, a dropped connection, an instance that died) is given to show
// in search before Open creates another: Intercom takes no idempotency key
// there, and its search lags behind.
const Settle = time.Minute

// BriefHeading begins the note that holds the handoff's brief.
const BriefHeading = "Handoff brief (from Baton)"

// OpeningRef implements baton.Opener.
func (d *Desk) OpeningRef(p string) (string, bool) {
	var pr progress
	if p == "" {
		return "", true
	}
	if json.Unmarshal([]byte(p), &pr) != nil {
		return "", false
	}
	switch {
	case pr.ConversationID != "":
		return string(pr.ConversationID), true
	case pr.Creating:
		return "", false
	}
	return "", true
}

// Abandon implements baton.Abandoner: a conversation an earlier attempt
// asked for (progress Creating) is looked for by its marker and closed;
// while a create that got no answer may still show (Settle), it is looked
// for again later.
func (d *Desk) Abandon(ctx context.Context, r baton.OpenRequest) error {
	var pr progress
	if r.Progress == "" || json.Unmarshal([]byte(r.Progress), &pr) != nil {
		return nil
	}
	if err := d.lookFor(ctx, r.HandoffID, &pr); err != nil || pr.ConversationID == "" {
		return err // nil: never made
	}
	return d.Close(ctx, baton.Handle{Ref: string(pr.ConversationID)}, "")
}

// lookFor finds the conversation an earlier attempt may have made
// (progress Creating, no conversation yet) by its marker and records it in
// pr. While a create that got no answer may not show in search yet
// (Settle), not finding it is a DeskError asking to look again later.
func (d *Desk) lookFor(ctx context.Context, handoffID string, pr *progress) error {
	if pr.ConversationID != "" || !pr.Creating {
		return nil
	}
	found, err := d.api.SearchConversations(ctx, pr.ContactID, Marker(handoffID))
	switch wait := time.Until(time.UnixMilli(pr.Asked).Add(Settle)); {
	case err != nil:
		return err
	case len(found) > 0:
		pr.ConversationID = found[0].ID
	case pr.Asked != 0 && wait > 0:
		return &baton.DeskError{RetryAfter: wait.Round(time.Second) + time.Second,
			Err: fmt.Errorf("a conversation asked for at %s got no answer and may not show in search yet: looking again after %s",
				time.UnixMilli(pr.Asked).UTC().Format(time.TimeOnly), Settle)}
	}
	return nil
}

// Marker is the line that ends the body of the conversation Open creates:
// it names the handoff, so that an open retried after its answer was lost
// finds the conversation instead of making another.
func Marker(handoffID string) string { return "Baton handoff " + handoffID }

// Open implements baton.Desk: the contact is found or created, then a
// conversation from it whose body is the transcript. Ref is the
// conversation id.
func (d *Desk) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if r.HandoffID == "" {
		return baton.Handle{}, &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("handoff_id", "required")}
	}
	var pr progress
	if r.Progress != "" {
		_ = json.Unmarshal([]byte(r.Progress), &pr)
	}
	save := func() error {
		if r.Save == nil {
			return nil
		}
		b, _ := json.Marshal(pr)
		return r.Save(string(b))
	}
	if pr.ContactID == "" {
		id, lead, err := d.contact(ctx, r.Customer)
		if err != nil {
			return baton.Handle{}, err
		}
		pr.ContactID, pr.Lead = id, lead
		if err := save(); err != nil {
			return baton.Handle{}, err
		}
	}
	// An earlier attempt may have made it and died before saving.
	if err := d.lookFor(ctx, r.HandoffID, &pr); err != nil {
		return baton.Handle{}, err
	}
	if pr.ConversationID == "" {
		pr.Creating, pr.Asked = true, time.Now().UnixMilli()
		if err := save(); err != nil {
			return baton.Handle{}, err
		}
		from := From{Type: "user", ID: pr.ContactID}
		if pr.Lead {
			from.Type = "lead"
		}
		msg, err := d.api.CreateConversation(ctx, NewConversation{From: from, Body: Transcript(r)})
		if err != nil {
			if ae := apiError(err); ae != nil && ae.Status < 500 {
				// Intercom refused it: nothing was made.
				pr.Asked = 0
				_ = save()
			}
			return baton.Handle{}, err
		}
		if msg.ConversationID == "" {
			return baton.Handle{}, &baton.DeskError{Err: fmt.Errorf("POST /conversations answered message %s without its conversation_id", msg.ID)}
		}
		pr.ConversationID = msg.ConversationID
		if err := save(); err != nil {
			return baton.Handle{}, err
		}
	}
	if !pr.Noted && r.Brief.Summary != "" {
		if err := d.note(ctx, r, &pr, save); err != nil {
			return baton.Handle{}, err
		}
	}
	b, _ := json.Marshal(Data{ContactID: pr.ContactID})
	return baton.Handle{Ref: string(pr.ConversationID), Data: string(b)}, nil
}

// note adds the brief to the conversation as a note (teammates only) by
// the admin Baton acts as, once: an attempt after one that may have added
// it looks for it first. A note Intercom refuses for good is left out; the
// conversation still opens.
func (d *Desk) note(ctx context.Context, r baton.OpenRequest, pr *progress, save func() error) error {
	ref := string(pr.ConversationID)
	if pr.Noting {
		c, err := d.api.Conversation(ctx, ref)
		if err != nil {
			return err
		}
		pr.Noted = slices.ContainsFunc(c.Parts.Parts, func(p Part) bool {
			return p.PartType == "note" && strings.HasPrefix(Text(p.Body), BriefHeading)
		})
	}
	if !pr.Noted {
		admin, err := d.closer(ctx)
		if err != nil {
			return err
		}
		pr.Noting = true
		if err := save(); err != nil {
			return err
		}
		_, err = d.api.Reply(ctx, ref, Reply{MessageType: "note", Type: "admin", AdminID: admin, Body: BriefHeading + "\n" + r.Brief.Text()})
		var de *baton.DeskError
		if err != nil && !(errors.As(err, &de) && de.Permanent) {
			return err
		}
	}
	pr.Noted = true
	return save()
}

// contact finds or creates c's contact: a user by external_id (Baton's
// customer id), else by email; a lead when Baton knows neither. Search
// lags behind creation, so a contact it misses may exist: the 409 that
// answers its creation names it.
func (d *Desk) contact(ctx context.Context, c baton.Customer) (id ID, lead bool, err error) {
	field, value := "external_id", c.ID
	if value == "" {
		field, value = "email", c.Email
	}
	if value == "" {
		id, _, err := d.api.CreateContact(ctx, Contact{Role: "lead", Name: c.Name})
		return id, true, err
	}
	found, err := d.api.SearchContacts(ctx, field, value)
	if err != nil {
		return "", false, err
	}
	for _, f := range found {
		if (field == "external_id" && f.ExternalID == value) || (field == "email" && strings.EqualFold(f.Email, value)) {
			return f.ID, f.Role == "lead", nil
		}
	}
	if field == "external_id" && c.Email != "" {
		// Not by the id: by the email, a contact nobody gave another id
		// (a lead from the Messenger, a user made by hand).
		found, err := d.api.SearchContacts(ctx, "email", c.Email)
		if err != nil {
			return "", false, err
		}
		for _, f := range found {
			if strings.EqualFold(f.Email, c.Email) && f.ExternalID == "" {
				return f.ID, f.Role == "lead", nil
			}
		}
	}
	id, _, err = d.api.CreateContact(ctx, Contact{Role: "user", ExternalID: c.ID, Email: c.Email, Name: c.Name})
	return id, false, err
}

// Transcript is the body of the conversation Open creates, plain text
// (Intercom takes no HTML there): a heading, the history one turn a line
// ("Customer: …", "Bot: …"), the latest question, and Marker.
func Transcript(r baton.OpenRequest) string {
	var b strings.Builder
	who := r.Customer.Name
	if who == "" {
		who = "The customer"
	}
	fmt.Fprintf(&b, "%s asked for a person. The conversation with the bot so far:\n\n", who)
	labels := map[baton.Author]string{baton.ByCustomer: "Customer", baton.ByBot: "Bot", baton.ByAgent: "Agent"}
	for _, m := range r.History {
		label := labels[m.Author]
		if label == "" {
			label = "System"
		}
		fmt.Fprintf(&b, "%s: %s\n", label, oneLine(m.Text, m.Attachments))
	}
	if q := strings.TrimSpace(r.Question); q != "" {
		fmt.Fprintf(&b, "Customer: %s\n", oneLine(q, nil))
	} else if len(r.History) == 0 {
		b.WriteString("Customer: (asked for a person)\n")
	}
	fmt.Fprintf(&b, "\n(%s)", Marker(r.HandoffID))
	return b.String()
}

// oneLine renders a turn's text on one line, its files as [name: url].
func oneLine(text string, files []baton.Attachment) string {
	parts := strings.Fields(text)
	for _, f := range files {
		n := f.Name
		if n == "" {
			n = "file"
		}
		parts = append(parts, "["+n+": "+f.URL+"]")
	}
	return strings.Join(parts, " ")
}

// Send implements baton.Desk: a user reply as the handoff's contact, its
// files as attachment_urls (up to 10; more as links in the text).
func (d *Desk) Send(ctx context.Context, h baton.Handle, m baton.Message) error {
	var data Data
	if err := json.Unmarshal([]byte(h.Data), &data); err != nil || data.ContactID == "" {
		return &baton.DeskError{Permanent: true, Err: fmt.Errorf("the handle of conversation %s names no Intercom contact", h.Ref)}
	}
	body := strings.TrimSpace(m.Text)
	var urls, extra []string
	for i, a := range m.Attachments {
		if i < MaxAttachmentURLs {
			urls = append(urls, a.URL)
		} else {
			extra = append(extra, a.URL)
		}
	}
	if len(extra) > 0 {
		body = strings.TrimSpace(body + "\n" + strings.Join(extra, "\n"))
	}
	if body == "" {
		body = "(sent " + strconv.Itoa(len(m.Attachments)) + " file(s))"
	}
	d.mu.Lock()
	since, unsure := d.unsure[m.ID]
	d.mu.Unlock()
	if !unsure && baton.Repeated(ctx) {
		// An attempt in an instance that died may have posted it: it
		// would be among the conversation's last minutes, and not before
		// Baton took the message.
		since, unsure = time.Now().Add(-RepeatWindow), true
		if m.CreatedAt.After(since) {
			since = m.CreatedAt
		}
	}
	if unsure {
		// The last try's answer was lost: it may have been posted.
		c, err := d.api.Conversation(ctx, h.Ref)
		if err != nil {
			return err
		}
		if d.posted(c, m.ID, data.ContactID, body, since) {
			d.settle(m.ID)
			return nil
		}
	}
	began := time.Now()
	c, err := d.api.Reply(ctx, h.Ref, Reply{MessageType: "comment", Type: "user", IntercomUserID: data.ContactID, Body: body, AttachmentURLs: urls})
	var de *baton.DeskError
	switch ae := apiError(err); {
	case err == nil:
		d.settle(m.ID)
		d.own(c, m.ID, data.ContactID, body)
	case errors.As(err, &de) && !de.Permanent && !de.Auth && (ae == nil || ae.Status != http.StatusTooManyRequests) && !unsure:
		d.mu.Lock()
		if len(d.unsure) > 10000 {
			clear(d.unsure)
		}
		d.unsure[m.ID] = began
		d.mu.Unlock()
	}
	return err
}

func (d *Desk) settle(id string) {
	d.mu.Lock()
	delete(d.unsure, id)
	d.mu.Unlock()
}

// posted reports whether c has contact's reply body, made since then (a
// second's slack: Intercom counts in seconds).
func (d *Desk) posted(c Conversation, msg string, contact ID, body string, since time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range slices.Backward(c.Parts.Parts) {
		if p.CreatedAt < since.Unix()-1 {
			break
		}
		if owner := d.sent[p.ID]; p.PartType == "comment" && p.Author.ID == contact && Text(p.Body) == body && (owner == "" || owner == msg) {
			return true
		}
	}
	return false
}

// own records the part a reply made (the newest of the contact's with its
// body in the answer), so that a lookup for another message with the same
// words, made within the same second, does not take it for its own.
func (d *Desk) own(c Conversation, msg string, contact ID, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range slices.Backward(c.Parts.Parts) {
		if p.PartType == "comment" && p.Author.ID == contact && Text(p.Body) == body {
			if len(d.sent) > 10000 {
				clear(d.sent)
			}
			d.sent[p.ID] = msg
			return
		}
	}
}

// Close implements baton.Desk: the conversation is closed as the admin
// Baton acts as. A conversation Intercom no longer has is closed enough.
func (d *Desk) Close(ctx context.Context, h baton.Handle, _ baton.EndReason) error {
	admin, err := d.closer(ctx)
	if err != nil {
		return err
	}
	err = d.api.Part(ctx, h.Ref, PartRequest{MessageType: "close", Type: "admin", AdminID: admin})
	if ae := apiError(err); ae != nil && ae.Status == http.StatusNotFound {
		return nil
	}
	return err
}
