// Package probe runs a fixed store workload in a process of its own, so
// that each driver's binary size and resident memory can be measured
// apart: the commands under cmd/ link one driver each.
package probe

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/sqlstore"
)

// Run opens a store with open in a temporary directory, seeds it and runs
// Message for messages messages from senders goroutines, then prints the
// time it took and the process's peak resident memory.
func Run(name string, open func(ctx context.Context, path string, key []byte) (*sqlstore.Store, error), messages, senders int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "probe-"+name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rssStart := maxRSS()
	s, err := open(ctx, filepath.Join(dir, "baton.db"), []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		return err
	}
	defer s.Close()
	rssOpen := maxRSS()
	if err := Seed(ctx, s); err != nil {
		return err
	}
	now := time.Now()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			for i := g; i < messages; i += senders {
				if err := Message(ctx, s, i, now); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	el := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%s: %d messages, %d senders: %.2fs, %.0f msg/s; peak RSS %d MiB (at start %d MiB, after open %d MiB); Go heap sys %d MiB\n",
		name, messages, senders, el.Seconds(), float64(messages)/el.Seconds(), maxRSS()>>20, rssStart>>20, rssOpen>>20, ms.HeapSys>>20)
	return nil
}

// Conversations is how many conversations Seed opens and Message spreads
// its messages over.
const Conversations = 64

// Seed makes workspace w1 with Conversations conversations c0, c1, ... of
// bot b1.
func Seed(ctx context.Context, s baton.Store) error {
	return s.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "w1"}); err != nil {
			return err
		}
		for i := range Conversations {
			c := baton.Conversation{ID: fmt.Sprint("c", i), WorkspaceID: "w1", BotID: "b1", ExternalID: fmt.Sprint("x", i)}
			if err := tx.PutConversation(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// Message is what the store does for relayed message i (0, 1, ...) of a
// store that Seed made: a Tx that reads its conversation and adds the
// message, an event and its delivery job due at now; a View that reads the
// conversation's last messages; a Tx that claims up to 4 due jobs and
// finishes them.
func Message(ctx context.Context, s baton.Store, i int, now time.Time) error {
	c := fmt.Sprint("c", i%Conversations)
	err := s.Tx(ctx, func(tx baton.Tx) error {
		if _, err := tx.ConversationByID(c); err != nil {
			return err
		}
		m := &baton.Message{ID: fmt.Sprint("m", i), ConversationID: c, Author: baton.ByCustomer, Text: "Hello, I need help with my order."}
		if err := tx.AddMessage(m); err != nil {
			return err
		}
		e := &baton.Event{ID: fmt.Sprint("e", i), WorkspaceID: "w1", BotID: "b1", Type: "message.created",
			ExternalID: fmt.Sprint("x", i%Conversations), Data: []byte(`{"text":"Hello, I need help with my order."}`)}
		if err := tx.AddEvent(e); err != nil {
			return err
		}
		return tx.PutJob(baton.Job{Kind: "bot.webhook", Lane: c, EventID: e.ID, RunAt: now})
	})
	if err != nil {
		return err
	}
	if err := s.View(ctx, func(tx baton.Tx) error { _, err := tx.LastMessages(c, 10); return err }); err != nil {
		return err
	}
	return s.Tx(ctx, func(tx baton.Tx) error {
		js, err := tx.ClaimJobs(now, 4, time.Minute)
		if err != nil {
			return err
		}
		for _, j := range js {
			if err := tx.FinishJob(j.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// maxRSS is the process's peak resident set in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10
}

// Main is a probe command's body: it reads [messages [senders]] from the
// command line (20,000 and 32 when absent), runs the workload on open and
// exits 1 with the error when it fails.
func Main(name string, open func(ctx context.Context, path string, key []byte) (*sqlstore.Store, error)) {
	n, senders := 20000, 32
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		senders, _ = strconv.Atoi(os.Args[2])
	}
	if err := Run(name, open, n, senders); err != nil {
		fmt.Fprintln(os.Stderr, "probe-"+name+":", err)
		os.Exit(1)
	}
}
