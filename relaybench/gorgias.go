package relaybench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/gorgiassim"
)

// Gorgias runs the same traffic into the Gorgias simulator: the baseline
// relays each request straight to POST /api/tickets/{id}/messages as the
// ticket's customer; Baton relays through its Gorgias desk (durable
// outbox, delivery as an incoming api-channel message). The simulator's
// leaky bucket and the desk's own limiter are set far above the load
// (the account's real 40 calls per 20 s would measure the bucket, not the
// relay), and no HTTP integration is configured, so the echo of each
// message is not part of the run.
func Gorgias(ctx context.Context, o Options) (Report, error) {
	return compare(ctx, o, bareGorgias, batonGorgias)
}

// unthrottled is a bucket no run fills.
const unthrottled = 1_000_000_000

// gorgiasTally reads arrivals from the simulator's tickets: a customer
// message whose text is the bench's message id.
func gorgiasTally(sim *gorgiassim.Sim) *tally {
	return &tally{scan: func(add func(string, time.Time)) {
		for _, t := range sim.Tickets() {
			for _, m := range t.Messages {
				if !m.FromAgent {
					add(m.BodyText, m.Created)
				}
			}
		}
	}}
}

func newGorgiasSim() (*gorgiassim.Sim, *httptest.Server, gorgiassim.User) {
	sim := gorgiassim.New(gorgiassim.Config{Limit: unthrottled, Window: time.Second})
	return sim, httptest.NewServer(sim.Handler()), sim.AddUser("bench@acme.test", "Bench")
}

// bareGorgias relays each request to the ticket's messages, storing nothing.
func bareGorgias(ctx context.Context, o Options) (Result, error) {
	sim, srv, u := newGorgiasSim()
	defer sim.Close()
	defer srv.Close()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Email+":"+u.APIKey))
	out := client(o.Clients)
	tickets, customers := make([]string, o.Conversations), make([]int64, o.Conversations)
	for c := range o.Conversations {
		var tk struct {
			ID       int64 `json:"id"`
			Customer struct {
				ID int64 `json:"id"`
			} `json:"customer"`
		}
		email := fmt.Sprintf("c%d@bench.test", c)
		msg := map[string]any{"channel": "api", "via": "api", "from_agent": false, "sender": map[string]string{"email": email}, "body_text": "hello"}
		if err := postAuth(out, srv.URL+"/api/tickets", auth, map[string]any{"channel": "api", "via": "api", "from_agent": false,
			"messages": []any{msg}}, &tk); err != nil {
			return Result{}, err
		}
		tickets[c], customers[c] = strconv.FormatInt(tk.ID, 10), tk.Customer.ID
	}
	relay := httptest.NewServer(forward(out, func(conv int, text string) (string, string, any) {
		return srv.URL + "/api/tickets/" + tickets[conv] + "/messages", auth, map[string]any{"channel": "api", "via": "api", "from_agent": false,
			"sender": map[string]int64{"id": customers[conv]}, "body_text": text, "body_html": "<p>" + text + "</p>"}
	}))
	defer relay.Close()
	in := client(o.Clients)
	return drive(ctx, "bare", o, gorgiasTally(sim), func(conv int, id string) error {
		return post(in, fmt.Sprintf("%s/relay/%d", relay.URL, conv), "", map[string]string{"text": id}, 201, nil)
	})
}

// batonGorgias runs the traffic through Baton's Gorgias desk.
func batonGorgias(ctx context.Context, o Options) (Result, error) {
	sim, srv, u := newGorgiasSim()
	defer sim.Close()
	defer srv.Close()
	return throughStack(ctx, o, gorgiasTally(sim), baton.DeskConfig{Kind: baton.KindGorgias,
		Settings: map[string]string{"domain": "acme", "base_url": srv.URL, "email": u.Email, "api_key": u.APIKey,
			"integration_token": "bench-integration-token-0123", "rate_limit": strconv.Itoa(unthrottled) + "/1s"}}, client(64))
}

// postAuth posts JSON with an Authorization header and decodes a 201 answer.
func postAuth(c *http.Client, url, auth string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, rb)
	}
	return json.Unmarshal(rb, out)
}
