package proof

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/livechatsim"
	"github.com/batonhq/baton/stdwebhook"
)

// retryWindow bounds how long a client keeps retrying a request whose
// answer it never got (the instance was killed): long enough for a restart
// and for a dead instance's leases to run out.
func retryWindow() time.Duration { return leaseBound + 30*time.Second }

// --- the bots ---------------------------------------------------------------

// envelope is an event as a bot receives it.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Seq       int64           `json:"seq"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	d         eventData
}

type eventData struct {
	HandoffID      string `json:"handoff_id"`
	ConversationID string `json:"conversation_id"`
	State          string `json:"state"`
	Epoch          int64  `json:"epoch"`
	MessageID      string `json:"message_id"`
	Text           string `json:"text"`
	Reason         string `json:"reason"`
}

// botDelivery is one webhook request a bot received.
type botDelivery struct {
	at        time.Time
	bot       string
	webhookID string
	raw       []byte
	err       error // verification or decoding trouble
	status    int   // what the bot answered
	env       envelope
}

// bots receives the webhooks of every bot, at /<bot id>, verifying their
// Standard Webhooks signatures. A bot that is down answers 503.
type bots struct {
	secret string
	url    string

	mu   sync.Mutex
	got  []botDelivery
	down map[string]time.Duration // bot → Retry-After while down (0: none)
	// first arrivals of accepted events, by event id and by handoff
	seen      map[string]bool
	byHandoff map[string][]botDelivery
}

func newBots(t testing.TB) *bots {
	b := &bots{secret: stdwebhook.NewSecret(), down: map[string]time.Duration{}, seen: map[string]bool{}, byHandoff: map[string][]botDelivery{}}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

func (b *bots) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	d := botDelivery{at: time.Now(), bot: strings.TrimPrefix(r.URL.Path, "/"), webhookID: r.Header.Get(stdwebhook.HeaderID), raw: raw, err: err}
	if d.err == nil {
		d.err = stdwebhook.Verify(b.secret, r.Header, raw, time.Now())
	}
	if d.err == nil {
		d.err = json.Unmarshal(raw, &d.env)
	}
	if d.err == nil {
		d.err = json.Unmarshal(d.env.Data, &d.env.d)
	}
	b.mu.Lock()
	ra, down := b.down[d.bot]
	switch {
	case d.err != nil:
		d.status = http.StatusBadRequest
	case down:
		d.status = http.StatusServiceUnavailable
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(ra/time.Second)))
		}
	default:
		d.status = http.StatusNoContent
	}
	b.got = append(b.got, d)
	if d.status/100 == 2 && !b.seen[d.env.ID] {
		b.seen[d.env.ID] = true
		b.byHandoff[d.env.d.HandoffID] = append(b.byHandoff[d.env.d.HandoffID], d)
	}
	b.mu.Unlock()
	w.WriteHeader(d.status)
}

// setDown makes bot answer 503 (with Retry-After ra when ra > 0), or serve again.
func (b *bots) setDown(bot string, down bool, ra time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if down {
		b.down[bot] = ra
	} else {
		delete(b.down, bot)
	}
}

func (b *bots) all() []botDelivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

// accepted returns the events the bots answered 2xx, each event id once,
// in the order they first arrived.
func (b *bots) accepted() []botDelivery {
	var out []botDelivery
	seen := map[string]bool{}
	for _, d := range b.all() {
		if d.status/100 == 2 && !seen[d.env.ID] {
			seen[d.env.ID] = true
			out = append(out, d)
		}
	}
	return out
}

// events returns the accepted events of handoff h, first arrivals in order.
func (b *bots) events(h string) []botDelivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.byHandoff[h])
}

// has reports whether handoff h's bot accepted an event of type typ.
func (b *bots) has(h, typ string) bool {
	for _, d := range b.events(h) {
		if d.env.Type == typ {
			return true
		}
	}
	return false
}

// --- the company's services (webhook desks) --------------------------------

// deskCall is one request Baton made to the company's service.
type deskCall struct {
	at        time.Time
	desk      string // the desk's path: company, timers, closed, other-company
	path      string // establish, chat, close
	status    int
	istest    bool
	authOK    bool
	handoff   string // the protocol's conversation_id: Baton's handoff id
	messageID string
	text      string
	reason    string
}

// fault is what a desk of the company's service answers for a while.
type fault struct {
	status     int           // 503 or 429; 0 with hang
	retryAfter time.Duration // sent as Retry-After
	hang       bool          // hold the request until the fault is lifted
	onlyChat   bool          // only /chat fails
}

