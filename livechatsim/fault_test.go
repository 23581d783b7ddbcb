package livechatsim

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		f      Faults
		want   []int
		typ    string
		region bool
	}{
		{"too many for the next 2 calls", Faults{TooMany: 2}, []int{429, 429, 200}, "too_many_requests", false},
		{"rate limit per window", Faults{RateLimit: 2}, []int{200, 200, 429, 429}, "too_many_requests", false},
		{"service unavailable", Faults{Unavailable: 1}, []int{503, 200}, "service_unavailable", false},
		{"internal", Faults{Internal: 2}, []int{500, 500, 200}, "internal", false},
		{"misdirected", Faults{Misdirected: 1}, []int{421, 200}, "misdirected_request", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.SetFaults(tt.f)
			for i, want := range tt.want {
				st, v := e.do("POST", agentAPIPath+"list_chats", e.smith.Basic(), obj{})
				if st != want {
					t.Fatalf("call %d: %d %v, want %d", i, st, v, want)
				}
				if st != 200 {
					if str(v, "error", "type") != tt.typ {
						t.Errorf("call %d: %v", i, v)
					}
					if tt.region && str(v, "error", "data", "region") != "dal" {
						t.Errorf("misdirected without data.region: %v", v)
					}
				}
			}
		})
	}

	t.Run("rate limit counts per token and resets with the window", func(t *testing.T) {
		e := newEnv(t)
		oauth, _ := e.sim.AgentToken(e.app.ClientID, e.smith.ID)
		e.sim.SetFaults(Faults{RateLimit: 1, RateWindow: 10 * time.Second})
		e.agent("list_chats", obj{})
		e.fails(agentAPIPath+"list_chats", e.smith.Basic(), obj{}, 429, "too_many_requests")
		e.ok(agentAPIPath+"list_chats", "Bearer "+oauth, obj{})
		e.sim.Advance(10 * time.Second)
		e.agent("list_chats", obj{})
		if f := e.sim.Faults(); f.RateLimit != 1 {
			t.Errorf("Faults() = %+v", f)
		}
	})

	t.Run("latency", func(t *testing.T) {
		e := newEnv(t)
		e.sim.SetFaults(Faults{Latency: 300 * time.Millisecond})
		c := &http.Client{Timeout: 50 * time.Millisecond}
		req, _ := http.NewRequest("POST", e.srv.URL+agentAPIPath+"list_chats", strings.NewReader("{}"))
		req.Header.Set("Authorization", e.smith.Basic())
		if _, err := c.Do(req); err == nil {
			t.Fatal("no timeout despite latency")
		}
		start := time.Now()
		e.agent("list_chats", obj{})
		if time.Since(start) < 300*time.Millisecond {
			t.Errorf("answered without latency")
		}
	})

	t.Run("accounts and driver endpoints are not faulted", func(t *testing.T) {
		e := newEnv(t)
		e.sim.SetFaults(Faults{Unavailable: 5})
		e.customer()
		if st, _ := e.do("GET", "/sim/state", "", nil); st != 200 {
			t.Errorf("driver endpoint faulted: %d", st)
		}
	})
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code, _ := e.sim.Code(e.app.ClientID, e.smith.ID)
	resp, err := http.PostForm(e.srv.URL+"/v2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {e.app.ClientID}, "client_secret": {e.app.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	tok := decode(t, resp)
	access := "Bearer " + str(tok, "access_token")
	jar := newJarClient(t)
	mint := func() (string, string) {
		body := `{"grant_type":"cookie","client_id":"` + e.app.ClientID + `","organization_id":"` + e.sim.OrganizationID() +
			`","redirect_uri":"` + e.app.RedirectURI + `"}`
		resp, err := jar.Post(e.srv.URL+"/v2/customer/token", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		v := decode(t, resp)
		return "Bearer " + str(v, "access_token"), str(v, "entity_id")
	}
	cust, custID := mint()
	b, _ := e.sim.AddBot(Bot{OwnerClientID: e.app.ClientID})
	bot, _ := e.sim.BotToken(b.ID)

	e.sim.ExpireTokens()
	for _, auth := range []string{access, "Bearer " + bot} {
		v := e.fails(agentAPIPath+"list_chats", auth, obj{}, 401, "authentication")
		if str(v, "error", "message") != "Invalid access token" {
			t.Errorf("message %v", v)
		}
	}
	e.fails(e.customerPath("get_customer"), cust, obj{}, 401, "authentication")
	e.agent("list_chats", obj{}) // PATs do not expire

	// Renewal: refresh token, cookie grant for the same customer.
	st, ref := e.do("POST", "/v2/token", "", obj{"grant_type": "refresh_token", "refresh_token": str(tok, "refresh_token"),
		"client_id": e.app.ClientID, "client_secret": e.app.Secret})
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, ref)
	}
	e.ok(agentAPIPath+"list_chats", "Bearer "+str(ref, "access_token"), obj{})
	cust2, id2 := mint()
	if id2 != custID {
		t.Errorf("cookie renewal changed customer: %s != %s", id2, custID)
	}
	e.ok(e.customerPath("get_customer"), cust2, obj{})

	// Natural expiry: 8 h for agent and customer tokens, 24 h for bots.
	bot, _ = e.sim.BotToken(b.ID)
	e.sim.Advance(TokenTTL - time.Second)
	e.ok(e.customerPath("get_customer"), cust2, obj{})
	e.sim.Advance(time.Second)
	e.fails(e.customerPath("get_customer"), cust2, obj{}, 401, "authentication")
	e.fails(agentAPIPath+"list_chats", "Bearer "+str(ref, "access_token"), obj{}, 401, "authentication")
	e.ok(agentAPIPath+"list_chats", "Bearer "+bot, obj{})
	e.sim.Advance(BotTokenTTL - TokenTTL)
	e.fails(agentAPIPath+"list_chats", "Bearer "+bot, obj{}, 401, "authentication")
}

