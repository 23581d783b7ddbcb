package gorgias

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	baton "github.com/batonhq/baton"
)

// Desk is a configured Gorgias desk. It is safe for concurrent use.
type Desk struct {
	st    Settings
	api   *Client
	token [sha256.Size]byte // SHA-256 of the integration token

	mu     sync.Mutex
	unsure map[string]bool // message ids whose last send may have reached Gorgias
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
	return newDesk(cfg, client)
}

func newDesk(cfg baton.DeskConfig, client *http.Client) (*Desk, error) {
	if cfg.Kind != "" && cfg.Kind != baton.KindGorgias {
		return nil, baton.FieldErrorf("kind", "the gorgias package cannot serve a %q desk", cfg.Kind)
	}
	st, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	return &Desk{st: st, api: NewClient(client, st.BaseURL, st.Email, st.APIKey, st.Limit, st.Window),
		token: sha256.Sum256([]byte(st.Token)), unsure: map[string]bool{}}, nil
}

// Settings returns the desk's parsed settings.
func (d *Desk) Settings() Settings { return d.st }

// Client returns the desk's API client.
func (d *Desk) Client() *Client { return d.api }

// Capabilities implements baton.Desk: attachments (as links Gorgias shows),
// agent names.
func (d *Desk) Capabilities() baton.Capabilities {
	return baton.Capabilities{Attachments: true, AgentProfile: true}
}

// Check implements baton.Desk with GET /api/account.
func (d *Desk) Check(ctx context.Context) error { return d.api.Account(ctx) }

// Data is what a handle keeps (JSON): the Gorgias customer Baton writes as.
type Data struct {
	CustomerID int64 `json:"customer_id"`
}

// progress is what Open saves between its calls.
type progress struct {
	CustomerID int64 `json:"customer_id,omitempty"`
	Creating   bool  `json:"creating,omitempty"` // the ticket may have been created
	// Sent is when (Unix ms) the ticket was asked for by a call that got no
	// answer: Gorgias may still be making it.
	Sent     int64 `json:"sent,omitempty"`
	TicketID int64 `json:"ticket_id,omitempty"`
	Noting   bool  `json:"noting,omitempty"` // the brief's note may have been added
	Noted    bool  `json:"noted,omitempty"`
}

// Settle is how long a ticket asked for by a call that got no answer (a
// timeout, a dropped connection, an instance that died) is given to appear
// before Open asks for another: Gorgias may be making it still, and has no
// idempotency key to make a second call safe.
const Settle = time.Minute

// OpeningRef implements baton.Opener.
func (d *Desk) OpeningRef(p string) (string, bool) {
	var pr progress
	if p == "" || json.Unmarshal([]byte(p), &pr) != nil {
		return "", p == ""
	}
	switch {
	case pr.TicketID != 0:
		return strconv.FormatInt(pr.TicketID, 10), true
	case !pr.Creating:
		return "", true
	}
	return "", false
}

// Open implements baton.Desk: the customer is found (by external_id, then
// email) or created, and a ticket is created on the api channel with
// external_id = the handoff id, unless one exists already (an earlier
// attempt that died before saving it). After a create that got no answer,
// another waits until Settle has passed without the ticket appearing. Ref is
// the ticket id.
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
	if err := d.lookFor(ctx, r.HandoffID, &pr); err != nil {
		return baton.Handle{}, err
	}
	if pr.CustomerID == 0 {
		id, err := d.customer(ctx, r.Customer)
		if err != nil {
			return baton.Handle{}, err
		}
		pr.CustomerID = id
	}
	if pr.TicketID == 0 {
		pr.Creating, pr.Sent = true, time.Now().UnixMilli()
		if err := save(); err != nil {
			return baton.Handle{}, err
		}
		t, err := d.api.CreateTicket(ctx, d.ticket(r, pr.CustomerID))
		if err != nil {
			if status(err) != 0 {
				// Gorgias answered: what it did is done, and the next
				// attempt's search sees it.
				pr.Sent = 0
				_ = save()
			}
			return baton.Handle{}, err
		}
		pr.TicketID = t.ID
		if err := save(); err != nil {
			return baton.Handle{}, err
		}
	}
	if !pr.Noted && r.Brief.Summary != "" {
		if err := d.note(ctx, r, &pr, save); err != nil {
			return baton.Handle{}, err
		}
	}
	b, _ := json.Marshal(Data{CustomerID: pr.CustomerID})
	return baton.Handle{Ref: strconv.FormatInt(pr.TicketID, 10), Data: string(b)}, nil
}

