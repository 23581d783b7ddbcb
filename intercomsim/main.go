package intercomsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Main serves a simulator on addr until ctx ends, with Baton's admin and
// an agent whose credentials it prints, and a weekday office-hours
// schedule, for local development.
func Main(ctx context.Context, addr string, stdout io.Writer) error {
	s := New(Config{})
	defer s.Close()
	baton, tok := s.AddAdmin("Baton", "baton@acme.test")
	agent, _ := s.AddAdmin("Alex Agent", "alex@acme.test")
	s.AddSchedule(Schedule{Name: "Support hours", TimeZone: "Europe/Paris", Intervals: weekdays(9*60, 18*60)})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "intercom simulator: base_url %s, access_token %s, client_secret %s, admin_id %s; agent %s (driver: POST %s/_sim/conversations/{id}/reply {\"admin_id\":%q,\"text\":\"…\"}; webhooks: POST %s/_sim/webhooks {\"url\":\"…\"})\n",
		base, tok, s.ClientSecret(), baton.ID, agent.Name, base, agent.ID, base)
	fmt.Fprintf(stdout, "listening on %s\n", base)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	shut := make(chan error, 1) // Shutdown's outcome, once ctx ends
	defer context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- srv.Shutdown(sctx)
	})()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-shut
}

// weekdays are intervals open Monday to Friday from start to end minutes.
func weekdays(start, end int) []Interval {
	var out []Interval
	for d := range 5 {
		out = append(out, Interval{StartMinute: d*24*60 + start, EndMinute: d*24*60 + end})
	}
	return out
}
