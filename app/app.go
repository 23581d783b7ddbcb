// Package app is Baton's composition root: the one place where the store,
// the desk registry, the engine, the outbox worker, the event hub, the
// metrics, the HTTP API and the web inbox are put together. The binary, the
// desk conformance suite, the benchmarks and the HTTP tests all build Baton
// through New.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
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
	"github.com/batonhq/baton/web"
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
	// CheckEvery is how often Run checks every desk in the store again
	// (default DefaultCheckEvery; negative: never).
	CheckEvery time.Duration
	// SessionKey signs the web inbox's sessions and CSRF tokens: at least
	// web.MinKeyLen bytes, the same on every instance (cmd/baton derives it
	// from the store's secrets key). Nil makes a random one: sessions then
	// hold on this instance only and end when it stops.
	SessionKey []byte
	// SecureCookies marks the web inbox's cookies Secure even on plain
	// HTTP requests: for Baton behind a proxy that terminates TLS.
	SecureCookies bool
	// PublicURL is Baton's address as customers, agents and desks reach it,
	// which uploaded files' links begin with; empty: the address each upload
	// came to.
	PublicURL string
}

// DefaultCheckEvery is how often a running Baton checks its desks. Each
// instance checks on its own: with several, a desk is checked that many
// times a period (checks are cheap and change nothing but the status).
const DefaultCheckEvery = time.Minute

// App is one Baton: everything a process runs.
type App struct {
	Store   baton.Store
	Desks   baton.Desks
	Engine  *engine.Engine
	Worker  *outbox.Worker
	Hub     *hub.Hub
	Metrics *metrics.Metrics
	Handler http.Handler // the HTTP API and the web inbox
	Web     *web.Server  // the web inbox, served by Handler
	log     *slog.Logger
	every   time.Duration
}

// New builds an App over p.Store. Nothing runs until Run.
func New(p Params) *App {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Desks == nil {
		p.Desks = registry.New(registry.Params{})
	}
	if p.CheckEvery == 0 {
		p.CheckEvery = DefaultCheckEvery
	}
	if p.SessionKey == nil {
		p.SessionKey = make([]byte, web.MinKeyLen)
		rand.Read(p.SessionKey)
	}
	a := &App{Store: p.Store, Desks: p.Desks, Hub: new(hub.Hub), Metrics: metrics.New(prometheus.NewRegistry(), p.Store), log: p.Log, every: p.CheckEvery}
	// The web inbox's pages follow every change to a workspace (a customer
	// message writes no bot event), the bot streams only new events. An
	// admin change is committed under its admin scope ("admin:…"), not a
	// workspace: it wakes every page (a disabled agent's ends at once).
	pages := new(hub.Hub)
	var worker *outbox.Worker // set below; commits happen only once the App is built
	a.Engine = engine.New(engine.Params{Store: p.Store, Desks: p.Desks, Log: p.Log, Ignored: a.Metrics.Ignored, Secrets: registry.Secrets,
		Files: engine.FileParams{Key: derive(p.SessionKey, "baton file links"), URL: p.PublicURL}, Committed: func(c engine.Commit) {
			if strings.HasPrefix(c.Workspace, "admin:") {
				pages.PublishAll()
			} else {
				pages.Publish(c.Workspace)
			}
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
	a.Metrics.Lag(worker.Lag)
	if p.Ready == nil {
		p.Ready = a.ready
	}
	checkDesk := func(ctx context.Context, dc baton.DeskConfig) (baton.DeskStatus, string) {
		return registry.Check(ctx, a.Desks, dc, a.Metrics)
	}
	a.Web = web.New(web.Params{Log: p.Log, Engine: a.Engine, Hub: pages, SessionKey: p.SessionKey, Secure: p.SecureCookies, CheckDesk: checkDesk})
	a.Handler = httpapi.NewServer(httpapi.Params{Log: p.Log, Engine: a.Engine, Hub: a.Hub, Metrics: a.Metrics.Handler(), Ready: p.Ready, BodyTimeout: p.BodyTimeout, Web: a.Web,
		CheckDesk: checkDesk})
	return a
}

// Run runs the outbox worker until ctx ends, then lets its running jobs
// finish. Meanwhile it checks every desk in the store every CheckEvery, so
// that a desk that recovered (or failed) with no handoff to show it has
// its status mended within a period.
func (a *App) Run(ctx context.Context) error {
	checking := make(chan struct{})
	go func() { defer close(checking); a.recheck(ctx) }()
	defer func() { <-checking }()
	return a.Worker.Run(ctx)
}

// recheck checks the desks every period until ctx ends.
func (a *App) recheck(ctx context.Context) {
	if a.every < 0 {
		return
	}
	tick := time.NewTicker(a.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		desks, err := a.allDesks(ctx)
		if err == nil {
			a.check(ctx, desks, false)
		} else if ctx.Err() == nil {
			a.log.Error("checking desks failed", "err", err)
		}
	}
}

// allDesks reads every desk of every workspace.
func (a *App) allDesks(ctx context.Context) ([]baton.DeskConfig, error) {
	var desks []baton.DeskConfig
	err := a.Store.View(ctx, func(tx baton.Tx) error {
		ids, err := tx.DeskStatuses()
		if err != nil {
			return err
		}
		desks = desks[:0]
		for id := range ids {
			dc, err := tx.DeskByID(id)
			if baton.ErrorCode(err) == baton.ENOTFOUND {
				continue // deleted meanwhile
			} else if err != nil {
				return err
			}
			desks = append(desks, dc)
		}
		return nil
	})
	return desks, err
}

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
// Run checks every desk in the store again every CheckEvery.
func (a *App) CheckDesks(ctx context.Context, workspaces []string) error {
	var desks []baton.DeskConfig
	err := a.Store.View(ctx, func(tx baton.Tx) error {
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
	a.check(ctx, desks, true)
	return nil
}

// check checks desks and records their status; it logs each desk's when
// always says so or the status changed.
func (a *App) check(ctx context.Context, desks []baton.DeskConfig, always bool) {
	var wg sync.WaitGroup
	for _, dc := range desks {
		wg.Go(func() {
			status, msg := registry.Check(ctx, a.Desks, dc, a.Metrics)
			if ctx.Err() != nil {
				return // shutting down: the desk said nothing about itself
			}
			if err := a.Engine.SetDeskStatus(ctx, baton.DeskState{DeskID: dc.ID, Status: status, LastError: msg}); err != nil {
				a.log.Error("saving desk status failed", "desk", dc.ID, "err", err)
				return
			}
			if !always && status == dc.Status && msg == dc.LastError {
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
}

// derive is a key for one use made from key: HMAC-SHA256(key, use).
func derive(key []byte, use string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(use))
	return m.Sum(nil)
}
