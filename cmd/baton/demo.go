package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	demobot "github.com/batonhq/baton/demo"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
)

// demo runs Baton on a temporary SQLite database with the demo workspace
// and its scripted bot (package demo). It prints the curl commands that walk
// a handoff through its states and waits for Ctrl-C; with walk it runs
// those steps itself and returns once the bot has received handoff.ended.
func demo(ctx context.Context, e env, walk bool, log *slog.Logger, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "baton-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := make([]byte, 32)
	rand.Read(key)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "baton.db"), key)
	if err != nil {
		return err
	}
	defer store.Close()

	out := &lockedWriter{w: stdout}
	bot, err := demobot.Start()
	if err != nil {
		return err
	}
	defer bot.Close()
	cfg := bot.File()
	desks := registry.New(registry.Params{})
	if err := cfg.Validate(desks.Desk); err != nil {
		return err
	}

	// The demo's keys are public: listen on loopback unless told otherwise.
	addr := "127.0.0.1:0"
	if e.addr != "" {
		host, port, err := net.SplitHostPort(e.addr)
		if err != nil {
			return fmt.Errorf("BATON_ADDR: %w", err)
		}
		if host == "" {
			host = "127.0.0.1"
		}
		addr = net.JoinHostPort(host, port)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var walked error
	var wg sync.WaitGroup
	started := func(addr string) {
		// Listening on every interface (0.0.0.0, as in a container), the
		// curl lines still name loopback, which reaches it.
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
		}
		base := "http://" + addr
		fmt.Fprintf(out, "\nBaton demo: a temporary SQLite database in %s\n", dir)
		if walk {
			wg.Go(func() {
				walked = bot.Walk(ctx, base, out)
				stop()
			})
			return
		}
		wg.Go(func() { bot.Guide(ctx, base, out) })
	}
	err = serveOn(ctx, log, out, served{addr: addr, store: store, desks: desks, cfg: cfg, sessionKey: sessionKey(key), started: started})
	stop()
	wg.Wait()
	return errors.Join(err, walked)
}

// lockedWriter serialises writes from the server and the demo's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
