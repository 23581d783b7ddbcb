package intercom_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intercom"
)

// TestSignatureVector is desks.md 1.8's test vector.
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"notification_event","topic":"ping","data":{"item":{"type":"ping","message":"something something interzen"}}}`)
	const want = "sha1=4cb34cc2241a36d7d965170ce575ff8504008263"
	if got := intercom.Sign("client-secret", body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if !intercom.Verify("client-secret", body, want) {
		t.Fatal("Verify refuses the vector")
	}
	for _, bad := range []string{"", "4cb34cc2241a36d7d965170ce575ff8504008263", "sha1=4cb34cc2241a36d7d965170ce575ff8504008264",
		"sha256=4cb34cc2241a36d7d965170ce575ff8504008263", "sha1=zz", "sha1=4cb34cc2"} {
		if intercom.Verify("client-secret", body, bad) {
			t.Errorf("Verify accepts %q", bad)
		}
	}
	if intercom.Verify("other-secret", body, want) {
		t.Error("Verify accepts the vector under another secret")
	}
}

const secret = "unit-client-secret"

func inboundDesk(t testing.TB) baton.Desk {
	t.Helper()
	d, err := intercom.New(baton.DeskConfig{Kind: baton.KindIntercom, Settings: map[string]string{
		intercom.SettingAccessToken: "tok-0123456789", intercom.SettingClientSecret: secret,
		intercom.SettingBaseURL: "http://127.0.0.1:1", intercom.SettingAdminID: "42"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func inbound(d baton.Desk, body string, sign bool) ([]baton.DeskEvent, error) {
	h := http.Header{}
	if sign {
		h.Set(intercom.SignatureHeader, intercom.Sign(secret, []byte(body)))
	}
	return d.Inbound(t0ctx, "intercom", h, []byte(body))
}

// A 2.16 notification of each topic Baton acts on, and what it maps to.
const (
	replied = `{"type":"notification_event","app_id":"a1","id":"notif_1","topic":"conversation.admin.replied","created_at":1734537561,
	 "data":{"type":"notification_event_data","item":{"type":"conversation","id":"524","state":"open","admin_assignee_id":991267715,
	  "conversation_parts":{"type":"conversation_part.list","total_count":1,"conversation_parts":[{"type":"conversation_part","id":"132",
	   "part_type":"comment","body":"Thanks again :)","created_at":1734537560,"author":{"id":"991267715","type":"admin","name":"Joe"},
	   "attachments":[{"type":"upload","name":"form.pdf","url":"https://files.example.org/form.pdf","content_type":"application/pdf","filesize":12}]}]}}}}`
	repliedHTML = `{"type":"notification_event","id":"notif_2","topic":"conversation.admin.replied","created_at":1,
	 "data":{"item":{"type":"conversation","id":524,"conversation_parts":{"conversation_parts":[{"id":133,"part_type":"comment",
	  "body":"<p>Line one &amp; more</p><p>Line <b>two</b><br>three</p>","author":{"id":991267715,"type":"admin","name":"Joe"}}]}}}}`
	snoozed = `{"type":"notification_event","id":"notif_3","topic":"conversation.admin.snoozed","created_at":1734537600,
	 "data":{"item":{"type":"conversation","id":"524","state":"snoozed","snoozed_until":1734541187,
	  "conversation_parts":{"conversation_parts":[{"id":"134","part_type":"snoozed","author":{"id":"991267715","type":"admin","name":"Joe"}}]}}}}`
	assigned = `{"type":"notification_event","id":"notif_4","topic":"conversation.admin.assigned","created_at":1734537600,
	 "data":{"item":{"type":"conversation","id":"524","admin_assignee_id":7,
	  "conversation_parts":{"conversation_parts":[{"id":"135","part_type":"assignment","assigned_to":{"type":"admin","id":"7"},
	   "author":{"id":"7","type":"admin","name":"Kim"}}]}}}}`
	ping = `{"type":"notification_event","app_id":"a1","data":{"type":"notification_event_data","item":{"type":"ping","message":"something something interzen"}},"links":{},"id":null,"topic":"ping","delivery_status":null,"delivery_attempts":1,"delivered_at":0,"first_sent_at":1553288147,"created_at":1553288147,"self":null}`
)

func TestInboundTopics(t *testing.T) {
	t.Parallel()
	d := inboundDesk(t)
	evs, err := inbound(d, replied, true)
	if err != nil || len(evs) != 1 {
		t.Fatalf("replied: %v, %+v", err, evs)
	}
	ev := evs[0]
	if ev.Type != baton.DeskAgentMessage || ev.Ref != "524" || ev.ID != "part:132" || ev.Text != "Thanks again :)" ||
		ev.Agent != (baton.Agent{ID: "991267715", Name: "Joe"}) || !ev.At.Equal(time.Unix(1734537560, 0)) {
		t.Errorf("replied: %+v", ev)
	}
	if len(ev.Attachments) != 1 || ev.Attachments[0] != (baton.Attachment{URL: "https://files.example.org/form.pdf", Name: "form.pdf", Type: "application/pdf", Size: 12}) {
		t.Errorf("replied attachments: %+v", ev.Attachments)
	}
	// Before 2.15 bodies are HTML; numeric ids read as strings.
	evs, err = inbound(d, repliedHTML, true)
	if err != nil || len(evs) != 1 || evs[0].Text != "Line one & more\nLine two\nthree" || evs[0].Ref != "524" || evs[0].Agent.ID != "991267715" {
		t.Errorf("replied in HTML: %v, %+v", err, evs)
	}
	// Snoozes are mapped here; Inbound checks them against the API
	// (TestSnoozeOrder).
	events := func(body string) ([]baton.DeskEvent, error) {
		n, err := intercom.ParseNotification([]byte(body))
		if err != nil {
			return nil, err
		}
		return n.Events()
	}
	evs, err = events(snoozed)
	if err != nil || len(evs) != 1 || evs[0].Type != baton.DeskAgentPaused || !evs[0].Until.Equal(time.Unix(1734541187, 0)) || evs[0].Agent.Name != "Joe" {
		t.Errorf("snoozed: %v, %+v", err, evs)
	}
	evs, err = inbound(d, assigned, true)
	if err != nil || len(evs) != 1 || evs[0].Type != baton.DeskTransferred || evs[0].Agent != (baton.Agent{ID: "7", Name: "Kim"}) {
		t.Errorf("assigned: %v, %+v", err, evs)
	}
	for topic, want := range map[string]baton.DeskEventType{
		"conversation.admin.closed": baton.DeskAgentClosed, "conversation.admin.unsnoozed": baton.DeskAgentResumed,
		"conversation.admin.opened": baton.DeskAgentResumed, "conversation.read": baton.DeskAgentRead,
	} {
		body := `{"type":"notification_event","id":"n-` + topic + `","topic":"` + topic + `","created_at":5,"data":{"item":{"type":"conversation","id":"9"}}}`
		evs, err := events(body)
		if err != nil || len(evs) != 1 || evs[0].Type != want || evs[0].Ref != "9" || evs[0].ID != "n-"+topic {
			t.Errorf("%s: %v, %+v", topic, err, evs)
		}
	}
}

// TestInboundVersions: a 2.17 notification (fields Baton does not read)
// and a 1.x one (the assignee as an object with its name) are read too.
func TestInboundVersions(t *testing.T) {
	t.Parallel()
	d := inboundDesk(t)
	v217 := `{"type":"notification_event","app_id":"a1","id":"notif_217","topic":"conversation.admin.replied","created_at":1767225600,
	 "delivery_status":"pending","delivery_attempts":2,"first_sent_at":1767225600,"links":{},"self":null,
	 "data":{"type":"notification_event_data","item":{"type":"conversation","id":"88","ai_agent_participated":false,
	  "custom_attributes":{"tier":"gold"},"linked_objects":{"type":"list","data":[]},"statistics":null,
	  "conversation_parts":{"type":"conversation_part.list","total_count":1,"conversation_parts":[{"type":"conversation_part","id":"7",
	   "part_type":"comment","body":"Plain text from 2.15 on","app_package_code":null,"email_message_metadata":null,
	   "author":{"type":"admin","id":"5","name":"Ro","email":"ro@example.org","from_ai_agent":false,"is_ai_answer":false},"attachments":[]}]}}}}`
	evs, err := inbound(d, v217, true)
	if err != nil || len(evs) != 1 || evs[0].Text != "Plain text from 2.15 on" || evs[0].Agent.Name != "Ro" {
		t.Errorf("2.17: %v, %+v", err, evs)
	}
	v1 := `{"type":"notification_event","id":"notif_v1","topic":"conversation.admin.assigned","created_at":1,
	 "data":{"item":{"type":"conversation","id":"88","assignee":{"type":"admin","id":"12","name":"Lou"},
	  "conversation_parts":{"conversation_parts":[{"id":"8","part_type":"assignment","author":{"type":"admin","id":"5","name":"Ro"}}]}}}}`
	evs, err = inbound(d, v1, true)
	if err != nil || len(evs) != 1 || evs[0].Type != baton.DeskTransferred || evs[0].Agent != (baton.Agent{ID: "12", Name: "Lou"}) {
		t.Errorf("1.x assignment: %v, %+v", err, evs)
	}
}

// TestInboundIgnored: pings, notes, Baton's own replies, unknown topics and
// assignments to a team are acknowledged and ignored.
func TestInboundIgnored(t *testing.T) {
	t.Parallel()
	d := inboundDesk(t)
	for name, body := range map[string]string{
		"ping":    ping,
		"note":    `{"type":"notification_event","id":"n1","topic":"conversation.admin.noted","data":{"item":{"type":"conversation","id":"9"}}}`,
		"echo":    `{"type":"notification_event","id":"n2","topic":"conversation.user.replied","data":{"item":{"type":"conversation","id":"9"}}}`,
		"unknown": `{"type":"notification_event","id":"n3","topic":"contact.user.created","data":{"item":{"type":"contact","id":"x"}}}`,
		"team":    `{"type":"notification_event","id":"n4","topic":"conversation.admin.assigned","data":{"item":{"type":"conversation","id":"9","conversation_parts":{"conversation_parts":[{"id":"1","part_type":"assignment","assigned_to":{"type":"team","id":"5"}}]}}}}`,
		"no text": `{"type":"notification_event","id":"n5","topic":"conversation.admin.replied","data":{"item":{"type":"conversation","id":"9","conversation_parts":{"conversation_parts":[{"id":"1","part_type":"comment","body":"","author":{"type":"admin","id":"1"}}]}}}}`,
	} {
		evs, err := inbound(d, body, true)
		var ig *baton.Ignored
		if !errors.As(err, &ig) || ig.Reason != baton.IgnoredNoEvents || len(evs) != 0 {
			t.Errorf("%s: %v, %+v, want ignored", name, err, evs)
		}
	}
}

// TestInboundRefused: the signature is checked before anything is parsed;
// a signed but malformed envelope is a precise 400.
func TestInboundRefused(t *testing.T) {
	t.Parallel()
	d := inboundDesk(t)
	if _, err := inbound(d, replied, false); !errors.Is(err, baton.ErrForged) {
		t.Errorf("unsigned: %v", err)
	}
	h := http.Header{intercom.SignatureHeader: {intercom.Sign("another-secret", []byte(replied))}}
	if _, err := d.Inbound(t0ctx, "intercom", h, []byte(replied)); !errors.Is(err, baton.ErrForged) {
		t.Errorf("signed with another secret: %v", err)
	}
	h.Set(intercom.SignatureHeader, intercom.Sign(secret, []byte(replied)))
	if _, err := d.Inbound(t0ctx, "intercom", h, []byte(replied+" ")); !errors.Is(err, baton.ErrForged) {
		t.Errorf("body changed after signing: %v", err)
	}
	if _, err := inbound(d, "{not json", false); !errors.Is(err, baton.ErrForged) {
		t.Errorf("unsigned garbage: %v, want forged (verified before parsed)", err)
	}
	for name, body := range map[string]string{
		"garbage":    "{not json",
		"no topic":   `{"type":"notification_event","id":"n"}`,
		"wrong type": `{"type":"event","topic":"conversation.read"}`,
		"no id":      `{"type":"notification_event","id":null,"topic":"conversation.read","data":{"item":{"id":"1"}}}`,
		"no conv id": `{"type":"notification_event","id":"n","topic":"conversation.read","data":{"item":{"type":"conversation"}}}`,
		"bad snooze": `{"type":"notification_event","id":"n","topic":"conversation.admin.snoozed","data":{"item":{"id":"1","snoozed_until":null}}}`,
		"bad item":   `{"type":"notification_event","id":"n","topic":"conversation.read","data":{"item":[1]}}`,
		"object id":  `{"type":"notification_event","id":"n","topic":"conversation.read","data":{"item":{"id":{"a":1}}}}`,
	} {
		if _, err := inbound(d, body, true); baton.ErrorCode(err) != baton.EBADREQUEST {
			t.Errorf("%s: %v, want bad_request", name, err)
		}
	}
}

// TestPartOnce: the same part under another notification id (a webhook
// replayed with a new id) is the same event, so the bot is told it once.
func TestPartOnce(t *testing.T) {
	t.Parallel()
	d := inboundDesk(t)
	a, err := inbound(d, replied, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := inbound(d, strings.Replace(replied, `"id":"notif_1"`, `"id":"notif_9"`, 1), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || len(b) != 1 || a[0].ID != b[0].ID {
		t.Errorf("events %+v and %+v, want one id", a, b)
	}
}
