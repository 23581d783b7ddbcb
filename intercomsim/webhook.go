package intercomsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Delivery is one attempt at sending a notification (or a probe).
type Delivery struct {
	NotificationID string // "" for a ping (its id is null) and the HEAD probe
	Topic          string
	Conversation   string
	URL            string
	Method         string
	Body           []byte
	Signature      string
	Attempt        int // 1 for the first try
	Duplicate      bool
	Status         int // 0 when no answer came
	Err            string
}

// notification is a queued notification for one subscription.
type notification struct {
	id, topic, conv, url string
	createdAt            int64
	item                 json.RawMessage
	duplicate            bool
}

// outbox sends notifications one at a time, in order, with retries.
type outbox struct {
	sim    *Sim
	client *http.Client

	mu      sync.Mutex
	queue   []*notification
	held    bool
	busy    bool
	waiters []chan struct{}
	log     []Delivery
	kick    chan struct{}
	quit    chan struct{}
	done    sync.WaitGroup
}

func (o *outbox) start(s *Sim) {
	o.sim, o.client = s, &http.Client{Timeout: s.cfg.Timeout}
	o.kick, o.quit = make(chan struct{}, 1), make(chan struct{})
	o.done.Add(1)
	go o.run()
}

func (o *outbox) stop() {
	o.mu.Lock()
	select {
	case <-o.quit:
	default:
		close(o.quit)
	}
	o.mu.Unlock()
	o.done.Wait()
}

func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// push queues n (twice when duplicating).
func (o *outbox) push(n *notification, twice bool) {
	o.mu.Lock()
	o.queue = append(o.queue, n)
	if twice {
		dup := *n
		dup.duplicate = true
		o.queue = append(o.queue, &dup)
	}
	o.mu.Unlock()
	o.wake()
}

// settled wakes the Flush waiters when nothing is queued or in flight; o.mu is held.
func (o *outbox) settled() {
	if o.busy || (len(o.queue) > 0 && !o.held) {
		return
	}
	for _, w := range o.waiters {
		close(w)
	}
	o.waiters = nil
}

func (o *outbox) run() {
	defer o.done.Done()
	for {
		o.mu.Lock()
		var n *notification
		if !o.held && len(o.queue) > 0 {
			n, o.queue = o.queue[0], o.queue[1:]
			o.busy = true
		} else {
			o.settled()
		}
		o.mu.Unlock()
		if n == nil {
			select {
			case <-o.kick:
			case <-o.quit:
				return
			}
			continue
		}
		o.attempts(n)
		o.mu.Lock()
		o.busy = false
		o.mu.Unlock()
	}
}

// envelope renders n's body for attempt.
func (o *outbox) envelope(n *notification, attempt int) []byte {
	var id any
	if n.id != "" {
		id = n.id
	}
	env := map[string]any{"type": "notification_event", "app_id": o.sim.cfg.AppID, "id": id, "topic": n.topic,
		"created_at": n.createdAt, "delivery_status": "pending", "delivery_attempts": attempt, "delivered_at": 0,
		"first_sent_at": n.createdAt, "links": map[string]any{}, "self": nil,
		"data": map[string]any{"type": "notification_event_data", "item": n.item}}
	if n.topic == TopicPing {
		env["delivery_status"] = nil
	}
	b, _ := json.Marshal(env)
	return b
}

// attempts sends n until it is answered 2xx or the retries run out; a 429
// doubles the wait before the next attempt.
func (o *outbox) attempts(n *notification) {
	retry := o.sim.cfg.Retry
	for attempt := 1; ; attempt++ {
		body := o.envelope(n, attempt)
		d := Delivery{NotificationID: n.id, Topic: n.topic, Conversation: n.conv, URL: n.url, Method: http.MethodPost,
			Body: body, Signature: sign(o.sim.cfg.ClientSecret, body), Attempt: attempt, Duplicate: n.duplicate}
		d.Status, d.Err = o.post(d)
		o.mu.Lock()
		o.log = append(o.log, d)
		o.mu.Unlock()
		if d.Status >= 200 && d.Status < 300 || attempt > len(retry) {
			return
		}
		wait := retry[attempt-1]
		if d.Status == http.StatusTooManyRequests {
			wait *= 2
		}
		select {
		case <-time.After(wait):
		case <-o.quit:
			return
		}
	}
}

func (o *outbox) post(d Delivery) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), o.sim.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, d.Method, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "intercom-parrot-service-client/1.0")
	req.Header.Set("X-Hub-Signature", d.Signature)
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, ""
}

