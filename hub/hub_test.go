package hub

import "testing"

// TestPublish: subscribers of a workspace get one pending signal however
// often it is published, others none, and none after they stop.
func TestPublish(t *testing.T) {
	t.Parallel()
	var h Hub
	a, stopA := h.Subscribe("ws1")
	b, stopB := h.Subscribe("ws2")
	defer stopB()
	h.Publish("ws1")
	h.Publish("ws1")
	select {
	case <-a:
	default:
		t.Fatal("no signal for ws1")
	}
	select {
	case <-a:
		t.Fatal("two signals pending")
	case <-b:
		t.Fatal("ws2 was signalled")
	default:
	}
	stopA()
	h.Publish("ws1")
	select {
	case <-a:
		t.Fatal("signal after stop")
	default:
	}
	if len(h.subs) != 1 {
		t.Fatalf("subscribers left: %v", h.subs)
	}
}

// TestPublishAll: every workspace's subscribers get a signal.
func TestPublishAll(t *testing.T) {
	t.Parallel()
	var h Hub
	a, stopA := h.Subscribe("ws1")
	defer stopA()
	b, stopB := h.Subscribe("ws2")
	defer stopB()
	h.PublishAll()
	for name, ch := range map[string]<-chan struct{}{"ws1": a, "ws2": b} {
		select {
		case <-ch:
		default:
			t.Errorf("no signal for %s", name)
		}
	}
}
