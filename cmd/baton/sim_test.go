package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/livechatsim"
)

// TestSimLiveChat runs `baton sim livechat` and talks to it as a client would.
func TestSimLiveChat(t *testing.T) {
	url, _ := runSim(t, "livechat")
	resp, err := http.Get(url + "/v3.4/configuration/action/get_license_id?organization_id=" + livechatsim.DefaultOrganizationID)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		LicenseID int `json:"license_id"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got.LicenseID != livechatsim.DefaultLicenseID {
		t.Fatalf("get_license_id: %d %+v", resp.StatusCode, got)
	}
}

func TestTwoWordCommands(t *testing.T) {
	for _, args := range [][]string{{"sim"}, {"sim", "nosuch"}, {"livechat"}, {"livechat", "register"}} {
		err := run(t.Context(), append([]string{"baton"}, args...), getenv(nil), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "usage: baton "+args[0]) {
			t.Errorf("%v: %v", args, err)
		}
	}
	err := run(t.Context(), []string{"baton", "livechat", "webhooks", "--desk", "x", "--url", "http://x"}, getenv(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("webhooks without a config: %v", err)
	}
}

// runSim runs `baton sim NAME` on a free port until the test ends, and
// returns its address and the lines it printed before it.
func runSim(t *testing.T, name string) (base string, printed []string) {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"baton", "sim", name, "--addr", "127.0.0.1:0"}, getenv(nil), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("sim %s stopped with %v", name, err)
		}
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads past "listening on"
			}
		}
	}()
	for {
		select {
		case l := <-lines:
			if _, a, ok := strings.Cut(l, "listening on "); ok {
				return a, printed // LiveChat's says more on the same line and after
			}
			printed = append(printed, l)
		case err := <-done:
			t.Fatalf("sim %s returned before listening: %v", name, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("sim %s did not start", name)
		}
	}
}

// TestSimGorgias runs `baton sim gorgias` and calls its API with the
// credentials it prints.
func TestSimGorgias(t *testing.T) {
	base, printed := runSim(t, "gorgias")
	creds := strings.Join(printed, "\n")
	_, rest, _ := strings.Cut(creds, "email ")
	email, rest, _ := strings.Cut(rest, ", api_key ")
	key, _, _ := strings.Cut(rest, ";")
	req, _ := http.NewRequest("GET", base+"/api/account", nil)
	req.SetBasicAuth(email, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Gorgias-Account-Api-Call-Limit") != "1/40" {
		t.Fatalf("GET /api/account: %d, limit %q (credentials line %q)", resp.StatusCode, resp.Header.Get("X-Gorgias-Account-Api-Call-Limit"), creds)
	}
}

// TestSimIntercom runs `baton sim intercom` and calls its API with the
// access token it prints.
func TestSimIntercom(t *testing.T) {
	base, printed := runSim(t, "intercom")
	creds := strings.Join(printed, "\n")
	_, rest, _ := strings.Cut(creds, "access_token ")
	tok, _, _ := strings.Cut(rest, ",")
	req, _ := http.NewRequest("GET", base+"/office_hours_schedules", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Intercom-Version", "2.17")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data []struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(got.Data) != 1 || resp.Header.Get("X-RateLimit-Remaining") == "" {
		t.Fatalf("GET /office_hours_schedules: %d %+v (credentials line %q)", resp.StatusCode, got, creds)
	}
}
