// Package hub tells the event streams of one process that a workspace has
// new events, so that they read them at once instead of at their next poll.
package hub

import "sync"

// Hub fans signals out to the subscribers of each workspace. The zero
// value is ready to use.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{} // workspace → subscribers
}

// Subscribe returns a channel that receives a signal whenever Publish is
// called for workspace ws, and a function to stop.
func (h *Hub) Subscribe(ws string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan struct{}]struct{}{}
	}
	if h.subs[ws] == nil {
		h.subs[ws] = map[chan struct{}]struct{}{}
	}
	h.subs[ws][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[ws], ch)
		if len(h.subs[ws]) == 0 {
			delete(h.subs, ws)
		}
		h.mu.Unlock()
	}
}

// Publish signals the subscribers of workspace ws; a subscriber that has
// a signal pending gets no second one.
func (h *Hub) Publish(ws string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[ws] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// PublishAll signals the subscribers of every workspace: for a change
// whose workspaces are not known, such as one the admin API made.
func (h *Hub) PublishAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, subs := range h.subs {
		for ch := range subs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}
