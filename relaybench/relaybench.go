// Package relaybench measures what Baton's durability costs: it pushes the same
// customer-message traffic through a bare Go HTTP relay (forward, no storage)
// and through Baton (commit, then deliver from the durable outbox to a desk),
// both in one run on one machine, and reports throughput and latency as ratios.
package relaybench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

// Options size a run.
type Options struct {
	Messages      int           // messages per side
	Conversations int           // open conversations; message i goes to conversation i mod Conversations
	Clients       int           // concurrent senders (default Conversations)
	Dir           string        // where the SQLite files go (the system's temp dir if empty)
	Rate          float64       // if > 0, messages per second offered (open loop) instead of as fast as possible
	Timeout       time.Duration // give up waiting for deliveries after this long
	// Postgres, when set, gives each Baton run the URL of a fresh, migrated
	// PostgreSQL database to run on instead of a SQLite file.
	Postgres func() (string, error)
	// Pool, when positive, caps each PostgreSQL store's connections below
	// postgres.PoolSize: tests that run beside others keep within the
	// server's max_connections.
	Pool int
	// Instances is how many Baton processes' worth of engine, outbox and
	// API share the PostgreSQL database, the load spread over them (default 1).
	Instances int
	// SQLite, when set, opens the SQLite store instead of sqlite.Open: a
	// driver comparison plugs its own in here.
	SQLite func(ctx context.Context, path string, key []byte) (*sqlstore.Store, error)
	// Profile, when set, is a file that gets the CPU profile of Baton's
	// side while it takes and delivers the traffic (setup excluded); the
	// process also runs the load driver and the receiver.
	Profile string
}

// Result is one side's numbers.
type Result struct {
	Name          string
	Messages      int
	Elapsed       time.Duration
	AcceptElapsed time.Duration // until the last 2xx
	PerSecond     float64       // delivered per second: first send to last receipt
	IngestPerSec  float64       // accepted per second: first send to last 2xx
	P50, P90, P99 time.Duration // client send → first receipt
	AcceptP99     time.Duration // client send → 2xx
	Duplicates    int           // deliveries of a message id seen before
	Repeats       int           // deliveries of a message again under its first id (a receiver that says so)
	Unverified    int           // deliveries whose signature failed (a receiver that checks)
	Losses        int           // messages accepted that never arrived within Options.Timeout
	Refused       int           // answers asking the sender to come back later (429, 503), each retried
}

// Report compares Baton with the bare relay.
type Report struct {
	Bare, Baton         Result        // as fast as the clients can send
	HalfBare, HalfBaton Result        // offered at half of Baton's maximum
	ThroughputRatio     float64       // Baton / bare, at full speed
	AddedP99            time.Duration // Baton p99 − bare p99, at half of Baton's maximum
}

// String is one line of a Result, for the benchmark's log.
func (r Result) String() string {
	return fmt.Sprintf("%-6s ingest %6.0f/s  delivered %6d in %-8v %6.0f/s  p50 %-9v p90 %-9v p99 %-9v accept-p99 %-9v dups %d repeats %d losses %d refused %d",
		r.Name, r.IngestPerSec, r.Messages, r.Elapsed.Round(time.Millisecond), r.PerSecond, r.P50.Round(10*time.Microsecond),
		r.P90.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.AcceptP99.Round(10*time.Microsecond), r.Duplicates, r.Repeats, r.Losses, r.Refused)
}

// String prints both sides at full speed and at half load, and the ratios.
func (r Report) String() string {
	return fmt.Sprintf("full speed:\n%v\n%v\nat %.0f msg/s (half of Baton's maximum):\n%v\n%v\nthroughput ratio (baton/bare) %.2f, added p99 at half load %v\n",
		r.Bare, r.Baton, r.Baton.PerSecond/2, r.HalfBare, r.HalfBaton, r.ThroughputRatio, r.AddedP99.Round(10*time.Microsecond))
}

