// Package app is Baton's composition root: the one place where the store,
// the desk registry, the engine, the outbox worker, the event hub, the
// metrics and the HTTP API are put together. The binary, the desk
// conformance suite, the benchmarks and the HTTP tests all build Baton
// through New.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/httpapi"
	"github.com/batonhq/baton/hub"
	"github.com/batonhq/baton/metrics"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/registry"
)

// Params build an App. Only Store is required.
type Params struct {
	Store baton.Store
	Log   *slog.Logger
	// Desks builds desk adapters (default: the registry of every kind,
	// calling desks with its default client).
	Desks baton.Desks
	// Worker tunes the outbox.
	Worker outbox.Config
	// Ready answers /readyz (default: the store answers a read).
	Ready func(context.Context) error
	// BodyTimeout is how long a request body may take (default httpapi.BodyTimeout).
	BodyTimeout time.Duration
	// Recorded, when not nil, is called with every job whose outcome has
	// been committed: tests wait on it instead of polling.
	Recorded func(j baton.Job, err error)
}

// App is one Baton: everything a process runs.
type App struct {
	Store   baton.Store
	Desks   baton.Desks
	Engine  *engine.Engine
	Worker  *outbox.Worker
	Hub     *hub.Hub
	Metrics *metrics.Metrics
	Handler http.Handler // the HTTP API
	log     *slog.Logger
}

// New builds an App over p.Store. Nothing runs until Run.
func New(p Params) *App {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Desks == nil {
		p.Desks = registry.New(registry.Params{})
	}
	a := &App{Store: p.Store, Desks: p.Desks, Hub: new(hub.Hub), Metrics: metrics.New(prometheus.NewRegistry(), p.Store), log: p.Log}
	var worker *outbox.Worker // set below; commits happen only once the App is built
	a.Engine = engine.New(engine.Params{Store: p.Store, Desks: p.Desks, Log: p.Log, Committed: func(c engine.Commit) {
		if c.Events {
			a.Hub.Publish(c.Workspace)
		}
		for _, r := range c.Ended {
			a.Metrics.Ended(r)
		}
		for _, d := range c.Waited {
			a.Metrics.Waited(d)
		}
		if c.Jobs {
			worker.Wake()
		}
	}})
	worker = outbox.New(outbox.Params{Store: p.Store, Engine: a.Engine, Desks: p.Desks, Log: p.Log, Obs: a.Metrics, Config: p.Worker, Recorded: p.Recorded})
	a.Worker = worker
	if p.Ready == nil {
		p.Ready = a.ready
	}
	a.Handler = httpapi.NewServer(httpapi.Params{Log: p.Log, Engine: a.Engine, Hub: a.Hub, Metrics: a.Metrics.Handler(), Ready: p.Ready, BodyTimeout: p.BodyTimeout})
	return a
}

// Run runs the outbox worker until ctx ends, then lets its running jobs
// finish.
func (a *App) Run(ctx context.Context) error { return a.Worker.Run(ctx) }

// ready reports whether the store answers a write transaction within 2 s.
func (a *App) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return a.Store.Tx(ctx, func(tx baton.Tx) error {
		if _, err := tx.Workspace(""); baton.ErrorCode(err) != baton.ENOTFOUND {
			return err
		}
		return nil
	})
}

// CheckDesks checks every desk of the workspaces, all at once, and records
// each one's status: available when its adapter builds and its check passes,
// not_configured when required settings are missing, unavailable otherwise.
func (a *App) CheckDesks(ctx context.Context, workspaces []string) error {
	var desks []baton.DeskConfig
	err := a.Store.View(ctx, func(tx baton.Tx) error {
		desks = desks[:0]
		for _, ws := range workspaces {
			ds, err := tx.Desks(ws)
			if err != nil {
				return err
			}
			desks = append(desks, ds...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading desks: %w", err)
	}
	var wg sync.WaitGroup
	for _, dc := range desks {
		wg.Go(func() {
			status, msg := registry.Check(ctx, a.Desks, dc, a.Metrics)
			if err := a.Engine.SetDeskStatus(ctx, baton.DeskState{DeskID: dc.ID, Status: status, LastError: msg}); err != nil {
				a.log.Error("saving desk status failed", "desk", dc.ID, "err", err)
				return
			}
			lvl := slog.LevelInfo
			if status != baton.Available {
				lvl = slog.LevelWarn
			}
			a.log.Log(ctx, lvl, "desk checked", "workspace", dc.WorkspaceID, "desk", dc.ID, "kind", string(dc.Kind), "status", string(status), "problem", msg)
		})
	}
	wg.Wait()
	return nil
}
