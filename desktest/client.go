package desktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Client calls Baton's HTTP API with a bearer key (a workspace API key or
// an inbox agent key), for tests: a transport error fails the test.
type Client struct {
	Base string       // Baton's address, "http://127.0.0.1:port"
	Key  string       // sent as "Authorization: Bearer <Key>"
	HTTP *http.Client // nil means http.DefaultClient
}

// Call sends body as JSON (none when nil), with idem as its Idempotency-Key
// (none when ""), decodes a 2xx answer into out (when not nil), and returns
// the status and the raw answer.
func (c Client) Call(t testing.TB, method, path, idem string, body, out any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if out != nil && res.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, b
}