// sink plays the company's service: it records when each message (by its
// text) first arrives, and under which message_id: the same message again
// under that id is a repeat (a redelivery the service dedupes), under
// another a duplicate.
type sink struct {
	mu    sync.Mutex
	at    map[string]time.Time
	id    map[string]string
	dups  int
	again int
	n     atomic.Int64
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ConversationID string `json:"conversation_id"`
		MessageID      string `json:"message_id"`
		Body           string `json:"body"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	if r.URL.Path == "/chat" {
		id := body.Body // the bench puts its own id in the text
		s.mu.Lock()
		switch first, ok := s.id[id]; {
		case !ok:
			if s.id == nil {
				s.id = map[string]string{}
			}
			s.at[id], s.id[id] = time.Now(), body.MessageID
			s.n.Add(1)
		case first == body.MessageID:
			s.again++
		default:
			s.dups++
		}
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"code":0,"message":"ok"}`)
}

func (s *sink) arrived(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[id]
	return t, ok
}

func (s *sink) count() int { return int(s.n.Load()) }

// repeats is how many messages came again under their first message_id.
func (s *sink) repeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.again
}

func (s *sink) duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups
}

// desk is where the messages land: it says when each one arrived.
type desk interface {
	count() int
	arrived(id string) (time.Time, bool)
	duplicates() int
}

// defaults fills in an Options' zero fields.
func defaults(o Options) Options {
	if o.Messages <= 0 {
		o.Messages = 5000
	}
	if o.Conversations <= 0 {
		o.Conversations = 32
	}
	if o.Clients <= 0 {
		o.Clients = o.Conversations
	}
	if o.Instances <= 0 {
		o.Instances = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	return o
}

// Run measures both sides through the webhook desk.
func Run(ctx context.Context, o Options) (Report, error) {
	return compare(ctx, o, bareRelay, throughBaton)
}

// side runs one side's traffic and measures it.
type side func(context.Context, Options) (Result, error)

// compare runs the baseline and Baton as fast as the clients can send, then
// both again at half of Baton's maximum, open loop, for the latency Baton adds.
func compare(ctx context.Context, o Options, baseline, baton side) (Report, error) {
	o = defaults(o)
	var rep Report
	var err error
	if rep.Bare, err = baseline(ctx, o); err != nil {
		return rep, err
	}
	if rep.Baton, err = baton(ctx, o); err != nil {
		return rep, err
	}
	rep.ThroughputRatio = rep.Baton.PerSecond / rep.Bare.PerSecond
	half := o
	half.Rate = rep.Baton.PerSecond / 2
	half.Messages = max(500, min(o.Messages, int(half.Rate*3))) // about 3 s of traffic
	if rep.HalfBare, err = baseline(ctx, half); err != nil {
		return rep, err
	}
	if rep.HalfBaton, err = baton(ctx, half); err != nil {
		return rep, err
	}
	rep.AddedP99 = rep.HalfBaton.P99 - rep.HalfBare.P99
	return rep, nil
}

// client is a keep-alive HTTP client sized for the load.
func client(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
}

// refusal is a sender's answer asking it to come back later (429 or 503):
// drive sends the same message again after the delay.
type refusal struct{ after time.Duration }

func (r *refusal) Error() string { return fmt.Sprintf("refused: retry after %v", r.after) }

// drive sends o.Messages through send from o.Clients goroutines, message i
// to conversation i mod o.Conversations, and waits until the desk has them
// all or o.Timeout has passed: a message that never came is a loss.
func drive(ctx context.Context, name string, o Options, sk desk, send func(conv int, id string) error) (Result, error) {
	if o.Profile != "" && name == "baton" {
		f, err := os.Create(o.Profile)
		if err != nil {
			return Result{}, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return Result{}, err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	sent := make([]time.Time, o.Messages)
	accepted := make([]time.Duration, o.Messages)
	var next, refused atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range o.Clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.Messages {
					return
				}
				if o.Rate > 0 {
					// Open loop: message i is due at i/Rate, whatever came before.
					time.Sleep(time.Until(start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))))
				}
				sent[i] = time.Now()
				for {
					err := send(i%o.Conversations, fmt.Sprintf("m%d", i))
					var r *refusal
					if errors.As(err, &r) && ctx.Err() == nil {
						refused.Add(1)
						time.Sleep(max(r.after, time.Millisecond))
						continue
					}
					if err != nil {
						errOnce.Do(func() { firstErr = err })
						return
					}
					break
				}
				accepted[i] = time.Since(sent[i])
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Result{}, firstErr
	}
	acceptedAll := time.Since(start)
	deadline := time.Now().Add(o.Timeout)
	for sk.count() < o.Messages && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	lat := make([]time.Duration, 0, o.Messages)
	var last time.Time
	for i := range o.Messages {
		at, ok := sk.arrived(fmt.Sprintf("m%d", i))
		if !ok {
			continue
		}
		lat = append(lat, at.Sub(sent[i]))
		if at.After(last) {
			last = at
		}
	}
	r := Result{Name: name, Messages: len(lat), AcceptElapsed: acceptedAll, IngestPerSec: float64(o.Messages) / acceptedAll.Seconds(),
		Duplicates: sk.duplicates(), Losses: o.Messages - len(lat), Refused: int(refused.Load())}
	switch d := sk.(type) {
	case *botHook:
		r.Repeats, r.Unverified = d.repeats(), d.unverified()
	case *sink:
		r.Repeats = d.repeats()
	}
	if len(lat) == 0 {
		return r, fmt.Errorf("%s: none of %d messages reached the desk", name, o.Messages)
	}
	r.Elapsed = last.Sub(start)
	r.PerSecond = float64(len(lat)) / r.Elapsed.Seconds()
	slices.Sort(lat)
	slices.Sort(accepted)
	r.P50, r.P90, r.P99 = lat[len(lat)/2], lat[len(lat)*90/100], lat[len(lat)*99/100]
	r.AcceptP99 = accepted[len(accepted)*99/100]
	return r, nil
}

