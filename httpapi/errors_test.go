package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends requests that must be refused and checks the exact
// problem (status, code, field) and that nothing at all changed in the store.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.queued("c-bad")
	created := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key2, body: createBody("c-two")}), http.StatusCreated)
	h2ID := f.waitStateAs(key2, created.ID, "queued").ID

	big := `{"conversation_id":"c-big","customer":{"id":"u"},"question":"` + strings.Repeat("x", 1<<20) + `"}`
	valid := `{"conversation_id":"c-new","customer":{"id":"u"},"question":"q"}`
	hp := "/v1/handoffs/" + h.ID

	tests := []struct {
		name   string
		req    req
		status int
		code   string
		field  string
		detail string // a part of the detail, when it matters
	}{
		{name: "malformed JSON", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id": "c-x" "customer": {}}`, offSpec: true},
			status: 400, code: "bad_request", detail: "byte offset 27"},
		{name: "truncated JSON", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id": "c-x",`, offSpec: true},
			status: 400, code: "bad_request"},
		{name: "not an object", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `[1,2]`, offSpec: true},
			status: 400, code: "bad_request"},
		{name: "empty body", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: ``, offSpec: true},
			status: 400, code: "bad_request"},
		{name: "two objects", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: valid + valid, offSpec: true},
			status: 400, code: "bad_request"},
		{name: "unknown field", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u"},"question":"q","colour":"red"}`, offSpec: true},
			status: 400, code: "bad_request", field: "colour"},
		{name: "unknown nested field", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u","nickname":"G"},"question":"q"}`, offSpec: true},
			status: 400, code: "bad_request", field: "customer.nickname"},
		{name: "unknown field in a list", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u"},"question":"q","history":[{"author":"bot","text":"hi"},{"author":"customer","text":"yo","mood":"ok"}]}`, offSpec: true},
			status: 400, code: "bad_request", field: "history[1].mood"},
		{name: "wrong type", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u"},"question":5}`, offSpec: true},
			status: 422, code: "invalid", field: "question"},
		{name: "wrong nested type", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":7},"question":"q"}`, offSpec: true},
			status: 422, code: "invalid", field: "customer.id"},
		{name: "wrong type in a list", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u"},"question":"q","history":[{"author":"bot","text":"hi"},{"author":"customer","text":5}]}`, offSpec: true},
			status: 422, code: "invalid", field: "history[1].text"},
		{name: "wrong type deep in a list", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u"},"question":"q","history":[{"author":"bot","text":"hi","attachments":[{"url":"https://x/y","size":"big"}]}]}`, offSpec: true},
			status: 422, code: "invalid", field: "history[0].attachments[0].size"},
		{name: "missing question", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u"}}`, offSpec: true},
			status: 422, code: "invalid", field: "question"},
		{name: "missing customer id", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":""},"question":"q"}`, offSpec: true},
			status: 422, code: "invalid", field: "customer.id"},
		{name: "bad email", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u","email":"grace at example"},"question":"q"}`},
			status: 422, code: "invalid", field: "customer.email"},
		{name: "bad history author", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-x","customer":{"id":"u"},"question":"q","history":[{"author":"robot","text":"hi"}]}`, offSpec: true},
			status: 422, code: "invalid", field: "history[0].author"},
		{name: "conversation already open", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: createBody("c-bad")},
			status: 409, code: "conflict", field: "conversation_id"},
		{name: "unknown bot", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"bot_id":"bot_nope","conversation_id":"c-x","customer":{"id":"u"},"question":"q"}`},
			status: 404, code: "not_found", field: "bot_id"},
		{name: "another workspace's bot", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"bot_id":"` + bot2 + `","conversation_id":"c-x","customer":{"id":"u"},"question":"q"}`},
			status: 404, code: "not_found", field: "bot_id"},
		{name: "unknown desk", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"desk_id":"dk_nope","conversation_id":"c-x","customer":{"id":"u"},"question":"q"}`},
			status: 404, code: "not_found", field: "desk_id"},
		{name: "oversized body", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: big},
			status: 413, code: "too_large", detail: "1048576 bytes"},
		{name: "oversized chunked body", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: strings.NewReader(big)},
			status: 413, code: "too_large", detail: "1048576 bytes"},
		{name: "oversized body with a key", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: strings.NewReader(big), header: map[string]string{"Idempotency-Key": "big-1"}},
			status: 413, code: "too_large", detail: "1048576 bytes"},
		{name: "no key", req: req{method: "POST", path: "/v1/handoffs", body: valid, offSpec: true},
			status: 401, code: "unauthorized"},
		{name: "wrong key", req: req{method: "GET", path: hp, key: "bk_live_wrong"},
			status: 401, code: "unauthorized"},
		{name: "not a bearer", req: req{method: "GET", path: hp, header: map[string]string{"Authorization": "Basic " + key1}, offSpec: true},
			status: 401, code: "unauthorized"},
		{name: "agent key on the bot API", req: req{method: "GET", path: hp, key: agentKey1},
			status: 401, code: "unauthorized"},
		{name: "API key on the inbox", req: req{method: "GET", path: "/v1/inbox/handoffs", key: key1},
			status: 401, code: "unauthorized"},
		{name: "unknown handoff", req: req{method: "GET", path: "/v1/handoffs/ho_nope", key: key1},
			status: 404, code: "not_found"},
		{name: "another workspace's handoff", req: req{method: "GET", path: "/v1/handoffs/" + h2ID, key: key1},
			status: 404, code: "not_found"},
		{name: "message to another workspace's handoff", req: req{method: "POST", path: "/v1/handoffs/" + h2ID + "/messages", key: key1, body: `{"text":"hi"}`},
			status: 404, code: "not_found"},
		{name: "end another workspace's handoff", req: req{method: "POST", path: "/v1/handoffs/" + h2ID + "/end", key: key1},
			status: 404, code: "not_found"},
		{name: "keep another workspace's handoff waiting", req: req{method: "POST", path: "/v1/handoffs/" + h2ID + "/keep-waiting", key: key1},
			status: 404, code: "not_found"},
		{name: "email to another workspace's handoff", req: req{method: "POST", path: "/v1/handoffs/" + h2ID + "/email", key: key1, body: `{"email":"a@example.com"}`},
			status: 404, code: "not_found"},
		{name: "agent reads another workspace's handoff", req: req{method: "GET", path: "/v1/inbox/handoffs/" + h2ID + "/messages", key: agentKey1},
			status: 404, code: "not_found"},
		{name: "agent replies in another workspace", req: req{method: "POST", path: "/v1/inbox/handoffs/" + h2ID + "/messages", key: agentKey1, body: `{"text":"hi"}`},
			status: 404, code: "not_found"},
		{name: "agent ends another workspace's handoff", req: req{method: "POST", path: "/v1/inbox/handoffs/" + h2ID + "/end", key: agentKey1},
			status: 404, code: "not_found"},
		{name: "empty customer message", req: req{method: "POST", path: hp + "/messages", key: key1, body: `{"text":"  "}`},
			status: 422, code: "invalid", field: "text"},
		{name: "customer message too long", req: req{method: "POST", path: hp + "/messages", key: key1, body: `{"text":"` + strings.Repeat("a", 16<<10+1) + `"}`},
			status: 422, code: "invalid", field: "text"},
		{name: "attachment without a URL scheme", req: req{method: "POST", path: hp + "/messages", key: key1, body: `{"text":"see","attachments":[{"url":"ftp://x/y"}]}`, offSpec: true},
			status: 422, code: "invalid", field: "attachments[0].url"},
		{name: "attachments not a list", req: req{method: "POST", path: hp + "/messages", key: key1, body: `{"text":"see","attachments":{"url":"https://x/y"}}`, offSpec: true},
			status: 422, code: "invalid", field: "attachments"},
		{name: "bad end reason", req: req{method: "POST", path: hp + "/end", key: key1, body: `{"reason":"agent_closed"}`, offSpec: true},
			status: 422, code: "invalid", field: "reason"},
		{name: "bad email address", req: req{method: "POST", path: hp + "/email", key: key1, body: `{"email":"nope"}`},
			status: 422, code: "invalid", field: "email"},
		{name: "email when none is needed", req: req{method: "POST", path: hp + "/email", key: key1, body: `{"email":"a@example.com"}`},
			status: 409, code: "conflict"},
		{name: "stale epoch", req: req{method: "POST", path: "/v1/conversations/c-bad/bot-messages", key: key1, body: `{"epoch":0,"text":"too late"}`},
			status: 409, code: "stale_epoch", field: "epoch"},
		{name: "no epoch", req: req{method: "POST", path: "/v1/conversations/c-bad/bot-messages", key: key1, body: `{"text":"hi"}`, offSpec: true},
			status: 422, code: "invalid", field: "epoch"},
		{name: "negative epoch", req: req{method: "POST", path: "/v1/conversations/c-new/bot-messages", key: key1, body: `{"epoch":-1,"text":"hi"}`, offSpec: true},
			status: 422, code: "invalid", field: "epoch"},
		{name: "conversation id too long", req: req{method: "POST", path: "/v1/conversations/" + strings.Repeat("c", 201) + "/bot-messages", key: key1, body: `{"epoch":0,"text":"hi"}`, offSpec: true},
			status: 422, code: "invalid", field: "conversation_id"},
		{name: "epoch as a string", req: req{method: "POST", path: "/v1/conversations/c-new/bot-messages", key: key1, body: `{"epoch":"0","text":"hi"}`, offSpec: true},
			status: 422, code: "invalid", field: "epoch"},
		{name: "bot message for an unknown bot", req: req{method: "POST", path: "/v1/conversations/c-new/bot-messages", key: key1, body: `{"bot_id":"bot_nope","epoch":0,"text":"hi"}`},
			status: 404, code: "not_found", field: "bot_id"},
		{name: "transfer on a desk that is not a seat", req: req{method: "POST", path: "/v1/conversations/c-bad/transfer", key: key1, body: `{}`},
			status: 409, code: "conflict"},
		{name: "transfer with an unknown field", req: req{method: "POST", path: "/v1/conversations/c-bad/transfer", key: key1, body: `{"group":"x"}`, offSpec: true},
			status: 400, code: "bad_request", field: "group"},
		{name: "Idempotency-Key too long", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: valid, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, offSpec: true},
			status: 422, code: "invalid", field: "Idempotency-Key"},
		{name: "events limit zero", req: req{method: "GET", path: "/v1/events?limit=0", key: key1, offSpec: true},
			status: 422, code: "invalid", field: "limit"},
		{name: "events limit too high", req: req{method: "GET", path: "/v1/events?limit=1001", key: key1, offSpec: true},
			status: 422, code: "invalid", field: "limit"},
		{name: "events after negative", req: req{method: "GET", path: "/v1/events?after=-1", key: key1, offSpec: true},
			status: 422, code: "invalid", field: "after"},
		{name: "events after not a number", req: req{method: "GET", path: "/v1/events?after=x", key: key1, offSpec: true},
			status: 422, code: "invalid", field: "after"},
		{name: "events for an unknown bot", req: req{method: "GET", path: "/v1/events?bot_id=bot_nope", key: key1},
			status: 404, code: "not_found", field: "bot_id"},
		{name: "stream with a bad Last-Event-ID", req: req{method: "GET", path: "/v1/events/stream", key: key1, header: map[string]string{"Last-Event-ID": "abc"}, offSpec: true},
			status: 422, code: "invalid", field: "Last-Event-ID"},
		{name: "stream for an unknown bot", req: req{method: "GET", path: "/v1/events/stream?bot_id=bot_nope", key: key1},
			status: 404, code: "not_found", field: "bot_id"},
		{name: "claim an unknown handoff", req: req{method: "POST", path: "/v1/inbox/handoffs/ho_nope/claim", key: agentKey1},
			status: 404, code: "not_found"},
		{name: "empty reply", req: req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1, body: `{}`},
			status: 422, code: "invalid", field: "text"},
		{name: "reply too long", req: req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1, body: `{"text":"` + strings.Repeat("a", 16<<10+1) + `"}`},
			status: 422, code: "invalid", field: "text"},
		{name: "reply with a bad attachment", req: req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1, body: `{"attachments":[{"url":"file:///etc/passwd"}]}`, offSpec: true},
			status: 422, code: "invalid", field: "attachments[0].url"},
		{name: "unknown route", req: req{method: "GET", path: "/v1/nothing-here", key: key1, offSpec: true},
			status: 404, code: "not_found"},
		{name: "wrong method", req: req{method: "DELETE", path: hp, key: key1, offSpec: true},
			status: 405, code: "method_not_allowed"},
		{name: "a body that is not JSON", req: req{method: "POST", path: "/v1/handoffs", key: key1, body: `{"conversation_id":"c-text"}`, header: map[string]string{"Content-Type": "text/plain"}, offSpec: true},
			status: 415, code: "unsupported_media_type", field: "Content-Type"},
		{name: "a form", req: req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: `text=hi`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, offSpec: true},
			status: 415, code: "unsupported_media_type", field: "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			r := f.do(tt.req)
			p := wantProblem(t, r, tt.status, tt.code, tt.field)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, tt.detail)
			}
			if tt.status == 405 && !strings.Contains(r.header.Get("Allow"), "GET") {
				t.Errorf("405 with Allow %q", r.header.Get("Allow"))
			}
			if after := f.snapshot(); after != before {
				t.Errorf("a refused request changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestInternalErrorsStayInside checks that a broken store answers 500 with no
// detail of the cause, and that the cause is logged.
func TestInternalErrorsStayInside(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.store.Close()
	r := f.do(req{method: "GET", path: "/v1/handoffs/ho_any", key: key1})
	p := wantProblem(t, r, http.StatusInternalServerError, "internal", "")
	if p.Detail != "internal error" {
		t.Errorf("detail %q leaks the cause", p.Detail)
	}
	if !strings.Contains(f.logs.String(), "database is closed") {
		t.Errorf("the cause is not logged:\n%s", f.logs.String())
	}
}

// TestLogs checks that request logs carry no keys, secrets or bodies.
func TestLogs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.queued("c-logs")
	f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "my card is 4242"}})
	f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1, body: map[string]any{"text": "secret reply"}})
	f.do(req{method: "POST", path: "/v1/desks/" + hookDesk + "/inbound/message", header: map[string]string{"Authorization": "Bearer " + hookSecret}, body: `{"istest":true}`})
	f.do(req{method: "GET", path: "/v1/handoffs/" + h.ID, key: "bk_live_guess"})
	logs := f.logs.String()
	for _, secret := range []string{key1, agentKey1, hookSecret, "bk_live_guess", "4242", "secret reply", "Where is my parcel"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
	if !strings.Contains(logs, "path=/v1/handoffs/"+h.ID) || !strings.Contains(logs, "status=401") {
		t.Errorf("requests are not logged:\n%s", logs)
	}
}