// note adds the brief to the ticket as an internal note by the API's user,
// external_id "{handoff id}:brief", once: an attempt after one that may
// have added it looks for it first. A note Gorgias refuses for good is
// left out; the ticket still opens.
func (d *Desk) note(ctx context.Context, r baton.OpenRequest, pr *progress, save func() error) error {
	ref, ext := strconv.FormatInt(pr.TicketID, 10), r.HandoffID+":brief"
	if pr.Noting {
		msgs, err := d.api.Messages(ctx, ref)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			pr.Noted = pr.Noted || m.ExternalID == ext
		}
	}
	if !pr.Noted {
		pr.Noting = true
		if err := save(); err != nil {
			return err
		}
		_, err := d.api.AddMessage(ctx, ref, Message{Channel: "internal-note", Via: "api", FromAgent: true, Sender: &Party{Email: d.st.Email},
			ExternalID: ext, BodyText: "Handoff brief\n" + r.Brief.Text(), BodyHTML: "<p><strong>Handoff brief</strong></p>" + r.Brief.HTML()})
		var de *baton.DeskError
		if err != nil && !(errors.As(err, &de) && de.Permanent) {
			return err
		}
	}
	pr.Noted = true
	return save()
}

// Abandon implements baton.Abandoner: a ticket an earlier attempt asked for
// (progress Creating) is looked for by its external_id and closed; while a
// create that got no answer may still land (Settle), it is looked for again
// later.
func (d *Desk) Abandon(ctx context.Context, r baton.OpenRequest) error {
	var pr progress
	if r.Progress == "" || json.Unmarshal([]byte(r.Progress), &pr) != nil {
		return nil
	}
	if err := d.lookFor(ctx, r.HandoffID, &pr); err != nil || pr.TicketID == 0 {
		return err // nil: never made
	}
	return d.Close(ctx, baton.Handle{Ref: strconv.FormatInt(pr.TicketID, 10)}, "")
}

// lookFor finds the ticket an earlier attempt may have made (progress
// Creating, no ticket yet) by its external_id and records it in pr. While a
// create that got no answer may still land (Settle), not finding it is a
// DeskError asking to look again later.
func (d *Desk) lookFor(ctx context.Context, handoffID string, pr *progress) error {
	if pr.TicketID != 0 || !pr.Creating {
		return nil
	}
	t, ok, err := d.api.FindTicket(ctx, handoffID)
	switch wait := time.Until(time.UnixMilli(pr.Sent).Add(Settle)); {
	case err != nil:
		return err
	case ok:
		pr.TicketID = t.ID
	case pr.Sent != 0 && wait > 0:
		return &baton.DeskError{RetryAfter: wait.Round(time.Second) + time.Second,
			Err: fmt.Errorf("the ticket asked for at %s got no answer and may still appear: looking again after %s",
				time.UnixMilli(pr.Sent).UTC().Format(time.TimeOnly), Settle)}
	}
	return nil
}

// customer finds or creates the Gorgias customer of c.
func (d *Desk) customer(ctx context.Context, c baton.Customer) (int64, error) {
	if c.ID != "" {
		cu, ok, err := d.api.FindCustomer(ctx, "external_id", c.ID)
		if err != nil || ok {
			return cu.ID, err
		}
	}
	if c.Email != "" {
		cu, ok, err := d.api.FindCustomer(ctx, "email", c.Email)
		if err != nil || ok {
			return cu.ID, err
		}
	}
	in := Customer{Name: c.Name, Email: c.Email, ExternalID: c.ID}
	if in.Name == "" {
		in.Name = c.ID
	}
	if c.Email != "" {
		in.Channels = []Channel{{Type: "email", Address: c.Email, Preferred: true}}
	}
	cu, err := d.api.CreateCustomer(ctx, in)
	return cu.ID, err
}

