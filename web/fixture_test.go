package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/password"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

// The seeded world: workspace ws1 with the bot's inbox desk (agents Ada and
// Bob answer it) and a second inbox desk (Dan's); workspace ws2 with its own
// inbox desk, bot and agent Eve.
const (
	ws1, ws2           = "ws_one", "ws_two"
	desk1, deskOther   = "dk_inbox", "dk_other"
	desk2              = "dk_inbox_two"
	bot1, bot2         = "bot_one", "bot_two"
	apiKey1, apiKey2   = "bk_web_one_0123456789", "bk_web_two_0123456789"
	ada, bob, dan, eve = "ag_ada", "ag_bob", "ag_dan", "ag_eve"
	secret             = "correct horse battery staple"
)

// agents are the seeded inbox agents by id.
var agents = map[string]baton.InboxAgent{
	ada: {ID: ada, WorkspaceID: ws1, DeskID: desk1, Name: "Ada", Email: "ada@one.example"},
	bob: {ID: bob, WorkspaceID: ws1, DeskID: desk1, Name: "Bob", Email: "bob@one.example"},
	dan: {ID: dan, WorkspaceID: ws1, DeskID: deskOther, Name: "Dan", Email: "dan@one.example"},
	eve: {ID: eve, WorkspaceID: ws2, DeskID: desk2, Name: "Eve", Email: "eve@two.example"},
}

// hashes are the agents' password hashes, made once for the test binary.
var hashes = sync.OnceValue(func() string { return password.Hash(secret) })

// baton is a whole Baton behind httptest, built by app.New, with its worker running.
type fixture struct {
	t     testing.TB
	app   *app.App
	store *sqlstore.Store
	srv   *httptest.Server
	key   []byte // the web inbox's session key
}

// newFixture starts a Baton on SQLite, or on a fresh PostgreSQL database
// when pg is true (skipped, or failed under BATON_TEST_POSTGRES_URL, as
// pgtest says).
func newFixture(t testing.TB, pg bool) *fixture {
	t.Helper()
	ctx := context.Background()
	sealing := make([]byte, 32)
	rand.Read(sealing)
	var store *sqlstore.Store
	var err error
	if pg {
		store, err = postgres.Open(ctx, pgtest.Migrated(t), sealing)
	} else {
		store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), sealing)
	}
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store, key: make([]byte, 32)}
	rand.Read(f.key)
	f.app = app.New(app.Params{Store: store, SessionKey: f.key, Worker: outbox.Config{Poll: 20 * time.Millisecond}, CheckEvery: -1})
	f.seed()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.app.Run(runCtx)
	}()
	f.srv = httptest.NewServer(f.app.Handler)
	t.Cleanup(func() {
		f.srv.CloseClientConnections()
		f.srv.Close()
		cancel()
		<-done
		store.Close()
	})
	return f
}