// sign is the X-Hub-Signature of body.
func sign(secret string, body []byte) string {
	h := hmac.New(sha1.New, []byte(secret))
	h.Write(body)
	return "sha1=" + hex.EncodeToString(h.Sum(nil))
}

// Subscribe saves a webhook URL for topics (none: every topic the
// simulator emits). As Intercom does, it first sends the URL a HEAD
// request, which must answer 2xx, then a ping.
func (s *Sim) Subscribe(ctx context.Context, rawURL string, topics ...string) (Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Webhook{}, fmt.Errorf("the webhook URL must be an absolute http(s) URL")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, rawURL, nil)
	req.Header.Set("User-Agent", "intercom-parrot-service-client/1.0")
	resp, err := s.out.client.Do(req)
	probe := Delivery{Topic: "HEAD", URL: rawURL, Method: http.MethodHead, Attempt: 1}
	if err != nil {
		probe.Err = err.Error()
	} else {
		resp.Body.Close()
		probe.Status = resp.StatusCode
	}
	s.out.mu.Lock()
	s.out.log = append(s.out.log, probe)
	s.out.mu.Unlock()
	if err != nil || probe.Status >= 300 {
		return Webhook{}, fmt.Errorf("the HEAD probe of %s failed: status %d %s", rawURL, probe.Status, probe.Err)
	}
	s.mu.Lock()
	h := &Webhook{ID: s.next(), URL: rawURL, Topics: map[string]bool{}}
	for _, t := range topics {
		h.Topics[t] = true
	}
	s.hooks = append(s.hooks, h)
	now := s.cfg.Now().Unix()
	s.mu.Unlock()
	ping, _ := json.Marshal(map[string]string{"type": "ping", "message": "something something interzen"})
	s.out.push(&notification{topic: TopicPing, url: rawURL, createdAt: now, item: ping}, false)
	return *h, nil
}

// notify queues topic's notification about c, carrying parts, to every
// subscription that has it; s.mu is held.
func (s *Sim) notify(topic string, c *Conversation, parts []Part) {
	if len(s.hooks) == 0 {
		return
	}
	if parts == nil {
		parts = []Part{}
	}
	item, _ := json.Marshal(s.view(c, parts, s.cfg.Version))
	now := s.cfg.Now().Unix()
	for _, h := range s.hooks {
		if len(h.Topics) > 0 && !h.Topics[topic] {
			continue
		}
		s.out.push(&notification{id: "notif_" + uuid(), topic: topic, conv: c.ID, url: h.URL, createdAt: now, item: item}, s.faults.duplicate)
	}
}

func uuid() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Hold keeps notifications queued until Release.
func (s *Sim) Hold() { s.out.mu.Lock(); s.out.held = true; s.out.mu.Unlock() }

// Release sends the held notifications, newest first when reverse.
func (s *Sim) Release(reverse bool) {
	o := &s.out
	o.mu.Lock()
	if reverse {
		slices.Reverse(o.queue)
	}
	o.held = false
	o.mu.Unlock()
	o.wake()
}

// Flush waits until no notification is queued (unless held) or in flight.
func (s *Sim) Flush(ctx context.Context) error {
	o := &s.out
	o.mu.Lock()
	w := make(chan struct{})
	o.waiters = append(o.waiters, w)
	o.settled()
	o.mu.Unlock()
	o.wake()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Deliveries lists the delivery attempts made, in order.
func (s *Sim) Deliveries() []Delivery {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return slices.Clone(s.out.log)
}

// Redeliver sends notification id again (the same id and item), as an
// Intercom retry would; false when no such notification went out.
func (s *Sim) Redeliver(id string) bool {
	o := &s.out
	o.mu.Lock()
	i := slices.IndexFunc(o.log, func(d Delivery) bool { return d.NotificationID == id && id != "" })
	if i < 0 {
		o.mu.Unlock()
		return false
	}
	d := o.log[i]
	var env struct {
		CreatedAt int64 `json:"created_at"`
		Data      struct {
			Item json.RawMessage `json:"item"`
		} `json:"data"`
	}
	json.Unmarshal(d.Body, &env)
	o.mu.Unlock()
	o.push(&notification{id: id, topic: d.Topic, conv: d.Conversation, url: d.URL, createdAt: env.CreatedAt, item: env.Data.Item, duplicate: true}, false)
	return true
}
