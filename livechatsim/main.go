package livechatsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Credentials Main seeds, fixed so that local configurations keep working
// across restarts.
const (
	MainClientID  = "5a5e2c1d3b4f4e6a8c7d9e0f1a2b3c4d"
	MainSecret    = "sim-client-secret"
	MainAgent     = "agent@example.com"
	MainAccountID = "6f0c2c4e-4a53-4f7c-9d8e-2b1a6c3d5e7f"
	MainPAT       = "dal:simulator-personal-access-token"
)

// Main serves a simulator on addr until ctx is done: the body of
// `baton sim livechat`. It seeds group 1 "Support", an owner agent
// accepting chats in groups 0 and 1, and an app (redirect URI
// http://localhost), and prints the address and credentials to stdout.
func Main(ctx context.Context, addr string, stdout io.Writer) error {
	s := New(Config{})
	defer s.Close()
	s.AddGroup(1, "Support")
	app := s.AddApp(App{ClientID: MainClientID, Secret: MainSecret, RedirectURI: "http://localhost"})
	a, err := s.AddAgent(Agent{ID: MainAgent, Name: "Agent Smith", AccountID: MainAccountID, PAT: MainPAT,
		Role: "owner", Groups: map[int]string{0: "normal", 1: "normal"}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		base = fmt.Sprintf("http://localhost:%d", a.Port)
	}
	fmt.Fprintf(stdout, "LiveChat simulator (API v3.6) listening on %s\n", base)
	fmt.Fprintf(stdout, "  organization_id  %s\n  license_id       %d\n", s.OrganizationID(), s.LicenseID())
	fmt.Fprintf(stdout, "  agent            %s (account_id %s, PAT %s)\n", a.ID, a.AccountID, a.PAT)
	fmt.Fprintf(stdout, "  authorization    %s\n", a.Basic())
	fmt.Fprintf(stdout, "  client_id        %s\n  client_secret    %s\n", app.ClientID, app.Secret)
	fmt.Fprintf(stdout, "  driver           %s/sim/state\n", base)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
