package livechatsim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultLicenseID      = 104130623
	DefaultOrganizationID = "390e44e6-f1e6-4368-9c6d-74a14508c2e1"
	DefaultRegion         = "dal"
	// TokenTTL is the lifetime of agent OAuth and customer tokens (8 h).
	TokenTTL = 28800 * time.Second
	// BotTokenTTL is the lifetime of bot tokens (24 h).
	BotTokenTTL = 24 * time.Hour
	// MaxUpload is the upload_file limit (10 MB).
	MaxUpload = 10 << 20
)

// Config configures a simulator. The zero value works.
type Config struct {
	LicenseID      int    // default DefaultLicenseID
	OrganizationID string // default DefaultOrganizationID
	Region         string // token prefix and misdirected_request region; default "dal"
	// URL is the simulator's public base URL, used in upload_file links.
	// Default: learned from the Host of the requests it serves.
	URL string
	// Now is the clock; default time.Now. Advance moves the simulated clock
	// forward (token expiry, queue wait times, rate windows).
	Now func() time.Time
	// Retry lists the waits before each webhook retry. Nil means LiveChat's
	// "up to 3 retries within about a minute": 5s, 15s, 30s. An empty,
	// non-nil slice disables retries.
	Retry []time.Duration
	// Timeout bounds one webhook attempt; default 10s.
	Timeout time.Duration
	// Client sends webhooks; default a new http.Client.
	Client *http.Client
}

// Sim is a LiveChat simulator. All methods are safe for concurrent use.
type Sim struct {
	cfg Config

	mu        sync.Mutex
	offset    time.Duration
	base      string
	seq       int
	groups    map[int]*group
	agents    map[string]*agent // humans and bots, by id
	order     []string          // agent ids in creation order
	apps      map[string]*App
	tokens    map[string]*token
	refresh   map[string]*token
	codes     map[string]*code
	customers map[string]*customer
	chats     map[string]*chat
	chatOrder []string
	files     map[string]*file
	hooks     map[string]*Webhook
	hookOrder []string
	disabled  map[string]bool // owner_client_id → license webhooks disabled
	faults    Faults
	calls     map[string]*window
	reqs      []Request

	ob *outbox
}

// New returns a simulator with group 0 ("General") and nothing else, and
// starts its webhook deliverer. Call Close when done.
func New(cfg Config) *Sim {
	if cfg.LicenseID == 0 {
		cfg.LicenseID = DefaultLicenseID
	}
	if cfg.OrganizationID == "" {
		cfg.OrganizationID = DefaultOrganizationID
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Retry == nil {
		cfg.Retry = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	s := &Sim{
		cfg:       cfg,
		base:      strings.TrimSuffix(cfg.URL, "/"),
		groups:    map[int]*group{0: {id: 0, name: "General", lang: "en"}},
		agents:    map[string]*agent{},
		apps:      map[string]*App{},
		tokens:    map[string]*token{},
		refresh:   map[string]*token{},
		codes:     map[string]*code{},
		customers: map[string]*customer{},
		chats:     map[string]*chat{},
		files:     map[string]*file{},
		hooks:     map[string]*Webhook{},
		disabled:  map[string]bool{},
		calls:     map[string]*window{},
	}
	s.ob = newOutbox(s)
	return s
}

// Close stops webhook delivery. Pending deliveries are dropped.
func (s *Sim) Close() { s.ob.close() }

// OrganizationID is the simulated organization's id.
func (s *Sim) OrganizationID() string { return s.cfg.OrganizationID }

// LicenseID is the simulated license number.
func (s *Sim) LicenseID() int { return s.cfg.LicenseID }

// now is the simulated clock; callers hold s.mu.
func (s *Sim) now() time.Time { return s.cfg.Now().Add(s.offset).UTC() }

// Handler serves the LiveChat APIs, the accounts endpoints, uploaded files
// and the /sim/ driver endpoints on one host.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{ver}/agent/action/{method}", s.api(agentAPI))
	mux.HandleFunc("POST /{ver}/customer/action/{method}", s.api(customerAPI))
	mux.HandleFunc("/{ver}/configuration/action/{method}", s.api(configAPI))
	mux.HandleFunc("POST /v2/token", s.oauthToken)
	mux.HandleFunc("DELETE /v2/token", s.revoke)
	mux.HandleFunc("GET /v2/info", s.info)
	mux.HandleFunc("POST /v2/customer/token", s.customerToken)
	mux.HandleFunc("POST /customer/token", s.customerToken)
	mux.HandleFunc("GET /v2/customer/info", s.customerInfo)
	mux.HandleFunc("GET /{$}", s.authorize)
	mux.HandleFunc("GET /api/file/", s.serveFile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, errf("not_found", "Unknown endpoint %s %s", r.Method, r.URL.Path))
	})
	s.driver(mux)
	return s.record(mux)
}