func (f *fixture) seed() {
	f.t.Helper()
	now := time.Now().UTC()
	err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		steps := []func() error{
			func() error { return tx.CreateWorkspace(baton.Workspace{ID: ws1, Name: "One", CreatedAt: now}) },
			func() error { return tx.CreateWorkspace(baton.Workspace{ID: ws2, Name: "Two", CreatedAt: now}) },
			func() error {
				return tx.PutAPIKey(baton.APIKey{Hash: baton.HashKey(apiKey1), WorkspaceID: ws1, Name: "one", CreatedAt: now})
			},
			func() error {
				return tx.PutAPIKey(baton.APIKey{Hash: baton.HashKey(apiKey2), WorkspaceID: ws2, Name: "two", CreatedAt: now})
			},
		}
		for _, d := range []baton.DeskConfig{
			{ID: desk1, WorkspaceID: ws1, Name: "Inbox", Kind: baton.KindInbox, Status: baton.Available, CreatedAt: now},
			{ID: deskOther, WorkspaceID: ws1, Name: "Other", Kind: baton.KindInbox, Status: baton.Available, CreatedAt: now},
			{ID: desk2, WorkspaceID: ws2, Name: "Inbox", Kind: baton.KindInbox, Status: baton.Available, CreatedAt: now},
		} {
			steps = append(steps, func() error { return tx.PutDesk(d) })
		}
		steps = append(steps,
			func() error {
				return tx.PutBot(baton.Bot{ID: bot1, WorkspaceID: ws1, Name: "Bot one", DeskID: desk1, CreatedAt: now})
			},
			func() error {
				return tx.PutBot(baton.Bot{ID: bot2, WorkspaceID: ws2, Name: "Bot two", DeskID: desk2, CreatedAt: now})
			})
		for _, a := range agents {
			a.PasswordHash, a.CreatedAt = hashes(), now
			steps = append(steps, func() error { return tx.PutInboxAgent(a) })
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// api calls the bot API with key and decodes a JSON answer into out (when
// not nil), failing the test unless the status is want.
func (f *fixture) api(key, method, path string, body any, want int, out any) {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		f.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// ask makes a handoff through the bot API (ws1's bot unless key says
// otherwise) and waits until it is queued in the inbox.
func (f *fixture) ask(key, conv, name, question string, history ...baton.Turn) string {
	f.t.Helper()
	var h struct {
		ID string `json:"id"`
	}
	f.api(key, "POST", "/v1/handoffs", map[string]any{
		"conversation_id": conv, "customer": map[string]any{"id": "cust-" + conv, "name": name, "email": conv + "@customer.example",
			"metadata": map[string]any{"plan": "gold", "orders": 3}},
		"history": history, "question": question,
	}, http.StatusCreated, &h)
	ws := ws1
	if key == apiKey2 {
		ws = ws2
	}
	f.until("queued", func() bool {
		got, err := f.app.Engine.Handoff(context.Background(), ws, h.ID)
		return err == nil && got.State == baton.Queued
	})
	return h.ID
}

// until polls cond every 10 ms for 5 s, failing the test if it stays false.
func (f *fixture) until(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("still not %s after 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// events lists the types and texts of ws1's bot events, in order.
func (f *fixture) events() []string {
	f.t.Helper()
	var page struct {
		Events []struct {
			Type string `json:"type"`
			Data struct {
				Text string `json:"text"`
			} `json:"data"`
		} `json:"events"`
	}
	f.api(apiKey1, "GET", "/v1/events?bot_id="+bot1+"&limit=1000", nil, http.StatusOK, &page)
	var out []string
	for _, e := range page.Events {
		out = append(out, strings.TrimSpace(e.Type+" "+e.Data.Text))
	}
	return out
}

// client is a browser-like HTTP client of the fixture: its own cookie jar,
// no redirects followed.
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: f.srv.Client().Transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// page is an answer of the web inbox, read whole.
type page struct {
	status int
	header http.Header
	body   string
}

// get fetches a path with c.
func (f *fixture) get(c *http.Client, path string) page {
	f.t.Helper()
	res, err := c.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	return read(f.t, res)
}

// post sends a form to a path with c, as the browser on the page would
// (same origin).
func (f *fixture) post(c *http.Client, path string, form url.Values) page {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	res, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return read(f.t, res)
}

func read(t testing.TB, res *http.Response) page {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

// hidden finds the value of the first hidden input named name in an HTML page.
func hidden(body, name string) string {
	marker := fmt.Sprintf(`name="%s" value="`, name)
	_, rest, ok := strings.Cut(body, marker)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// signIn signs the agent in with c, failing the test unless it lands on the queue.
func (f *fixture) signIn(c *http.Client, id string) {
	f.t.Helper()
	form := f.get(c, "/inbox/signin")
	p := f.post(c, "/inbox/signin", url.Values{"csrf": {hidden(form.body, "csrf")}, "email": {agents[id].Email}, "password": {secret}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/" {
		f.t.Fatalf("signing %s in: %d %s %s", id, p.status, p.header.Get("Location"), p.body)
	}
}
