package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/livechat"
	"github.com/batonhq/baton/livechatsim"
	"github.com/batonhq/baton/registry"
)

// liveChatWebhooks registers a LiveChat desk's chat webhooks so that they
// reach this Baton at base (its public URL), and prints what is registered.
func liveChatWebhooks(ctx context.Context, e env, getenv func(string) string, deskID, base string, stdout io.Writer) error {
	if e.config == "" {
		return fmt.Errorf("livechat webhooks: --config (or BATON_CONFIG) must name the YAML file that declares the desk")
	}
	if deskID == "" || base == "" {
		return fmt.Errorf("livechat webhooks: --desk and --url are required")
	}
	client := &http.Client{Timeout: deskTimeout}
	cfg, err := config.Load(e.config, config.Params{Getenv: getenv, Desk: registry.New(registry.Params{Client: client}).Desk})
	if err != nil {
		return err
	}
	dc, ok := cfg.Desk(deskID)
	if !ok {
		return fmt.Errorf("livechat webhooks: no desk %q in %s", deskID, e.config)
	}
	rep, err := livechat.RegisterDeskWebhooks(ctx, dc, base, client)
	if err != nil {
		return fmt.Errorf("livechat webhooks: %w", err)
	}
	fmt.Fprint(stdout, rep.String())
	if !rep.OK() {
		return fmt.Errorf("livechat webhooks: some webhooks are missing")
	}
	return nil
}

// simLiveChat runs the LiveChat simulator for local development.
func simLiveChat(ctx context.Context, addr string, stdout io.Writer) error {
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	return livechatsim.Main(ctx, addr, stdout)
}
