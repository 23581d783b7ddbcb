package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/gorgias"
	"github.com/batonhq/baton/gorgiassim"
	"github.com/batonhq/baton/registry"
)

// gorgiasIntegration creates a Gorgias desk's HTTP integration so that it
// reaches this Baton at base (its public URL), or prints it to paste.
func gorgiasIntegration(ctx context.Context, e env, getenv func(string) string, deskID, base string, print bool, stdout io.Writer) error {
	if e.config == "" {
		return fmt.Errorf("gorgias integration: --config (or BATON_CONFIG) must name the YAML file that declares the desk")
	}
	if deskID == "" || base == "" {
		return fmt.Errorf("gorgias integration: --desk and --url are required")
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("gorgias integration: --url must be Baton's public address, an http or https URL like https://baton.example.com, not %q", base)
	}
	client := &http.Client{Timeout: deskTimeout}
	cfg, err := config.Load(e.config, config.Params{Getenv: getenv, Desk: registry.New(registry.Params{Client: client}).Desk})
	if err != nil {
		return err
	}
	dc, ok := cfg.Desk(deskID)
	if !ok || dc.Kind != baton.KindGorgias {
		return fmt.Errorf("gorgias integration: no Gorgias desk %q in %s", deskID, e.config)
	}
	st, err := gorgias.ParseSettings(dc.Settings)
	if err != nil {
		return fmt.Errorf("gorgias integration: %w", err)
	}
	tmpl := gorgias.Template(base, dc.ID, st.Token)
	if print {
		fmt.Fprintf(stdout, "In Gorgias: Settings → HTTP integration → Add HTTP integration, then fill in:\n\n%s", tmpl.Print())
		return nil
	}
	in, created, err := gorgias.RegisterIntegration(ctx, dc, base, client)
	if err != nil {
		return fmt.Errorf("gorgias integration: %w", err)
	}
	state := "already there"
	if created {
		state = "created now"
	}
	fmt.Fprintf(stdout, "HTTP integration %d %q: %s\n%s", in.ID, in.Name, state, tmpl.Print())
	return nil
}

// simGorgias runs the Gorgias simulator for local development.
func simGorgias(ctx context.Context, addr string, stdout io.Writer) error {
	if addr == "" {
		addr = "127.0.0.1:8091"
	}
	return gorgiassim.Main(ctx, addr, stdout)
}