// company plays the company's support systems on the webhook desk
// protocol, one desk per path, checking HTTP Basic auth, and answers as
// their agents through Baton's inbound API. Agent messages are numbered per
// conversation ("1", "2", …), as a system with per-chat sequences does.
type company struct {
	secret      string // inbound secret of workspace proof's desks
	otherSecret string // of workspace other's desk
	password    string
	url         string
	cl          *cluster
	hc          *http.Client

	mu          sync.Mutex
	calls       []deskCall
	faults      map[string]fault
	lifted      chan struct{}              // closed when faults change
	onEstablish func(desk, handoff string) // called before the establish answer
	// afterEstablish is called once the establish answer was sent.
	afterEstablish func(desk, handoff string)
	numbers        map[string]int        // handoff → last agent message number
	firstUse       map[string]string     // desk/message_id → the handoff that used it first
	byHandoff      map[string][]deskCall // accepted calls by handoff
}

func newCompany(t testing.TB) *company {
	c := &company{
		secret: "company-" + randID(16), otherSecret: "other-" + randID(16), password: "pw-" + randID(8),
		faults: map[string]fault{}, lifted: make(chan struct{}), numbers: map[string]int{}, firstUse: map[string]string{}, byHandoff: map[string][]deskCall{},
		hc: &http.Client{Timeout: 10 * time.Second},
	}
	srv := httptest.NewServer(c)
	t.Cleanup(func() { c.setFault("", nil); srv.Close() })
	c.url = srv.URL
	return c
}

func (c *company) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	desk, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	path := map[string]string{"conversation/establish": "establish", "chat": "chat", "conversation/close": "close"}[rest]
	if path == "" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	user, pass, ok := r.BasicAuth()
	call := deskCall{at: time.Now(), desk: desk, path: path, status: http.StatusOK, authOK: ok && user == "proof" && pass == c.password}
	var body struct {
		IsTest         bool            `json:"istest"`
		ConversationID string          `json:"conversation_id"`
		Body           json.RawMessage `json:"body"`
		MessageID      string          `json:"message_id"`
		Reason         string          `json:"reason"`
		UserInfo       struct {
			UserID string `json:"user_id"`
		} `json:"user_info"`
	}
	err := json.Unmarshal(raw, &body)
	call.istest, call.handoff, call.messageID, call.reason = body.IsTest, body.ConversationID, body.MessageID, body.Reason
	if path == "chat" && err == nil {
		err = json.Unmarshal(body.Body, &call.text)
	}
	c.mu.Lock()
	f, faulty := c.faults[desk]
	lifted := c.lifted
	hook := c.onEstablish
	c.mu.Unlock()
	if faulty && f.onlyChat && path != "chat" {
		faulty = false
	}
	switch {
	case !call.authOK:
		call.status = http.StatusUnauthorized
	case err != nil:
		call.status = http.StatusBadRequest
	case path == "establish" && strings.HasPrefix(body.UserInfo.UserID, "busy-"):
		call.status = http.StatusConflict // every agent busy: the handoff ends desk_unavailable
	case faulty && !call.istest && f.hang:
		select {
		case <-lifted:
		case <-r.Context().Done():
		}
		call.status = http.StatusGatewayTimeout // never seen by Baton if it gave up
		if r.Context().Err() == nil {
			call.status = http.StatusOK
		}
	case faulty:
		call.status = f.status
		w.Header().Set("Retry-After", strconv.Itoa(int(f.retryAfter/time.Second)))
	}
	if path == "establish" && call.status == http.StatusOK && !call.istest && hook != nil {
		hook(desk, call.handoff) // the agent answers before the service does
	}
	c.mu.Lock()
	c.calls = append(c.calls, call)
	if call.status/100 == 2 && !call.istest {
		c.byHandoff[call.handoff] = append(c.byHandoff[call.handoff], call)
	}
	after := c.afterEstablish
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(call.status)
	fmt.Fprintf(w, `{"code":%d}`, call.status)
	if path == "establish" && call.status == http.StatusOK && !call.istest && after != nil {
		http.NewResponseController(w).Flush() // Baton has the answer now
		after(desk, call.handoff)
	}
}

// setFault puts f on desk (nil lifts it; desk "" lifts all).
func (c *company) setFault(desk string, f *fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f == nil {
		if desk == "" {
			clear(c.faults)
		} else {
			delete(c.faults, desk)
		}
	} else {
		c.faults[desk] = *f
	}
	close(c.lifted)
	c.lifted = make(chan struct{})
}

func (c *company) all() []deskCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// got returns the accepted (2xx) calls on path for handoff h, in arrival order.
func (c *company) got(path, h string) []deskCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []deskCall
	for _, call := range c.byHandoff[h] {
		if call.path == path {
			out = append(out, call)
		}
	}
	return out
}

