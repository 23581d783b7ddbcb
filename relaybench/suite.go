package relaybench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Load is one way of offering a pipeline's traffic.
type Load struct {
	Name    string
	Clients int     // concurrent senders
	Rate    float64 // messages per second offered, open loop; 0 = closed loop, as fast as the clients go
}

// Loads are the harness's: closed loop with 8 and with 32 clients, which
// saturate the pipeline, and 8 clients paced at 100 messages a second.
var Loads = []Load{{"closed-8", 8, 0}, {"closed-32", 32, 0}, {"paced-100", 8, 100}}

// pacedFor is how long a paced load offers its traffic.
const pacedFor = 10 * time.Second

// LoadReport is one load through both sides of a pipeline.
type LoadReport struct {
	Load        Load
	Bare, Baton Result
}

// Ratio is Baton's delivered throughput over the baseline's.
func (l LoadReport) Ratio() float64 { return l.Baton.PerSecond / l.Bare.PerSecond }

// SuiteReport is a pipeline through every load.
type SuiteReport struct {
	Pipeline string
	Loads    []LoadReport
}

// Saturation is Baton's p99 at saturation with 8 clients over its p99
// paced: the outbox keeps pace when it stays small.
func (s SuiteReport) Saturation() float64 {
	var sat, paced time.Duration
	for _, l := range s.Loads {
		switch l.Load.Name {
		case "closed-8":
			sat = l.Baton.P99
		case "paced-100":
			paced = l.Baton.P99
		}
	}
	if paced == 0 {
		return 0
	}
	return float64(sat) / float64(paced)
}

// Clean reports whether every message of every run arrived, none under two
// ids, every delivery signed right (repeats under the same id are allowed:
// the receiver dedupes them).
func (s SuiteReport) Clean() bool {
	for _, l := range s.Loads {
		for _, r := range []Result{l.Bare, l.Baton} {
			if r.Losses != 0 || r.Duplicates != 0 || r.Unverified != 0 || r.Messages == 0 {
				return false
			}
		}
	}
	return true
}

// String prints each load's two sides and their ratio.
func (s SuiteReport) String() string {
	var b strings.Builder
	for _, l := range s.Loads {
		fmt.Fprintf(&b, "%s %s (%d clients", s.Pipeline, l.Load.Name, l.Load.Clients)
		if l.Load.Rate > 0 {
			fmt.Fprintf(&b, ", %.0f/s offered", l.Load.Rate)
		}
		fmt.Fprintf(&b, "): ratio %.2f\n  %v\n  %v\n", l.Ratio(), l.Bare, l.Baton)
	}
	fmt.Fprintf(&b, "%s: p99 at saturation (8 clients) / p99 paced = %.1f\n", s.Pipeline, s.Saturation())
	return b.String()
}

// Pipeline is a path through Baton and its baseline, by name: "inbound"
// (agents' replies into the webhook desk's inbound endpoint, delivered to
// the bot as signed events) or "relay" (customers' messages into the bot
// API, delivered to the webhook desk's service).
type Pipeline string

// sides are the pipeline's baseline and Baton.
func (p Pipeline) sides() (bare, baton side, err error) {
	switch p {
	case "inbound":
		return bareInbound, batonInbound, nil
	case "relay":
		return bareRelay, throughBaton, nil
	}
	return nil, nil, fmt.Errorf("relaybench: no pipeline %q (inbound, relay)", p)
}

// Suite runs the pipeline through every load of loads (Loads when nil),
// baseline and then Baton, each on its own fresh store. o.Messages is
// the closed loops' count; a paced load offers pacedFor of traffic at
// most. A loss or a duplicate is reported, not an error.
func Suite(ctx context.Context, o Options, p Pipeline, loads []Load) (SuiteReport, error) {
	bareSide, batonSide, err := p.sides()
	if err != nil {
		return SuiteReport{}, err
	}
	if loads == nil {
		loads = Loads
	}
	o = defaults(o)
	rep := SuiteReport{Pipeline: string(p)}
	for _, l := range loads {
		lo := o
		lo.Clients, lo.Rate = l.Clients, l.Rate
		if o.Profile != "" {
			lo.Profile = fmt.Sprintf("%s-%s-%s.cpu", o.Profile, p, l.Name)
		}
		if l.Rate > 0 {
			lo.Messages = min(o.Messages, int(l.Rate*pacedFor.Seconds()))
		}
		lr := LoadReport{Load: l}
		if lr.Bare, err = bareSide(ctx, lo); err != nil {
			return rep, fmt.Errorf("%s %s bare: %w", p, l.Name, err)
		}
		if lr.Baton, err = batonSide(ctx, lo); err != nil {
			return rep, fmt.Errorf("%s %s baton: %w", p, l.Name, err)
		}
		rep.Loads = append(rep.Loads, lr)
	}
	return rep, nil
}
