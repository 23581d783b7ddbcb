package gorgiassim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Main serves a simulator on addr until ctx ends, with one user whose
// credentials it prints, for local development.
func Main(ctx context.Context, addr string, stdout io.Writer) error {
	s := New(Config{})
	defer s.Close()
	u := s.AddUser("baton@acme.test", "Baton")
	agent := s.AddUser("agent@acme.test", "Alex Agent")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "gorgias simulator (domain %s): base_url %s, email %s, api_key %s; agent %s (driver: POST %s/_sim/tickets/{id}/reply {\"agent\":%q,\"text\":\"…\"})\n",
		s.Domain(), base, u.Email, u.APIKey, agent.Email, base, agent.Email)
	fmt.Fprintf(stdout, "listening on %s\n", base)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