// secretOf is the inbound secret of desk.
func (c *company) secretOf(desk string) string {
	if strings.HasPrefix(desk, "other") {
		return c.otherSecret
	}
	return c.secret
}

// inbound posts body to desk's inbound path with secret and returns the
// answer. Transport errors (a killed instance) are retried on the next
// instance with the same body: the desk's message_id makes it safe.
func (c *company) inbound(desk, path, secret string, body any) (int, string, error) {
	raw, _ := json.Marshal(body)
	return c.inboundRaw(desk, path, secret, raw)
}

func (c *company) inboundRaw(desk, path, secret string, raw []byte) (int, string, error) {
	return c.post(desk, path, secret, raw, retryWindow())
}

// post sends raw to desk's inbound path, retrying transport errors, 503 and
// 429 within window (0: one attempt).
func (c *company) post(desk, path, secret string, raw []byte, window time.Duration) (int, string, error) {
	deadline := time.Now().Add(window)
	for {
		base := c.cl.base()
		if base != "" {
			req, _ := http.NewRequest("POST", base+"/v1/desks/"+desk+"/inbound/"+path, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+secret)
			res, err := c.hc.Do(req)
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK && path == "message" {
					c.noteUse(desk, raw)
				}
				retry := res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusTooManyRequests
				if !retry || time.Now().After(deadline) {
					return res.StatusCode, string(b), nil
				}
				// Not accepted: deliver it again, as a desk does, after Retry-After.
				time.Sleep(max(stdwebhook.RetryAfter(res.Header.Get("Retry-After"), time.Now()), 50*time.Millisecond))
				continue
			}
			if time.Now().After(deadline) {
				return 0, "", err
			}
		} else if time.Now().After(deadline) {
			return 0, "", errors.New("no instance up")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noteUse remembers the first handoff whose message acknowledged on desk
// carried each message_id, to explain a loss.
func (c *company) noteUse(desk string, raw []byte) {
	var m struct {
		ConversationID string `json:"conversation_id"`
		MessageID      string `json:"message_id"`
	}
	if json.Unmarshal(raw, &m) != nil || m.MessageID == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := desk + "/" + m.MessageID
	if _, ok := c.firstUse[k]; !ok {
		c.firstUse[k] = m.ConversationID
	}
}

// firstUser is the handoff that first used message_id on desk ("" if none).
func (c *company) firstUser(desk, id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstUse[desk+"/"+id]
}

// agentMessage is the inbound body of agent message number n in handoff h.
func agentMessage(h string, n int, text string) map[string]any {
	return map[string]any{"conversation_id": h, "timestamp": time.Now().UnixMilli(), "body": text,
		"message_id": strconv.Itoa(n), "agent": map[string]string{"id": "marie", "name": "Marie"}}
}

// say posts the next agent message of handoff h on desk and returns its
// number, the timestamp it carries (when the agent wrote) and Baton's answer.
func (c *company) say(desk, h, text string) (int, time.Time, int, string, error) {
	c.mu.Lock()
	c.numbers[h]++
	n := c.numbers[h]
	c.mu.Unlock()
	m := agentMessage(h, n, text)
	stamp := time.UnixMilli(m["timestamp"].(int64))
	code, body, err := c.inbound(desk, "message", c.secretOf(desk), m)
	return n, stamp, code, body, err
}

// close ends handoff h on desk as the agent.
func (c *company) close(desk, h string) (int, string, error) {
	return c.inbound(desk, "close", c.secretOf(desk), map[string]any{"conversation_id": h, "timestamp": time.Now().UnixMilli()})
}

// --- the bot's API client ----------------------------------------------------

// client calls Baton's API with a key, round robin over the cluster. A
// request whose answer never came is sent again, with the same
// Idempotency-Key, to the next instance.
type client struct {
	cl  *cluster
	key string
	hc  *http.Client
}

// answer is an API answer.
type answer struct {
	status   int
	body     []byte
	replayed bool
	at       time.Time
	sent     time.Time // when the request was first sent: the answer to a retry may come a restart later
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body)) }

// do sends body as JSON with Idempotency-Key idem (a new one if "" on a POST).
func (c client) do(method, path string, body any, idem string) (answer, error) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	return c.doRaw(method, path, raw, idem)
}

func (c client) doRaw(method, path string, raw []byte, idem string) (answer, error) {
	if method == "POST" && idem == "" {
		idem = "idem-" + randID(12)
	}
	var a answer
	var err error
	sent := time.Now()
	eventually(retryWindow(), func() bool {
		base := c.cl.base()
		if base == "" {
			a, err = answer{}, errors.New("no instance up")
			return false
		}
		a, err = c.once(base, method, path, raw, idem)
		return err == nil
	})
	a.sent = sent
	return a, err
}