// Request is a LiveChat API or accounts request the simulator served, as
// the client sent it.
type Request struct {
	Method string
	Path   string // e.g. /v3.6/agent/action/send_event
	Query  string
	Auth   string // the Authorization scheme: Basic, Bearer or empty
	Body   []byte // nil for multipart uploads
	Status int    // the simulator's answer
}

// MaxRequests is how many requests Requests keeps (the latest).
const MaxRequests = 1000

// Requests returns the latest LiveChat API and accounts requests (not the
// driver endpoints), oldest first, so tests can check what a client sent,
// e.g. with RequestShape against a request fixture.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status.
func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// record logs the requests that are not driver or file requests.
func (s *Sim) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sim/") || strings.HasPrefix(r.URL.Path, "/api/file/") {
			next.ServeHTTP(w, r)
			return
		}
		req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
		req.Auth, _, _ = strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") && r.Body != nil {
			b, err := io.ReadAll(io.LimitReader(r.Body, MaxUpload+1))
			if err == nil {
				req.Body = b
				r.Body = io.NopCloser(bytes.NewReader(b))
			}
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		req.Status = sw.status
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		if len(s.reqs) > MaxRequests {
			s.reqs = slices.Delete(s.reqs, 0, len(s.reqs)-MaxRequests)
		}
		s.mu.Unlock()
	})
}

type apiKind int

const (
	agentAPI apiKind = iota
	customerAPI
	configAPI
)

// call is one LiveChat API request being served.
type call struct {
	who  *actor
	body []byte
	r    *http.Request
}

// decode reads the JSON body into v; an empty body is {}.
func (c *call) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return badRequest("Wrong format of request: %v", err)
	}
	return nil
}

type method func(s *Sim, c *call) (any, error)

var versions = map[string]bool{"v3.4": true, "v3.5": true, "v3.6": true}

func (s *Sim) api(kind apiKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.learn(r)
		ver, name := r.PathValue("ver"), r.PathValue("method")
		if !versions[ver] {
			writeErr(w, errf("unsupported_version", "Cannot call unsupported API versions."))
			return
		}
		if err := s.fault(r); err != nil {
			writeErr(w, err)
			return
		}
		var table map[string]method
		switch kind {
		case agentAPI:
			table = agentMethods
		case customerAPI:
			table = customerMethods
		default:
			table = configMethods
		}
		if kind == configAPI && (name == "get_organization_id" || name == "get_license_id") {
			if ver != "v3.4" {
				writeErr(w, errf("not_found", "Method %s was removed in %s", name, ver))
				return
			}
			out, err := s.ids(r, name)
			reply(w, out, err)
			return
		}
		if r.Method != http.MethodPost {
			writeErr(w, badRequest("Method %s must be called with POST", name))
			return
		}
		m, ok := table[name]
		if !ok {
			writeErr(w, errf("not_found", "Method %s not found", name))
			return
		}
		c := &call{r: r}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			b, err := io.ReadAll(io.LimitReader(r.Body, MaxUpload+1))
			if err != nil {
				writeErr(w, badRequest("Cannot read request body"))
				return
			}
			c.body = b
		}
		var err error
		switch {
		case kind == configAPI && name == "list_webhook_names":
		case kind == agentAPI:
			c.who, err = s.authAgent(r, ver)
		case kind == customerAPI:
			c.who, err = s.authCustomer(r)
		default:
			c.who, err = s.authConfig(r)
		}
		if err != nil {
			writeErr(w, err)
			return
		}
		if name == "upload_file" {
			out, err := s.upload(r)
			reply(w, out, err)
			return
		}
		s.mu.Lock()
		out, err := m(s, c)
		s.mu.Unlock()
		reply(w, out, err)
	}
}

func reply(w http.ResponseWriter, out any, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	if out == nil {
		out = obj{}
	}
	writeJSON(w, http.StatusOK, out)
}

// learn records the public base URL from a request unless Config.URL is set.
func (s *Sim) learn(r *http.Request) {
	if s.cfg.URL != "" || r.Host == "" {
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	s.mu.Lock()
	s.base = scheme + "://" + r.Host
	s.mu.Unlock()
}

// Identifiers.

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func random(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

func hexID(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid4() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// chatID returns a fresh chat or thread id: 10 uppercase alphanumerics.
func (s *Sim) chatID() string {
	for {
		id := random(upperAlnum, 10)
		if s.chats[id] == nil && !s.threadExists(id) {
			return id
		}
	}
}

func (s *Sim) threadExists(id string) bool {
	for _, c := range s.chats {
		for _, t := range c.threads {
			if t.id == id {
				return true
			}
		}
	}
	return false
}
