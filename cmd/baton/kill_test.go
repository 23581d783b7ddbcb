package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKill runs the real binary on SQLite, kills it with SIGKILL while
// customer messages pour in, starts it again on the same file, and checks
// that every message Baton answered 201 for reaches the company's service,
// in order per handoff, any repeat carrying the same message id.
func TestKill(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "baton")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	company := newCompany(t, "company")
	bot := newBotHook(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(),
		"BATON_ADDR="+addr, "BATON_DB="+filepath.Join(t.TempDir(), "baton.db"), "BATON_CONFIG=testdata/kill.yaml",
		"BATON_LOG_LEVEL=warn", "BATON_RETRY_SCALE=0.001", "KILL_API_KEY=kill-api-key-0123456789",
		"COMPANY_URL="+company.url, "COMPANY_SECRET="+company.secret, "BOT_URL="+bot.url, "BOT_SECRET="+bot.secret)
	launch := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(bin, "serve")
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		ready := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "baton listening on") {
					ready <- true
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			t.Fatalf("baton did not start:\n%s", stderr.String())
		}
		return cmd
	}
	api := apiClient{base: "http://" + addr, key: "kill-api-key-0123456789"}

	cmd := launch()
	const conversations, perConversation = 8, 60
	ids := make([]string, conversations)
	for c := range conversations {
		var h struct{ ID string }
		if code, body := api.call(t, "POST", "/v1/handoffs", map[string]any{
			"conversation_id": fmt.Sprint("kill-", c), "customer": map[string]any{"id": fmt.Sprint("cust-", c)}, "question": "help",
		}, &h); code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, body)
		}
		ids[c] = h.ID
	}
	// Customers write, one message after another in each handoff; the
	// process is killed part way through.
	var mu sync.Mutex
	accepted := map[string][]string{} // handoff → message ids answered 201, in order
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for c := range conversations {
		wg.Go(func() {
			for i := range perConversation {
				body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("message %d", i)})
				req, _ := http.NewRequest("POST", api.base+"/v1/handoffs/"+ids[c]+"/messages", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+api.key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return // the process is gone
				}
				var m struct{ ID string }
				json.NewDecoder(res.Body).Decode(&m)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					return
				}
				mu.Lock()
				accepted[ids[c]] = append(accepted[ids[c]], m.ID)
				mu.Unlock()
			}
		})
	}
	for {
		mu.Lock()
		n := 0
		for _, ms := range accepted {
			n += len(ms)
		}
		mu.Unlock()
		if n >= conversations*perConversation/3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()

	launch()
	total := 0
	for _, ms := range accepted {
		total += len(ms)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing := 0
		for h, ms := range accepted {
			got := map[string]bool{}
			for _, call := range company.accepted(h) {
				got[call.body.MessageID] = true
			}
			for _, m := range ms {
				if !got[m] {
					missing++
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted messages never reached the company", missing, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Order: per handoff, first arrivals follow the order Baton accepted them in.
	repeats := 0
	for h, ms := range accepted {
		var firsts []string
		seen := map[string]bool{}
		for _, call := range company.accepted(h) {
			if call.path != "chat" {
				continue
			}
			if seen[call.body.MessageID] {
				repeats++
				continue
			}
			seen[call.body.MessageID] = true
			firsts = append(firsts, call.body.MessageID)
		}
		pos := map[string]int{}
		for i, id := range firsts {
			pos[id] = i
		}
		for i := 1; i < len(ms); i++ {
			if pos[ms[i-1]] > pos[ms[i]] {
				t.Fatalf("handoff %s: message %s reached the company before %s", h, ms[i], ms[i-1])
			}
		}
	}
	bot.check(t) // every webhook signed; a repeated webhook-id always carries the same event
	t.Logf("killed after %d accepted messages; all arrived in order, %d repeated with the same id", total, repeats)
}