// once sends one request to one instance.
func (c client) once(base, method, path string, raw []byte, idem string) (answer, error) {
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	hc := c.hc
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: res.StatusCode, body: b, replayed: res.Header.Get("Idempotent-Replayed") == "true", at: time.Now()}, nil
}

// handoffView is a handoff as the API shows it.
type handoffView struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	BotID          string `json:"bot_id"`
	State          string `json:"state"`
	EndReason      string `json:"end_reason"`
	Epoch          int64  `json:"epoch"`
}

// messageView is a message as the API shows it.
type messageView struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Text   string `json:"text"`
}

// --- LiveChat ------------------------------------------------------------------

// The people of the simulated LiveChat license.
const (
	lcBaton  = "baton@proof.test" // the agent whose PAT the desk holds; not accepting chats
	lcMarie  = "marie@proof.test" // the human of group 1
	lcSecret = "proof-livechat-webhook-secret-0123456789"
)

// liveChat is the LiveChat simulator, in process, served over HTTP, with
// its webhooks sent through a round-robin balancer to the cluster.
type liveChat struct {
	sim   *livechatsim.Sim
	url   string
	app   livechatsim.App
	pat   livechatsim.Agent
	lbURL string
	cl    *cluster
	chats sync.Map // handoff → chat id, once found
}

func newLiveChat(t testing.TB) *liveChat {
	srv := httptest.NewUnstartedServer(nil)
	lc := &liveChat{url: "http://" + srv.Listener.Addr().String()}
	retry := []time.Duration{}
	for d := 50 * time.Millisecond; len(retry) < 12; d = min(2*d, 5*time.Second) {
		retry = append(retry, d)
	}
	lc.sim = livechatsim.New(livechatsim.Config{URL: lc.url, Retry: retry, Timeout: 5 * time.Second})
	srv.Config.Handler = lc.sim.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(lc.sim.Close)
	lc.app = lc.sim.AddApp(livechatsim.App{RedirectURI: "https://proof.test/livechat"})
	lc.sim.AddGroup(1, "Support")
	var err error
	if lc.pat, err = lc.sim.AddAgent(livechatsim.Agent{ID: lcBaton, Name: "Baton", Status: livechatsim.NotAccepting, Groups: map[int]string{0: "normal"}}); err != nil {
		t.Fatal(err)
	}
	if _, err = lc.sim.AddAgent(livechatsim.Agent{ID: lcMarie, Name: "Marie", MaxChats: 1000, Groups: map[int]string{1: "normal"}}); err != nil {
		t.Fatal(err)
	}
	lb := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			base := lc.cl.base()
			if base == "" {
				base = "http://127.0.0.1:1"
			}
			u, _ := url.Parse(base)
			r.SetURL(u)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) },
	})
	t.Cleanup(lb.Close)
	lc.lbURL = lb.URL
	return lc
}

// env is what proof.yaml's livechat desk reads.
func (lc *liveChat) env() []string {
	return []string{
		"LC_ORGANIZATION_ID=" + lc.sim.OrganizationID(), "LC_CLIENT_ID=" + lc.app.ClientID, "LC_CLIENT_SECRET=" + lc.app.Secret,
		"LC_REDIRECT_URI=" + lc.app.RedirectURI, "LC_ACCOUNT_ID=" + lc.pat.AccountID, "LC_TOKEN=" + lc.pat.PAT,
		"LC_SECRET_KEY=" + lcSecret, "LC_API_URL=" + lc.url,
	}
}

// register runs `baton livechat webhooks` so that the simulator's chat
// webhooks reach the cluster through the balancer.
func (lc *liveChat) register(t testing.TB, env []string) {
	t.Helper()
	cmd := exec.Command(binary, "livechat", "webhooks", "--desk", "livechat", "--url", lc.lbURL)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "all webhooks Baton needs are registered") {
		t.Fatalf("baton livechat webhooks: %v\n%s", err, out)
	}
}

