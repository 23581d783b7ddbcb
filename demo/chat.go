package demo

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// The customer side of the demo bot: the JSON endpoint the chat widget
// (Baton's /static/widget.js) talks to, under /chat/{conversation}/:
//
//	POST messages     {"text"}   the customer writes; relayed to the handoff while there is one
//	POST files        multipart  the customer sends a file (part "file"); only to a person
//	POST typing                  the customer is typing; told to the person, if one holds the chat
//	POST human        {"email"}  ask for a person (the email is optional)
//	POST email        {"email"}  the email Baton asked for (needs_email)
//	POST keep-waiting            answer a wait timeout: keep waiting
//	POST end                     the customer ends the chat
//	GET  events                  server-sent events of what the customer sees
//
// The events are the conversation's log, from the customer's own messages to
// the bot's verified webhook events (queued with the queue position and the
// estimated wait, agent joined, agent messages, wait timeout, ended) and the
// out-of-hours reply; each carries its index as id, so a reconnecting
// EventSource resumes after the last one it had (Last-Event-ID). Requests
// from other origins are allowed when they come from a loopback page (the
// demo's keys are public and it listens on loopback only): the answers carry
// Access-Control-Allow-Origin for those, and for nothing else.

// chatPrefix marks the conversations the widget opened, in the bot API's
// conversation ids: their wait timeouts go to the customer, the walk's get
// the bot's own keep-waiting.
const chatPrefix = "web-"

// maxChats bounds the conversations the demo bot keeps in memory, and
// maxLog the customer's messages in one.
const (
	maxChats = 1000
	maxLog   = 1000
)

