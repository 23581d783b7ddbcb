package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/intercom"
	"github.com/batonhq/baton/intercomsim"
	"github.com/batonhq/baton/llm"
	"github.com/batonhq/baton/registry"
)

// actorHours is the audit log's actor of baton intercom hours.
const actorHours = "intercom hours"

// intercomHours imports an Intercom desk's office hours (a schedule and
// its exceptions) into the desk's policy through the engine, or prints
// them as YAML.
func intercomHours(ctx context.Context, e env, o opts, log *slog.Logger, stdout io.Writer) error {
	if o.desk == "" {
		return fmt.Errorf("intercom hours: --desk is required; try: baton intercom hours --help")
	}
	store, _, err := openStore(ctx, e, log)
	if err != nil {
		return err
	}
	defer store.Close()
	client := &http.Client{Timeout: deskTimeout}
	eng := app.New(app.Params{Store: store, Log: log, Desks: registry.New(registry.Params{Client: client})}).Engine // built, never run
	var dc baton.DeskConfig
	err = store.View(ctx, func(tx baton.Tx) (err error) { dc, err = tx.DeskByID(o.desk); return err })
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND || (err == nil && dc.Kind != baton.KindIntercom):
		return fmt.Errorf("intercom hours: no Intercom desk %q in %s", o.desk, e.where())
	case err != nil:
		return err
	}
	own := dc
	own.Settings = llm.Without(dc.Settings) // the LLM endpoint's settings are the registry's, not the kind's
	d, err := intercom.NewDesk(own, client)
	if err != nil {
		return fmt.Errorf("intercom hours: desk %s: %w", dc.ID, err)
	}
	h, err := d.OfficeHours(ctx, o.schedule, time.Now())
	if err != nil {
		return fmt.Errorf("intercom hours: %w", err)
	}
	pol := baton.Policy{}
	if dc.Policy != nil {
		pol = *dc.Policy
	}
	pol.Zone, pol.Periods = h.Zone, h.Periods
	for _, n := range h.Notes {
		fmt.Fprintf(stdout, "# note: %s\n", n) // a YAML comment, so --print stays pasteable
	}
	if o.print {
		b, err := yaml.Marshal(map[string]any{"zone": pol.Zone, "periods": pol.Periods})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# desk %s, policy: office hours %q from Intercom\n%s", dc.ID, h.Schedule.Name, b)
		return nil
	}
	if _, err := eng.UpdateDesk(engine.WithActor(ctx, actorHours), dc.WorkspaceID, dc.ID, engine.DeskUpdate{Policy: engine.To(&pol)}); err != nil {
		return fmt.Errorf("intercom hours: storing the periods of desk %s: %w", dc.ID, err)
	}
	fmt.Fprintf(stdout, "desk %s: office hours %q (%s) stored as %d service-period rules:\n", dc.ID, h.Schedule.Name, zoneName(pol.Zone), len(pol.Periods))
	for _, p := range pol.Periods {
		fmt.Fprintf(stdout, "  %s\n", describePeriod(p))
	}
	return nil
}

func zoneName(z string) string {
	if z == "" {
		return "UTC"
	}
	return z
}

// describePeriod writes a rule on one line: "weekly mon,tue 09:00-18:00".
func describePeriod(p baton.Period) string {
	switch {
	case p.Kind == baton.Weekly:
		return fmt.Sprintf("weekly %s %s-%s", strings.Join(p.Days, ","), p.Start, p.End)
	case p.Closed:
		return fmt.Sprintf("custom %s closed", p.Date)
	}
	return fmt.Sprintf("custom %s %s-%s", p.Date, p.Start, p.End)
}

// simIntercom runs the Intercom simulator for local development.
func simIntercom(ctx context.Context, addr string, stdout io.Writer) error {
	if addr == "" {
		addr = "127.0.0.1:8092"
	}
	return intercomsim.Main(ctx, addr, stdout)
}