func pngBytes(t *testing.T, w, h int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func upload(t *testing.T, e *env, path, auth, name string, data []byte) (int, any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, decode(t, resp)
}

func TestUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img := pngBytes(t, 64, 48)
	st, v := upload(t, e, agentAPIPath+"upload_file", e.smith.Basic(), "image.png", img)
	if st != 200 || !strings.HasPrefix(str(v, "url"), e.srv.URL+"/api/file/lc/att/") {
		t.Fatalf("upload: %d %v", st, v)
	}
	u := str(v, "url")
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, img) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("served file differs (%s)", resp.Header.Get("Content-Type"))
	}

	out := e.agent("start_chat", obj{"chat": obj{"thread": obj{"events": []obj{
		{"type": "file", "url": u, "alternative_text": "a picture"}}}}})
	g := e.agent("get_chat", obj{"chat_id": str(out, "chat_id")})
	ev := dig(g, "thread", "events", 0)
	if str(ev, "name") != "image.png" || str(ev, "content_type") != "image/png" || dig(ev, "width") != 64.0 ||
		dig(ev, "height") != 48.0 || dig(ev, "size") != float64(len(img)) || str(ev, "thumbnail_url") == "" ||
		str(ev, "alternative_text") != "a picture" {
		t.Errorf("file event %v", ev)
	}

	tests := []struct {
		name, path, auth, file string
		size                   int
		status                 int
		typ                    string
	}{
		{"over 10 MB", agentAPIPath + "upload_file", e.smith.Basic(), "big.bin", MaxUpload + 1, 413, "entity_too_large"},
		{"exactly 10 MB", agentAPIPath + "upload_file", e.smith.Basic(), "ok.bin", MaxUpload, 200, ""},
		{"executable", agentAPIPath + "upload_file", e.smith.Basic(), "run.exe", 10, 400, "validation"},
		{"customer", "", "", "note.txt", 10, 200, ""},
	}
	tok, _ := e.customer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, auth := tt.path, tt.auth
			if path == "" {
				path, auth = e.customerPath("upload_file"), tok
			}
			st, v := upload(t, e, path, auth, tt.file, bytes.Repeat([]byte("x"), tt.size))
			if st != tt.status || str(v, "error", "type") != tt.typ {
				t.Fatalf("got %d %v", st, v)
			}
			if tt.typ == "entity_too_large" && str(v, "error", "message") != "Upload limit exceeded (10MB)." {
				t.Errorf("message %v", v)
			}
		})
	}
	e.fails(agentAPIPath+"send_event", e.smith.Basic(), obj{"chat_id": str(out, "chat_id"),
		"event": obj{"type": "file", "url": "https://example.com/x.png"}}, 400, "validation")

	// Driver: a human agent sends a file.
	if _, err := e.sim.AgentFile(str(out, "chat_id"), e.smith.ID, "doc.pdf", []byte("%PDF-1.4")); err != nil {
		t.Fatal(err)
	}
	c, _ := e.sim.Chat(str(out, "chat_id"))
	if last := c.Events()[len(c.Events())-1]; last.Type != "file" || last.Fields["name"] != "doc.pdf" {
		t.Errorf("driver file event %+v", last)
	}
	var apiErr *Error
	if _, err := e.sim.AgentFile(str(out, "chat_id"), e.smith.ID, "big.bin", make([]byte, MaxUpload+1)); !errors.As(err, &apiErr) ||
		apiErr.Type != "entity_too_large" {
		t.Errorf("driver oversize: %v", err)
	}
}