// chatsOf returns every chat of the simulator opened for handoff h.
func (lc *liveChat) chatsOf(h string) []livechatsim.Chat {
	var out []livechatsim.Chat
	for _, c := range lc.sim.Chats() {
		for _, u := range c.Users {
			if u.Type != "customer" {
				continue
			}
			if cu, ok := lc.sim.Customer(u.ID); ok && slices.ContainsFunc(cu.SessionFields, func(f map[string]string) bool { return f["handoff_id"] == h }) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// chatOf returns the simulator's chat of handoff h, if it exists yet.
func (lc *liveChat) chatOf(h string) (livechatsim.Chat, bool) {
	if id, ok := lc.chats.Load(h); ok {
		return lc.sim.Chat(id.(string))
	}
	for _, c := range lc.sim.Chats() {
		for _, u := range c.Users {
			if u.Type != "customer" {
				continue
			}
			if cu, ok := lc.sim.Customer(u.ID); ok && slices.ContainsFunc(cu.SessionFields, func(f map[string]string) bool { return f["handoff_id"] == h }) {
				lc.chats.Store(h, c.ID)
				return c, true
			}
		}
	}
	return livechatsim.Chat{}, false
}

// acked reports whether an incoming_event webhook carrying event id was
// answered 200 (by Baton, through the balancer).
func (lc *liveChat) acked(id string) bool {
	for _, d := range lc.sim.Webhooks() {
		if d.Delivered && d.Action == "incoming_event" && bytes.Contains(d.Body, []byte(`"id":"`+id+`"`)) {
			return true
		}
	}
	return false
}

// dump describes every chat and webhook of the simulator, for failures.
func (lc *liveChat) dump() string {
	var b strings.Builder
	for _, c := range lc.sim.Chats() {
		fmt.Fprintf(&b, "chat %s groups %v present %v active %v\n", c.ID, c.Access, c.Present(), c.Active())
		for _, e := range c.Events() {
			fmt.Fprintf(&b, "  %s %-14s by %-38s custom_id %q %q\n", e.ID, e.Type, e.AuthorID, e.CustomID, e.Text)
		}
	}
	for _, d := range lc.sim.Webhooks() {
		fmt.Fprintf(&b, "webhook #%d %s attempts %d status %d delivered %v %s\n", d.ID, d.Action, d.Attempts, d.Status, d.Delivered, d.Err)
	}
	return b.String()
}

// --- the world -----------------------------------------------------------------

// world is one scenario's deployment: the cluster and everyone around it.
type world struct {
	t       testing.TB
	store   string
	cl      *cluster
	bots    *bots
	company *company
	lc      *liveChat
	api     client // workspace proof
	other   client // workspace other
	ana     client // inbox agents of proof
	bob     client
	zed     client // inbox agent of other
	env     []string
	led     *ledger
	crash   bool // kills happen: see loose
}

// newWorld starts n instances on a fresh store with proof.yaml.
func newWorld(t testing.TB, store string, n int) *world {
	t.Helper()
	w := &world{t: t, store: store, bots: newBots(t), company: newCompany(t), lc: newLiveChat(t), led: newLedger()}
	cfg, err := filepath.Abs(filepath.Join("testdata", "proof.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{
		"PROOF_API_KEY": "proof-key-" + randID(8), "OTHER_API_KEY": "other-key-" + randID(8),
		"ANA_KEY": "ana-key-" + randID(8), "BOB_KEY": "bob-key-" + randID(8), "ZED_KEY": "zed-key-" + randID(8),
	}
	env := []string{"BATON_CONFIG=" + cfg, "COMPANY_URL=" + w.company.url, "COMPANY_SECRET=" + w.company.secret,
		"OTHER_SECRET=" + w.company.otherSecret, "COMPANY_PASSWORD=" + w.company.password,
		"BOT_URL=" + w.bots.url, "BOT_SECRET=" + w.bots.secret}
	for k, v := range keys {
		env = append(env, k+"="+v)
	}
	env = append(env, w.lc.env()...)
	w.cl = newCluster(t, store, n, env)
	w.env = w.cl.env
	w.company.cl, w.lc.cl = w.cl, w.cl
	hc := &http.Client{Timeout: 20 * time.Second}
	w.api = client{cl: w.cl, key: keys["PROOF_API_KEY"], hc: hc}
	w.other = client{cl: w.cl, key: keys["OTHER_API_KEY"], hc: hc}
	w.ana = client{cl: w.cl, key: keys["ANA_KEY"], hc: hc}
	w.bob = client{cl: w.cl, key: keys["BOB_KEY"], hc: hc}
	w.zed = client{cl: w.cl, key: keys["ZED_KEY"], hc: hc}
	w.lc.register(t, append(slices.Clone(w.env), "BATON_ADDR="+w.cl.procs[0].addr))
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("BATON_PROOF_DUMP") != "" {
			t.Logf("LiveChat simulator:\n%s", w.lc.dump())
		}
	})
	return w
}

// eventually polls cond every 20 ms until it holds or d passes, and
// reports whether it held.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ctxWait is a context that ends after d.
func ctxWait(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

var _ = os.Getenv
