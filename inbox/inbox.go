// Package inbox is Baton's built-in desk: handoffs wait in a queue that people
// answer through Baton's own agent API, so Baton works with no desk account.
// The agents' actions (claim, reply, end) are the engine's: they change the
// handoff in Baton's store, where the holder is checked in the same write.
package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/batonhq/baton"
)

// Desk is the inbox as a baton.Desk. The transcript is Baton's own store, so
// opening, sending and closing need no outside call.
type Desk struct{}

// New returns the inbox desk for a configuration; it has no settings.
func New(baton.DeskConfig) (*Desk, error) { return &Desk{}, nil }

// Capabilities: agents see attachments and names; customers can end.
func (*Desk) Capabilities() baton.Capabilities {
	return baton.Capabilities{Attachments: true, AgentProfile: true, EndByCustomer: true}
}

// Check always succeeds: the inbox is part of Baton.
func (*Desk) Check(context.Context) error { return nil }

// Open queues the handoff; its reference is the handoff id, and its data
// the brief (JSON), which the inbox shows above the conversation.
func (*Desk) Open(_ context.Context, r baton.OpenRequest) (baton.Handle, error) {
	b, err := json.Marshal(r.Brief)
	if err != nil {
		return baton.Handle{}, &baton.DeskError{Permanent: true, Err: err}
	}
	return baton.Handle{Ref: r.HandoffID, Data: string(b)}, nil
}

// Send does nothing: agents read messages from the transcript.
func (*Desk) Send(context.Context, baton.Handle, baton.Message) error { return nil }

// Close does nothing: the handoff's state is the inbox's state.
func (*Desk) Close(context.Context, baton.Handle, baton.EndReason) error { return nil }

// Inbound is not used: agents act through the agent API. Every request fails
// verification (nothing could verify it), which answers it exactly as a
// request for a desk that does not exist or with a wrong secret.
func (*Desk) Inbound(context.Context, string, http.Header, []byte) ([]baton.DeskEvent, error) {
	return nil, fmt.Errorf("%w: the inbox desk takes no inbound webhooks", baton.ErrForged)
}