// chatEvent is one line of what the customer sees.
type chatEvent struct {
	Type     string   `json:"type"` // customer, bot, connecting, needs_email, queued, joined, agent, typing, read, wait_timeout, out_of_hours, ended, error
	Text     string   `json:"text,omitempty"`
	Files    []file   `json:"files,omitempty"`
	Agent    string   `json:"agent,omitempty"`
	Position int      `json:"position,omitempty"`
	Wait     *int64   `json:"wait_seconds,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Until    string   `json:"until,omitempty"` // typing: shown until then (RFC 3339)
}

// file is a file in a message, as the widget links it.
type file struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// files are a message's attachments as the widget links them: only http
// and https links.
func files(atts []baton.Attachment) []file {
	var out []file
	for _, a := range atts {
		if strings.HasPrefix(a.URL, "https://") || strings.HasPrefix(a.URL, "http://") {
			out = append(out, file{URL: a.URL, Name: cmp.Or(a.Name, "file"), Size: a.Size})
		}
	}
	return out
}

// where reads where v's handoff stands: its id ("" when none is open,
// "pending" while asked for) and phase.
func (c *chats) where(v *conv) (handoff, phase string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return v.handoff, v.phase
}

// conv is one widget conversation.
type conv struct {
	log     []chatEvent
	changed chan struct{} // closed and replaced on every append
	handoff string        // the current handoff, "" when none is open
	phase   string        // "" (the bot's), requested, needs_email, queued, active
	email   string
}

// chats are the widget conversations, by the widget's id.
type chats struct {
	mu    sync.Mutex
	convs map[string]*conv
}

func (c *chats) get(id string, create bool) *conv {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.convs == nil {
		c.convs = map[string]*conv{}
	}
	v := c.convs[id]
	if v == nil && create && len(c.convs) < maxChats {
		v = &conv{changed: make(chan struct{})}
		c.convs[id] = v
	}
	return v
}

// add appends events to v's log; the caller holds c.mu.
func (v *conv) add(evs ...chatEvent) {
	v.log = append(v.log, evs...)
	close(v.changed)
	v.changed = make(chan struct{})
}

var chatID = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// maxText is the longest customer message the widget relays, in characters.
const maxText = 2000

// chatHandler serves /chat/.
func (b *Bot) chatHandler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST /chat/{c}/messages", b.chatMessage)
	m.HandleFunc("POST /chat/{c}/files", b.chatFile)
	m.HandleFunc("POST /chat/{c}/typing", b.chatTyping)
	m.HandleFunc("POST /chat/{c}/human", b.chatHuman)
	m.HandleFunc("POST /chat/{c}/email", b.chatEmail)
	m.HandleFunc("POST /chat/{c}/keep-waiting", b.chatKeepWaiting)
	m.HandleFunc("POST /chat/{c}/end", b.chatEnd)
	m.HandleFunc("GET /chat/{c}/events", b.chatEvents)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && loopbackOrigin(o) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				h.Set("Access-Control-Allow-Headers", "Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		} else if r.Method == http.MethodOptions {
			w.Header().Add("Vary", "Origin")
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		if !chatID.MatchString(strings.Split(strings.TrimPrefix(r.URL.Path, "/chat/"), "/")[0]) {
			chatError(w, http.StatusNotFound, "no such conversation: ids are 8 to 64 letters, digits, - or _")
			return
		}
		m.ServeHTTP(w, r)
	})
}

// loopbackOrigin says whether an Origin is a page on this machine.
func loopbackOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func chatError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// body decodes the request's JSON object into v; an empty body is allowed
// when empty is.
func body(w http.ResponseWriter, r *http.Request, v any, empty bool) bool {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 16<<10+1))
	if err != nil || len(raw) > 16<<10 {
		chatError(w, http.StatusRequestEntityTooLarge, "the body is too large (at most 16 KiB)")
		return false
	}
	if len(bytes.TrimSpace(raw)) == 0 && empty {
		return true
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		chatError(w, http.StatusUnsupportedMediaType, "send application/json")
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		chatError(w, http.StatusBadRequest, "the body is not the JSON object expected: "+err.Error())
		return false
	}
	return true
}

func (b *Bot) conv(w http.ResponseWriter, r *http.Request) (string, *conv) {
	id := r.PathValue("c")
	v := b.chats.get(id, true)
	if v == nil {
		chatError(w, http.StatusServiceUnavailable, "the demo bot holds too many conversations")
	}
	return id, v
}

func (b *Bot) chatMessage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if !body(w, r, &req, false) {
		return
	}
	req.Text = strings.TrimSpace(req.Text)
	if req.Text == "" || utf8.RuneCountInString(req.Text) > maxText || !utf8.ValidString(req.Text) {
		chatError(w, http.StatusUnprocessableEntity, fmt.Sprintf("text: 1 to %d characters", maxText))
		return
	}
	_, v := b.conv(w, r)
	if v == nil {
		return
	}
	b.chats.mu.Lock()
	if len(v.log) >= maxLog {
		b.chats.mu.Unlock()
		chatError(w, http.StatusTooManyRequests, fmt.Sprintf("this conversation holds %d lines already: start another", maxLog))
		return
	}
	v.add(chatEvent{Type: "customer", Text: req.Text})
	h, phase := v.handoff, v.phase
	if h == "" {
		v.add(chatEvent{Type: "bot", Text: "I am the demo bot and know very little. Press “Talk to a person” and someone will answer."})
	}
	b.chats.mu.Unlock()
	if h != "" && phase != "needs_email" {
		if _, err := b.api(r.Context(), "/v1/handoffs/"+url.PathEscape(h)+"/messages", map[string]string{"text": req.Text}); err != nil {
			b.failed(v, "Your message could not be passed on: "+err.Error())
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// chatFile relays a file the customer chose to the person holding the
// chat: the bot gives it to Baton (POST /v1/files) and sends it in a
// message. With no person to give it to, it is refused (409).
func (b *Bot) chatFile(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, baton.MaxFileSize+64<<10)
	f, fh, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			chatError(w, http.StatusRequestEntityTooLarge, "the file is larger than 10 MiB")
			return
		}
		chatError(w, http.StatusBadRequest, "send the file as multipart/form-data, in a part named file")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		chatError(w, http.StatusBadRequest, "the file could not be read")
		return
	}
	_, v := b.conv(w, r)
	if v == nil {
		return
	}
	h, phase := b.chats.where(v)
	if h == "" || h == "pending" || phase == "needs_email" {
		chatError(w, http.StatusConflict, "files go to a person: press “Talk to a person” first")
		return
	}
	att, err := b.upload(r.Context(), fh.Filename, data)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status/100 == 4 {
			chatError(w, http.StatusUnprocessableEntity, "This file cannot be sent: "+ae.Detail)
			return
		}
		chatError(w, http.StatusBadGateway, "the file could not be passed on: "+err.Error())
		return
	}
	if _, err := b.api(r.Context(), "/v1/handoffs/"+url.PathEscape(h)+"/messages", map[string]any{"text": "", "attachments": []baton.Attachment{att}}); err != nil {
		chatError(w, http.StatusBadGateway, "the file could not be passed on: "+err.Error())
		return
	}
	b.chats.mu.Lock()
	v.add(chatEvent{Type: "customer", Files: files([]baton.Attachment{att})})
	b.chats.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// chatTyping tells the person holding the chat that the customer types
// (POST /v1/handoffs/{id}/typing); with nobody to tell, it does nothing.
func (b *Bot) chatTyping(w http.ResponseWriter, r *http.Request) {
	_, v := b.conv(w, r)
	if v == nil {
		return
	}
	h, phase := b.chats.where(v)
	if h != "" && h != "pending" && (phase == "queued" || phase == "active") {
		b.api(r.Context(), "/v1/handoffs/"+url.PathEscape(h)+"/typing", nil)
	}
	w.WriteHeader(http.StatusAccepted)
}

// apiHandoff is what the bot reads of Baton's handoff answers.
type apiHandoff struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	EndReason  string `json:"end_reason"`
	NeedsEmail bool   `json:"needs_email"`
	Reply      string `json:"reply"`
	Agent      struct {
		Name string `json:"name"`
	} `json:"agent"`
	Queue *struct {
		Position             int    `json:"position"`
		EstimatedWaitSeconds *int64 `json:"estimated_wait_seconds"`
	} `json:"queue"`
}

// apiError is an answer of Baton's other than 2xx.
type apiError struct {
	Status int
	Detail string
}

func (e *apiError) Error() string { return fmt.Sprintf("Baton answered %d: %s", e.Status, e.Detail) }

// api calls Baton's bot API with the demo's key: a POST with a JSON body,
// or a GET when in is nil and path starts with "GET ".
func (b *Bot) api(ctx context.Context, path string, in any) (apiHandoff, error) {
	var out apiHandoff
	method := http.MethodPost
	if p, ok := strings.CutPrefix(path, "GET "); ok {
		method, path = http.MethodGet, p
	}
	var rd io.Reader
	contentType := ""
	if in != nil {
		j, _ := json.Marshal(in)
		rd, contentType = bytes.NewReader(j), "application/json"
	}
	return out, b.call(ctx, method, path, contentType, rd, &out)
}

// upload gives Baton a file the customer sent (POST /v1/files) and
// returns it as an attachment, with the link Baton signed.
func (b *Bot) upload(ctx context.Context, name string, data []byte) (baton.Attachment, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("file", name)
	if err != nil {
		return baton.Attachment{}, err
	}
	part.Write(data)
	mw.Close()
	var att baton.Attachment
	return att, b.call(ctx, http.MethodPost, "/v1/files", mw.FormDataContentType(), &buf, &att)
}

// call makes one request of Baton's bot API and decodes its JSON answer
// into out; an answer other than 2xx is an *apiError with Baton's detail.
func (b *Bot) call(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	base := b.base.Load()
	if base == nil {
		return errors.New("Baton's address is not known yet")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, *base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+APIKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		var p struct {
			Detail string `json:"detail"`
			Title  string `json:"title"`
		}
		json.Unmarshal(got, &p)
		if p.Detail == "" {
			p.Detail = p.Title
		}
		return &apiError{Status: res.StatusCode, Detail: p.Detail}
	}
	json.Unmarshal(got, out)
	return nil
}

// failed tells the customer a call to Baton failed.
func (b *Bot) failed(v *conv, msg string) {
	b.chats.mu.Lock()
	v.add(chatEvent{Type: "error", Text: msg})
	b.chats.mu.Unlock()
}

func (b *Bot) chatHuman(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email string `json:"email"`
	}
	if !body(w, r, &req, true) {
		return
	}
	req.Email = strings.TrimSpace(req.Email)
	if len(req.Email) > 254 {
		chatError(w, http.StatusUnprocessableEntity, "email: at most 254 characters")
		return
	}
	id, v := b.conv(w, r)
	if v == nil {
		return
	}
	b.chats.mu.Lock()
	if v.handoff != "" {
		b.chats.mu.Unlock()
		chatError(w, http.StatusConflict, "a person has been asked for already")
		return
	}
	if req.Email != "" {
		v.email = req.Email
	}
	var history []map[string]string
	question := "The customer asked for a person."
	for _, e := range v.log {
		switch e.Type {
		case "customer":
			history = append(history, map[string]string{"author": "customer", "text": e.Text})
			question = e.Text
		case "bot":
			history = append(history, map[string]string{"author": "bot", "text": e.Text})
		}
	}
	if len(history) > 0 && history[len(history)-1]["author"] == "customer" {
		history = history[:len(history)-1] // it is the question
	} else if len(history) >= 2 {
		question, history = history[len(history)-2]["text"], history[:len(history)-2]
	}
	v.phase, v.handoff = "requested", "pending"
	email := v.email
	v.add(chatEvent{Type: "connecting"})
	b.chats.mu.Unlock()

	customer := map[string]any{"id": chatPrefix + id, "name": "Website visitor"}
	if email != "" {
		customer["email"] = email
	}
	if history == nil {
		history = []map[string]string{}
	}
	h, err := b.api(r.Context(), "/v1/handoffs", map[string]any{"conversation_id": chatPrefix + id,
		"customer": customer, "history": history, "question": question})
	b.chats.mu.Lock()
	defer b.chats.mu.Unlock()
	switch {
	case err != nil:
		v.phase, v.handoff = "", ""
		v.add(chatEvent{Type: "error", Text: "Nobody could be asked for: " + err.Error()})
	case h.State == string(baton.Ended):
		v.phase, v.handoff = "", ""
		if h.EndReason == string(baton.OutOfHours) {
			v.add(chatEvent{Type: "out_of_hours", Text: h.Reply})
		} else {
			v.add(chatEvent{Type: "ended", Reason: h.EndReason})
		}
	default:
		v.handoff = h.ID
		if h.NeedsEmail {
			v.phase = "needs_email"
			v.add(chatEvent{Type: "needs_email"})
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

func (b *Bot) chatEmail(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email string `json:"email"`
	}
	if !body(w, r, &req, false) {
		return
	}
	req.Email = strings.TrimSpace(req.Email)
	if req.Email == "" || len(req.Email) > 254 || !strings.Contains(req.Email, "@") {
		chatError(w, http.StatusUnprocessableEntity, "email: an address such as name@example.com")
		return
	}
	_, v := b.conv(w, r)
	if v == nil {
		return
	}
	h, phase := b.chats.where(v)
	if phase != "needs_email" {
		chatError(w, http.StatusConflict, "no email is asked for")
		return
	}
	if _, err := b.api(r.Context(), "/v1/handoffs/"+url.PathEscape(h)+"/email", map[string]string{"email": req.Email}); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status/100 == 4 {
			chatError(w, http.StatusUnprocessableEntity, "email: "+ae.Detail)
			return
		}
		chatError(w, http.StatusBadGateway, err.Error())
		return
	}
	b.chats.mu.Lock()
	v.email = req.Email
	if v.phase == "needs_email" {
		v.phase = "requested"
	}
	v.add(chatEvent{Type: "connecting"})
	b.chats.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

// handoffCall relays keep-waiting or end for the conversation's handoff.
func (b *Bot) handoffCall(w http.ResponseWriter, r *http.Request, what string, in any) {
	if !body(w, r, &struct{}{}, true) {
		return
	}
	_, v := b.conv(w, r)
	if v == nil {
		return
	}
	b.chats.mu.Lock()
	h := v.handoff
	b.chats.mu.Unlock()
	if h == "" || h == "pending" {
		chatError(w, http.StatusConflict, "no person has been asked for")
		return
	}
	got, err := b.api(r.Context(), "/v1/handoffs/"+url.PathEscape(h)+"/"+what, in)
	if err != nil {
		chatError(w, http.StatusBadGateway, err.Error())
		return
	}
	if what == "keep-waiting" && got.Queue != nil {
		b.chats.mu.Lock()
		v.add(chatEvent{Type: "queued", Position: got.Queue.Position, Wait: got.Queue.EstimatedWaitSeconds})
		b.chats.mu.Unlock()
	}
	w.WriteHeader(http.StatusAccepted)
}

func (b *Bot) chatKeepWaiting(w http.ResponseWriter, r *http.Request) {
	b.handoffCall(w, r, "keep-waiting", nil)
}

func (b *Bot) chatEnd(w http.ResponseWriter, r *http.Request) {
	b.handoffCall(w, r, "end", map[string]string{"reason": string(baton.CustomerClosed)})
}

// chatEvents streams the conversation's log from after Last-Event-ID.
func (b *Bot) chatEvents(w http.ResponseWriter, r *http.Request) {
	_, v := b.conv(w, r)
	if v == nil {
		return
	}
	next := 0
	if s := r.Header.Get("Last-Event-ID"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			chatError(w, http.StatusBadRequest, "Last-Event-ID: an event's index")
			return
		}
		next = n + 1
	}
	flusher, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		b.chats.mu.Lock()
		evs := v.log[min(next, len(v.log)):]
		changed := v.changed
		b.chats.mu.Unlock()
		for _, e := range evs {
			j, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\ndata: %s\n\n", next, j)
			next++
		}
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-changed:
		case <-beat.C:
			fmt.Fprint(w, ": still here\n\n")
		case <-r.Context().Done():
			return
		}
	}
}

// observe gives a widget conversation the bot's verified webhook event,
// as the customer should see it. It reports whether the event was about
// one (its wait timeout is then the customer's to answer).
func (b *Bot) observe(ev baton.Envelope) bool {
	var d struct {
		baton.Subject
		Agent                baton.Agent        `json:"agent"`
		Name                 string             `json:"name"`
		Text                 string             `json:"text"`
		Attachments          []baton.Attachment `json:"attachments"`
		Reason               string             `json:"reason"`
		Position             int                `json:"position"`
		EstimatedWaitSeconds *int64             `json:"estimated_wait_seconds"`
		Choices              []string           `json:"choices"`
		Until                time.Time          `json:"until"`
	}
	json.Unmarshal(ev.Data, &d)
	id, ok := strings.CutPrefix(d.ExternalID, chatPrefix)
	if !ok {
		return false
	}
	v := b.chats.get(id, false)
	if v == nil {
		return true
	}
	b.chats.mu.Lock()
	defer b.chats.mu.Unlock()
	if v.handoff != d.HandoffID && v.handoff != "pending" {
		return true // an earlier handoff's late event
	}
	v.handoff = d.HandoffID
	switch ev.Type {
	case baton.EventQueued:
		v.phase = "queued"
		// The event does not carry the place: read it from the handoff.
		go func() {
			h, err := b.api(context.Background(), "GET /v1/handoffs/"+url.PathEscape(d.HandoffID), nil)
			b.chats.mu.Lock()
			defer b.chats.mu.Unlock()
			if err == nil && h.Queue != nil && v.handoff == d.HandoffID && v.phase == "queued" {
				v.add(chatEvent{Type: "queued", Position: h.Queue.Position, Wait: h.Queue.EstimatedWaitSeconds})
			}
		}()
	case baton.EventQueueUpdated:
		if v.phase == "queued" || v.phase == "requested" {
			v.phase = "queued"
			v.add(chatEvent{Type: "queued", Position: d.Position, Wait: d.EstimatedWaitSeconds})
		}
	case baton.EventAgentJoined:
		v.phase = "active"
		name := d.Agent.Name
		if name == "" {
			name = d.Name
		}
		v.add(chatEvent{Type: "joined", Agent: name})
	case baton.EventAgentMessage:
		v.phase = "active"
		v.add(chatEvent{Type: "agent", Agent: d.Agent.Name, Text: d.Text, Files: files(d.Attachments)})
	case baton.EventAgentTyping:
		v.add(chatEvent{Type: "typing", Agent: d.Agent.Name, Until: d.Until.UTC().Format(time.RFC3339Nano)})
	case baton.EventAgentRead:
		v.add(chatEvent{Type: "read", Agent: d.Agent.Name})
	case baton.EventWaitTimeout:
		v.add(chatEvent{Type: "wait_timeout", Choices: d.Choices})
	case baton.EventOpeningRetry:
		v.add(chatEvent{Type: "bot", Text: "Still trying to reach the team…"})
	case baton.EventEnded:
		v.phase, v.handoff = "", ""
		v.add(chatEvent{Type: "ended", Reason: d.Reason})
	}
	return true
}

// CustomerPage is the address of the demo's customer page: a page with the
// chat widget's script tag, once Baton's address is known (Guide and Walk
// learn it; before, the page answers 503).
func (b *Bot) CustomerPage() string { return strings.TrimSuffix(b.URL, "/webhook") + "/" }

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop</title>
<link rel="icon" href="{{.Baton}}/static/favicon.svg">
</head>
<body>
<h1>Demo shop</h1>
<p>A page of any site, with one script tag: the chat button opens the demo bot's chat,
and “Talk to a person” hands it to Baton's inbox (sign in there as the demo agent to answer).
Add <code>?email=you@example.com</code> to this page's address and the chat will not ask for it.</p>
<script src="{{.Baton}}/static/widget.js" data-bot="{{.Bot}}"></script>
</body>
</html>
`))

// page serves the customer page.
func (b *Bot) page(w http.ResponseWriter, r *http.Request) {
	base := b.base.Load()
	if base == nil {
		http.Error(w, "Baton's address is not known yet", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page's own policy: the widget's script and style come from Baton,
	// it talks to this bot; no inline script.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src "+*base+"; style-src "+*base+"; img-src 'self' "+*base+"; connect-src 'self'")
	pageTmpl.Execute(w, map[string]string{"Baton": *base, "Bot": strings.TrimSuffix(b.CustomerPage(), "/") + "/chat"})
}