// forward is the baseline relay: POST /relay/{conv} {"text"} is forwarded
// to the desk (url, Authorization, body from target) before it is answered.
func forward(out *http.Client, target func(conv int, text string) (url, auth string, body any)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /relay/{conv}", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Text string }
		conv, err := strconv.Atoi(r.PathValue("conv"))
		if err == nil {
			err = json.NewDecoder(r.Body).Decode(&in)
		}
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		url, auth, body := target(conv, in.Text)
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := out.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			http.Error(w, resp.Status, http.StatusBadGateway)
			return
		}
		w.WriteHeader(201)
	})
	return mux
}

// bareRelay is the baseline: a relay that forwards each request to the desk before answering, storing nothing.
func bareRelay(ctx context.Context, o Options) (Result, error) {
	sk := &sink{at: map[string]time.Time{}}
	desk := httptest.NewServer(sk)
	defer desk.Close()
	relay := httptest.NewServer(forward(client(o.Clients), func(conv int, text string) (string, string, any) {
		return desk.URL + "/chat", "", map[string]any{"conversation_id": fmt.Sprint("h", conv), "timestamp": time.Now().UnixMilli(), "body": text}
	}))
	defer relay.Close()
	in := client(o.Clients)
	return drive(ctx, "bare", o, sk, func(conv int, id string) error {
		return post(in, fmt.Sprintf("%s/relay/%d", relay.URL, conv), "", map[string]string{"text": id}, 201, nil)
	})
}

// post posts body as JSON with the Authorization header auth (none when
// empty), wants the status want and decodes the answer into out.
func post(c *http.Client, url, auth string, body any, want int, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &refusal{after: time.Duration(after) * time.Second}
	}
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, rb)
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

// throughBaton runs the same traffic through a full Baton on SQLite with the webhook desk.
func throughBaton(ctx context.Context, o Options) (Result, error) {
	sk := &sink{at: map[string]time.Time{}}
	desk := httptest.NewServer(sk)
	defer desk.Close()
	out := client(64)
	return throughStack(ctx, o, sk, baton.DeskConfig{Kind: baton.KindWebhook,
		Settings: map[string]string{"url": desk.URL, "secret": "bench-desk-secret-0123456789"}}, out)
}

// benchKey seals the bench stores' secrets.
var benchKey = []byte("0123456789abcdef0123456789abcdef")

// freshStore opens a fresh store: a SQLite file in a new directory under
// o.Dir, or the database o.Postgres gives. done closes it and removes
// what it made.
func freshStore(ctx context.Context, o Options) (st *sqlstore.Store, done func(), err error) {
	sts, done, err := freshStores(ctx, o, 1)
	if err != nil {
		return nil, nil, err
	}
	return sts[0], done, nil
}

