package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// pageData is what every template gets: the page's own part is in one of
// SignIn, Queue or Case.
type pageData struct {
	Title   string // the page's title without the badge
	Agent   baton.InboxAgent
	CSRF    string
	Waiting int    // handoffs waiting in the agent's desk: the title's badge
	Version string // a digest of what the page shows; the event stream says when it changes
	Live    bool   // the page follows the event stream
	Status  int
	Message string // the page's error or notice, shown in an alert
	Now     time.Time

	SignIn *signInData
	Queue  *queueData
	Case   *caseData
}

// FullTitle is the document title: "(N) " first when handoffs wait.
func (d *pageData) FullTitle() string {
	if d.Waiting > 0 {
		return fmt.Sprintf("(%d) %s", d.Waiting, d.Title)
	}
	return d.Title
}

type signInData struct {
	Token string
	Email string
	Next  string
}

type queueData struct {
	Waiting, Mine []engine.InboxItem
}

type caseData struct {
	engine.InboxCase
	Mine     bool   // the agent holds it
	CanClaim bool   // open in the desk, held by nobody
	Draft    string // the reply the agent was writing, after a refused send
}

// Open reports whether the handoff has not ended.
func (c *caseData) Open() bool { return c.Handoff.Open() }

// TypingUntil is when the customer's typing stops showing: zero when it
// does not show (no report, one older than engine.TypingFor, or a message
// since).
func (c *caseData) TypingUntil() time.Time {
	h := c.Handoff
	until := h.CustomerTypingAt.Add(engine.TypingFor)
	if !h.Open() || h.CustomerTypingAt.IsZero() || !h.CustomerTypingAt.After(h.LastCustomerAt) || !until.After(time.Now()) {
		return time.Time{}
	}
	return until
}

// CanReply reports whether the agent may write to the customer now.
func (c *caseData) CanReply() bool {
	return c.Mine && c.Handoff.Open() && c.Handoff.State != baton.Requested
}

// parsePages parses every page: each is the layout with the page's file.
func parsePages(static map[string]asset) map[string]*template.Template {
	funcs := template.FuncMap{
		"asset":    func(name string) string { return assetURL(static, name) },
		"idem":     randomToken,
		"customer": customerName,
		"author":   authorName,
		"since":    since,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"clock":    func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") },
		"meta":     metadata,
		"state":    stateText,
		"history":  func(i, n int) bool { return i < n },
		"waitFrom": waitFrom,
		"bytes":    byteSize,
		"ms":       func(t time.Time) int64 { return t.UnixMilli() },
		"fileAccept": func() string {
			return strings.Join(baton.FileTypes, ",") + ",.png,.jpg,.jpeg,.gif,.webp,.pdf,.txt,.csv"
		},
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "queue", "case", "error"} {
		t := template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
		pages[name] = t
	}
	return pages
}

// render writes a page (tmpl "layout") or a fragment of one.
func (s *Server) render(w http.ResponseWriter, status int, page, tmpl string, d *pageData) {
	if d.Now.IsZero() {
		d.Now = time.Now()
	}
	d.Status = status
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, tmpl, d); err != nil {
		s.p.Log.Error("rendering a page failed", "page", page, "template", tmpl, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// customerName is how the inbox names a customer.
func customerName(c baton.Customer) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Email != "":
		return c.Email
	case c.ID != "":
		return c.ID
	}
	return "Customer"
}

// authorName names the author of a message.
func authorName(m baton.Message, c baton.Customer) string {
	switch m.Author {
	case baton.ByCustomer:
		return customerName(c)
	case baton.ByBot:
		return "Bot"
	case baton.ByAgent:
		if m.AgentName != "" {
			return m.AgentName
		}
		return "Agent"
	}
	return "Baton"
}

// since says how long ago t was, roughly: "just now", "4 min", "2 h 5 min", "3 d".
func since(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d d", int(d.Hours()/24))
}

// pair is one entry of a customer's metadata, as text.
type pair struct{ Key, Value string }

// metadata lists a customer's metadata sorted by key, each value as text
// (a string as it is, anything else as JSON).
func metadata(m map[string]any) []pair {
	out := make([]pair, 0, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				b = []byte(fmt.Sprint(v))
			}
			s = string(b)
		}
		out = append(out, pair{k, s})
	}
	slices.SortFunc(out, func(a, b pair) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// endReasons say why a handoff ended, for people.
var endReasons = map[baton.EndReason]string{
	baton.AgentClosed:     "an agent ended it",
	baton.CustomerClosed:  "the customer left",
	baton.BotClosed:       "the bot ended it",
	baton.WaitTimeout:     "nobody answered in time",
	baton.SessionTimeout:  "the customer stopped answering",
	baton.IdleExpired:     "no message for too long",
	baton.OutOfHours:      "out of hours",
	baton.DeskUnavailable: "the desk was unavailable",
	baton.Transferred:     "transferred",
}

// stateText describes where a handoff is, from the agent's side.
func stateText(h baton.Handoff, me baton.InboxAgent) string {
	switch {
	case h.State == baton.Ended:
		if r, ok := endReasons[h.EndReason]; ok {
			return "Ended: " + r
		}
		return "Ended"
	case h.State == baton.Requested:
		return "Not open in the inbox yet"
	case h.Agent.ID == me.ID:
		return "Yours"
	case h.Agent.ID != "":
		return "Held by " + cmp.Or(h.Agent.Name, "another agent")
	}
	return "Waiting for an agent"
}

// waitFrom is when a handoff's wait began: its queueing, or the customer's
// last keep-waiting.
func waitFrom(h baton.Handoff) time.Time {
	switch {
	case !h.WaitingSince.IsZero():
		return h.WaitingSince
	case !h.QueuedAt.IsZero():
		return h.QueuedAt
	}
	return h.CreatedAt
}

// byteSize is a file's size as people read it: "812 B", "4.2 KiB", "3.0 MiB".
func byteSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