// ticket is the ticket Open creates: its first message is the transcript,
// one line per turn, then the latest question.
func (d *Desk) ticket(r baton.OpenRequest, customer int64) Ticket {
	var text, markup strings.Builder
	line := func(who, s string, files []baton.Attachment) {
		for _, f := range files {
			s = strings.TrimSpace(s + " [" + name(f) + ": " + f.URL + "]")
		}
		s = strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ")
		fmt.Fprintf(&text, "%s: %s\n", who, s)
		fmt.Fprintf(&markup, "<p><strong>%s:</strong> %s</p>", who, strings.ReplaceAll(html.EscapeString(s), "\n", "<br>"))
	}
	for _, m := range r.History {
		line(author(m.Author), m.Text, m.Attachments)
	}
	if r.Question != "" {
		line("Customer", r.Question, nil)
	}
	if text.Len() == 0 {
		line("Customer", "(asked for a person)", nil)
	}
	subject := "Chat handoff"
	if r.Customer.Name != "" {
		subject += " from " + r.Customer.Name
	}
	if q := strings.TrimSpace(r.Question); q != "" {
		subject += ": " + truncate(strings.Join(strings.Fields(q), " "), 80)
	}
	sender := &Party{ID: customer}
	return Ticket{Channel: "api", Via: "api", ExternalID: r.HandoffID, Subject: subject, Customer: &Party{ID: customer},
		Messages: []Message{{Channel: "api", Via: "api", Sender: sender, ExternalID: r.HandoffID + ":open",
			BodyText: strings.TrimSuffix(text.String(), "\n"), BodyHTML: markup.String()}}}
}

func author(a baton.Author) string {
	switch a {
	case baton.ByCustomer:
		return "Customer"
	case baton.ByBot:
		return "Bot"
	case baton.ByAgent:
		return "Agent"
	}
	return "System"
}

func name(f baton.Attachment) string {
	if f.Name != "" {
		return f.Name
	}
	return "file"
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Send implements baton.Desk: an incoming customer message, its
// attachments as links, external_id "baton:{message id}". A send whose
// answer was lost (here, or in an instance that died: baton.Repeated) is
// looked for among the ticket's messages before it is made again.
func (d *Desk) Send(ctx context.Context, h baton.Handle, m baton.Message) error {
	var data Data
	if err := json.Unmarshal([]byte(h.Data), &data); err != nil || data.CustomerID == 0 {
		return &baton.DeskError{Permanent: true, Err: fmt.Errorf("the handle of ticket %s names no Gorgias customer", h.Ref)}
	}
	ext := "baton:" + m.ID
	d.mu.Lock()
	unsure := d.unsure[ext] || baton.Repeated(ctx)
	d.mu.Unlock()
	if unsure {
		msgs, err := d.api.Messages(ctx, h.Ref)
		if err != nil {
			return err
		}
		for _, got := range msgs {
			if got.ExternalID == ext {
				d.settle(ext)
				return nil
			}
		}
	}
	text := m.Text
	msg := Message{Channel: "api", Via: "api", Sender: &Party{ID: data.CustomerID}, ExternalID: ext}
	for _, a := range m.Attachments {
		msg.Attachments = append(msg.Attachments, Attachment{URL: a.URL, Name: a.Name, ContentType: a.Type, Size: a.Size})
	}
	if strings.TrimSpace(text) == "" && len(m.Attachments) > 0 {
		text = "(sent " + strconv.Itoa(len(m.Attachments)) + " file(s))"
	}
	msg.BodyText = text
	msg.BodyHTML = "<p>" + strings.ReplaceAll(html.EscapeString(text), "\n", "<br>") + "</p>"
	_, err := d.api.AddMessage(ctx, h.Ref, msg)
	var de *baton.DeskError
	switch {
	case err == nil:
		d.settle(ext)
	case errors.As(err, &de) && !de.Permanent && !de.Auth && !errors.Is(err, context.Canceled):
		d.mu.Lock()
		if len(d.unsure) > 10000 {
			clear(d.unsure)
		}
		d.unsure[ext] = true
		d.mu.Unlock()
	}
	return err
}

func (d *Desk) settle(ext string) {
	d.mu.Lock()
	delete(d.unsure, ext)
	d.mu.Unlock()
}

// Close implements baton.Desk: the ticket is set closed. A ticket Gorgias
// no longer has is closed enough.
func (d *Desk) Close(ctx context.Context, h baton.Handle, _ baton.EndReason) error {
	err := d.api.SetStatus(ctx, h.Ref, "closed")
	if status(err) == http.StatusNotFound {
		return nil
	}
	return err
}