// freshStores opens n stores on one fresh database, as n instances would:
// n must be 1 on SQLite, which one process serves.
func freshStores(ctx context.Context, o Options, n int) (sts []*sqlstore.Store, done func(), err error) {
	closeAll := func() {
		for _, st := range sts {
			st.Close()
		}
	}
	if o.Postgres != nil {
		url, err := o.Postgres()
		if err != nil {
			return nil, nil, err
		}
		for range n {
			st, err := postgres.Open(ctx, url, benchKey)
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			if o.Pool > 0 {
				st.DB().SetMaxOpenConns(o.Pool)
			}
			sts = append(sts, st)
		}
		return sts, closeAll, nil
	}
	if n != 1 {
		return nil, nil, fmt.Errorf("%d instances: one process serves a SQLite file", n)
	}
	dir, err := os.MkdirTemp(o.Dir, "baton-bench")
	if err != nil {
		return nil, nil, err
	}
	open := o.SQLite
	if open == nil {
		open = sqlite.Open
	}
	st, err := open(ctx, filepath.Join(dir, "bench.db"), benchKey)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return []*sqlstore.Store{st}, func() { st.Close(); os.RemoveAll(dir) }, nil
}

// throughStack boots Baton on a fresh SQLite file with one desk (dc's kind
// and settings, timeouts out of the way, called through out), opens a
// handoff per conversation and drives the traffic through the bot API into d.
func throughStack(ctx context.Context, o Options, d desk, dc baton.DeskConfig, out *http.Client) (Result, error) {
	st, closeStore, err := freshStore(ctx, o)
	if err != nil {
		return Result{}, err
	}
	defer closeStore()
	a := app.New(app.Params{Store: st, Desks: registry.New(registry.Params{Client: out}), Worker: outbox.Config{Workers: 64}})
	dc.ID, dc.WorkspaceID, dc.Name, dc.Status = "desk", "bench", "Desk", baton.Available
	dc.Policy = &baton.Policy{WaitTimeout: baton.Duration(time.Hour), SessionTimeout: baton.Duration(time.Hour), IdleExpiry: baton.Duration(time.Hour)}
	err = st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "bench", Name: "Bench"}); err != nil {
			return err
		}
		if err := tx.PutAPIKey(baton.APIKey{Hash: baton.HashKey("bench-key"), WorkspaceID: "bench", Name: "bench"}); err != nil {
			return err
		}
		if err := tx.PutDesk(dc); err != nil {
			return err
		}
		return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "bench", Name: "Bench bot", DeskID: dc.ID})
	})
	if err != nil {
		return Result{}, err
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Run(wctx); close(done) }()
	defer func() { stop(); <-done }()
	api := httptest.NewServer(a.Handler)
	defer api.Close()
	in := client(o.Clients)
	ids, err := openHandoffs(ctx, a.Engine, in, api.URL, o.Conversations)
	if err != nil {
		return Result{}, err
	}
	return drive(ctx, "baton", o, d, func(conv int, id string) error {
		return post(in, api.URL+"/v1/handoffs/"+ids[conv]+"/messages", "Bearer bench-key", map[string]string{"text": id}, 201, nil)
	})
}

// openHandoffs asks for n handoffs through the API and waits until each is
// queued in its desk.
func openHandoffs(ctx context.Context, eng *engine.Engine, in *http.Client, api string, n int) ([]string, error) {
	ids := make([]string, n)
	for c := range n {
		var h struct{ ID string }
		err := post(in, api+"/v1/handoffs", "Bearer bench-key", map[string]any{
			"conversation_id": fmt.Sprintf("conv-%d", c), "customer": map[string]any{"id": fmt.Sprintf("cust-%d", c)}, "question": "help",
		}, 201, &h)
		if err != nil {
			return nil, err
		}
		ids[c] = h.ID
	}
	deadline := time.Now().Add(time.Minute)
	for _, id := range ids {
		for {
			h, err := eng.Handoff(ctx, "bench", id)
			if err != nil {
				return nil, err
			}
			if h.State == baton.Queued {
				break
			}
			if !h.Open() || time.Now().After(deadline) {
				return nil, fmt.Errorf("handoff %s did not open in the desk: %s %s", id, h.State, h.EndReason)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return ids, nil
}
