package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/batonhq/baton/registry"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/livechat"
	"github.com/batonhq/baton/livechatsim"
)

// liveChatWebhooks registers a LiveChat desk's chat webhooks so that they
// reach this Baton at base (its public URL), and reports what is registered.
func liveChatWebhooks(ctx context.Context, e env, getenv func(string) string, deskID, base string, stdout io.Writer) error {
	if e.config == "" {
		return fmt.Errorf("livechat webhooks: --config (or BATON_CONFIG) must name the YAML file that declares the desk")
	}
	if deskID == "" || base == "" {
		return fmt.Errorf("livechat webhooks: --desk and --url are required")
	}
	client := &http.Client{Timeout: deskTimeout}
	cfg, err := loadConfig(e.config, getenv, registry.New(registry.Params{Client: client}))
	if err != nil {
		return err
	}
	var dc baton.DeskConfig
	for _, w := range cfg.Workspaces {
		for _, d := range w.Desks {
			if d.ID == deskID {
				dc = d.desk(w.ID)
			}
		}
	}
	switch {
	case dc.ID == "":
		return fmt.Errorf("livechat webhooks: no desk %q in %s", deskID, e.config)
	case dc.Kind != baton.KindLiveChat:
		return fmt.Errorf("livechat webhooks: desk %q is a %s desk", deskID, dc.Kind)
	}
	url := strings.TrimRight(base, "/") + "/v1/desks/" + dc.ID + "/inbound/webhook"
	rep, err := livechat.RegisterWebhooks(ctx, dc, url, client)
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
