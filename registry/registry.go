// Package registry is where desk kinds are registered, and where each
// configured desk's adapter is built. A desk is built once and kept while
// its kind and settings stay the same, so its own caches (tokens, sessions)
// live as long as its configuration. Adding a desk kind touches its own
// package and the list in Kinds, nothing else.
package registry

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/gorgias"
	"github.com/batonhq/baton/inbox"
	"github.com/batonhq/baton/intercom"
	"github.com/batonhq/baton/livechat"
	"github.com/batonhq/baton/llm"
	"github.com/batonhq/baton/webhookdesk"
)

// Kind is a desk kind this build serves.
type Kind struct {
	Name baton.DeskKind
	// Build returns the adapter of a configured desk of this kind, checking
	// its settings; client makes the calls to the desk.
	Build func(dc baton.DeskConfig, client *http.Client) (baton.Desk, error)
	// Secrets names the settings that are secrets: never shown back.
	Secrets []string
}

// Kinds lists the desk kinds this build serves.
func Kinds() []Kind {
	return []Kind{
		{Name: baton.KindInbox, Build: func(dc baton.DeskConfig, _ *http.Client) (baton.Desk, error) { return inbox.New(dc) }},
		{Name: baton.KindWebhook, Build: func(dc baton.DeskConfig, c *http.Client) (baton.Desk, error) { return webhookdesk.New(dc, c) },
			Secrets: []string{webhookdesk.SettingSecret, webhookdesk.SettingPassword}},
		{Name: baton.KindLiveChat, Build: livechat.New,
			Secrets: secrets(livechat.Fields(), func(f livechat.Field) (string, bool) { return f.Name, f.Secret })},
		{Name: baton.KindGorgias, Build: gorgias.New,
			Secrets: secrets(gorgias.Fields(), func(f gorgias.Field) (string, bool) { return f.Name, f.Secret })},
		{Name: baton.KindIntercom, Build: intercom.New,
			Secrets: secrets(intercom.Fields(), func(f intercom.Field) (string, bool) { return f.Name, f.Secret })},
	}
}

// secrets names the secret settings among a kind's fields; field gives
// a field's name and whether it is secret.
func secrets[F any](fields []F, field func(F) (string, bool)) []string {
	var out []string
	for _, f := range fields {
		if name, secret := field(f); secret {
			out = append(out, name)
		}
	}
	return out
}

// Secrets names the secret settings of a desk kind this build serves,
// with the LLM endpoint's key, which every kind may have.
func Secrets(kind baton.DeskKind) []string {
	for _, k := range Kinds() {
		if k.Name == kind {
			return append(slices.Clip(k.Secrets), llm.SettingKey)
		}
	}
	return nil
}

// DeskTimeout bounds one call into a desk unless the client says otherwise.
const DeskTimeout = 10 * time.Second

// Params build a Registry.
type Params struct {
	// Client makes the calls to desks (default: one with DeskTimeout).
	Client *http.Client
	// Kinds are the kinds served (default Kinds()).
	Kinds []Kind
}

// Registry builds and keeps configured desks. It implements baton.Desks.
type Registry struct {
	client *http.Client
	kinds  []Kind

	mu    sync.Mutex
	built map[string]built // desk id → the adapter last built for it
}

type built struct {
	kind     baton.DeskKind
	settings map[string]string // a copy of those it was built with
	desk     baton.Desk
}

// New returns a Registry.
func New(p Params) *Registry {
	if p.Client == nil {
		p.Client = &http.Client{Timeout: DeskTimeout}
	}
	if p.Kinds == nil {
		p.Kinds = Kinds()
	}
	return &Registry{client: p.Client, kinds: p.Kinds, built: map[string]built{}}
}

// Desk returns the adapter of dc: the one built before for the same desk
// id, kind and settings, or a new one. A desk without an id is never kept.
func (r *Registry) Desk(dc baton.DeskConfig) (baton.Desk, error) {
	if dc.ID != "" {
		r.mu.Lock()
		b, ok := r.built[dc.ID]
		r.mu.Unlock()
		if ok && b.kind == dc.Kind && maps.Equal(b.settings, dc.Settings) {
			return b.desk, nil
		}
	}
	i := slices.IndexFunc(r.kinds, func(k Kind) bool { return k.Name == dc.Kind })
	if i < 0 {
		return nil, baton.FieldErrorf("kind", "%q is not a desk kind this build serves; want %s", dc.Kind, r.names())
	}
	// The LLM endpoint's settings are every kind's: checked here, and not
	// given to the kind, which reads only its own.
	if _, _, err := llm.ParseSettings(dc.Settings); err != nil {
		return nil, err
	}
	own := dc
	own.Settings = llm.Without(dc.Settings)
	d, err := r.kinds[i].Build(own, r.client)
	if err != nil || dc.ID == "" {
		return d, err
	}
	r.mu.Lock()
	r.built[dc.ID] = built{kind: dc.Kind, settings: maps.Clone(dc.Settings), desk: d}
	r.mu.Unlock()
	return d, nil
}

// names lists the kinds served, for people: "a, b or c".
func (r *Registry) names() string { return list(r.kinds) }

// Served lists the kinds this build serves, for people: "a, b or c".
func Served() string { return list(Kinds()) }

func list(kinds []Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k.Name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Check builds dc's adapter from desks and runs its credential check now,
// and says what the desk's service status is: not_configured when a
// required setting is missing, unavailable when the settings are wrong or
// the check fails, available otherwise, with the problem found.
func Check(ctx context.Context, desks baton.Desks, dc baton.DeskConfig, obs baton.Observer) (baton.DeskStatus, string) {
	d, err := desks.Desk(dc)
	if err != nil {
		if dc.Missing(err) {
			return baton.NotConfigured, describe(err)
		}
		return baton.Unavailable, describe(err)
	}
	ctx, cancel := context.WithTimeout(ctx, DeskTimeout)
	defer cancel()
	start := time.Now()
	err = d.Check(ctx)
	if obs != nil {
		obs.DeskCall(dc.Kind, "check", time.Since(start), err == nil)
	}
	if err != nil {
		return baton.Unavailable, err.Error()
	}
	return baton.Available, ""
}

// describe renders a desk error for the desk's status: the field at fault, if
// any, and the message.
func describe(err error) string {
	var be *baton.Error
	if !errors.As(err, &be) {
		return err.Error()
	}
	if be.Field != "" {
		return be.Field + ": " + be.Message
	}
	return be.Message
}
