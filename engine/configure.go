package engine

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/stdwebhook"
)

// Change is an optional new value in an update: Set says it is given.
type Change[T any] struct {
	Set bool
	To  T
}

// To returns a Change that sets v.
func To[T any](v T) Change[T] { return Change[T]{Set: true, To: v} }

func (c Change[T]) apply(p *T) {
	if c.Set {
		*p = c.To
	}
}

// SecretSettings says which settings of a desk kind are secrets: never shown,
// never logged, kept when an update leaves them out.
type SecretSettings func(baton.DeskKind) []string

// BotInput creates a bot.
type BotInput struct {
	ID            string // optional: a new id is made
	Name          string
	WebhookURL    string
	WebhookSecret string // optional with WebhookURL: a new one is made
	DeskID        string
	Policy        *baton.Policy
}

// BotUpdate changes what it sets of a bot.
type BotUpdate struct {
	Name       Change[string]
	WebhookURL Change[string]
	DeskID     Change[string]
	Policy     Change[*baton.Policy]
}

// MaxOverlap is the longest two webhook secrets sign together after a rotation.
const MaxOverlap = 7 * 24 * time.Hour

// DefaultOverlap is how long the previous secret signs when a rotation does not say.
const DefaultOverlap = 24 * time.Hour

// checkBot checks a bot as it would be stored.
func checkBot(tx baton.Tx, b baton.Bot) error {
	if err := checkName("name", b.Name, true); err != nil {
		return err
	}
	if err := checkWebhook(b.WebhookURL, b.WebhookSecret); err != nil {
		return err
	}
	if b.DeskID != "" {
		if err := tx.Pin(baton.Pin{WorkspaceID: b.WorkspaceID, DeskID: b.DeskID}); baton.ErrorCode(err) == baton.ENOTFOUND {
			return &baton.Error{Code: baton.EINVALID, Field: "desk_id", Message: fmt.Sprintf("no desk %q in this workspace", b.DeskID), Err: err}
		} else if err != nil {
			return err
		}
	}
	return CheckPolicy("policy", b.Policy)
}

// CreateBot adds a bot. When it has a webhook URL and no secret, a secret is
// made and returned: the only time it is shown (a replay answers without it).
func (e *Engine) CreateBot(ctx context.Context, ws string, in BotInput) (baton.Bot, string, error) {
	if in.ID == "" {
		in.ID = baton.NewID("bot")
	} else if err := checkID("id", in.ID); err != nil {
		return baton.Bot{}, "", err
	}
	if in.WebhookSecret != "" && in.WebhookURL == "" {
		return baton.Bot{}, "", baton.FieldErrorf("webhook_secret", "is only for a bot with a webhook_url (one that reads the event stream needs none)")
	}
	var made string
	if in.WebhookURL != "" && in.WebhookSecret == "" {
		made = stdwebhook.NewSecret()
		in.WebhookSecret = made
	}
	b := baton.Bot{ID: in.ID, WorkspaceID: ws, Name: in.Name, WebhookURL: in.WebhookURL, WebhookSecret: in.WebhookSecret,
		DeskID: in.DeskID, Policy: in.Policy, CreatedAt: now()}
	_, replay, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		if err := checkBot(tx, b); err != nil {
			return "", err
		}
		if _, err := tx.Bot(ws, b.ID); err == nil {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "id", Message: fmt.Sprintf("bot %q exists", b.ID)}
		}
		if err := tx.PutBot(b); baton.ErrorCode(err) == baton.ECONFLICT {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "id", Message: fmt.Sprintf("bot id %q is taken", b.ID), Err: err}
		} else if err != nil {
			return "", err
		}
		return b.ID, audit(ctx, tx, ws, "create", "bot", b.ID, nil, ViewBot(b))
	})
	if err != nil {
		return baton.Bot{}, "", err
	}
	if replay {
		made = ""
	}
	got, err := e.Bot(ctx, ws, b.ID)
	return got, made, err
}

// Bot reads a bot.
func (e *Engine) Bot(ctx context.Context, ws, id string) (b baton.Bot, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := live(tx, ws); err != nil {
			return err
		}
		b, err = tx.Bot(ws, id)
		return err
	})
	return b, err
}

// Bots lists a workspace's bots.
func (e *Engine) Bots(ctx context.Context, ws string) (bots []baton.Bot, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := live(tx, ws); err != nil {
			return err
		}
		bots, err = tx.Bots(ws)
		return err
	})
	return bots, err
}

// changeBot reads a bot, lets fn change it, checks and saves it with its
// audit entry under action. It reports whether the request was a replay
// (fn did not run).
func (e *Engine) changeBot(ctx context.Context, ws, id, action string, fn func(*baton.Bot) error) (baton.Bot, bool, error) {
	_, replay, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		old, err := tx.Bot(ws, id)
		if err != nil {
			return "", err
		}
		b := old
		if err := fn(&b); err != nil {
			return "", err
		}
		if b.WebhookURL != "" && b.WebhookSecret == "" {
			return "", baton.FieldErrorf("webhook_url", "needs a webhook secret: rotate-secret makes one")
		}
		if err := checkBot(tx, b); err != nil {
			return "", err
		}
		if err := tx.PutBot(b); err != nil {
			return "", err
		}
		return id, audit(ctx, tx, ws, action, "bot", id, ViewBot(old), ViewBot(b))
	})
	e.botCfg.drop(id)
	if err != nil {
		return baton.Bot{}, replay, err
	}
	b, err := e.Bot(ctx, ws, id)
	return b, replay, err
}

// UpdateBot changes what u sets of a bot.
func (e *Engine) UpdateBot(ctx context.Context, ws, id string, u BotUpdate) (baton.Bot, error) {
	b, _, err := e.changeBot(ctx, ws, id, "update", func(b *baton.Bot) error {
		u.Name.apply(&b.Name)
		u.WebhookURL.apply(&b.WebhookURL)
		u.DeskID.apply(&b.DeskID)
		u.Policy.apply(&b.Policy)
		return nil
	})
	return b, err
}

// RotateSecret gives a bot a new webhook secret (secret, or a new one when
// empty); a bot that reads the event stream takes its first one so, before
// its webhook_url. The old one keeps signing deliveries for overlap, so the bot can
// change secrets without missing an event; with 0 it stops at once. The
// new secret is returned: the only time it is shown (a replayed request
// answers without it: the rotation it repeats made a secret it cannot show again).
func (e *Engine) RotateSecret(ctx context.Context, ws, id, secret string, overlap time.Duration) (baton.Bot, string, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return baton.Bot{}, "", baton.FieldErrorf("overlap", "must be between 0s (the old secret stops at once) and %s", MaxOverlap)
	}
	if secret == "" {
		secret = stdwebhook.NewSecret()
	} else if err := checkWebhook("", secret); err != nil {
		return baton.Bot{}, "", err
	}
	b, replay, err := e.changeBot(ctx, ws, id, "rotate", func(b *baton.Bot) error {
		// A bot that reads the event stream takes its first secret here,
		// before it is given a webhook_url.
		if b.WebhookSecret == secret {
			return baton.FieldErrorf("secret", "is the bot's current secret")
		}
		b.PreviousSecret, b.PreviousUntil = "", time.Time{}
		if b.WebhookSecret != "" && overlap > 0 {
			b.PreviousSecret, b.PreviousUntil = b.WebhookSecret, now().Add(overlap)
		}
		b.WebhookSecret = secret
		return nil
	})
	if replay || err != nil {
		secret = ""
	}
	return b, secret, err
}

// DeleteBot removes a bot. It is refused while the bot has open handoffs,
// and while an API key is scoped to it.
func (e *Engine) DeleteBot(ctx context.Context, ws, id string) error {
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		b, err := tx.Bot(ws, id)
		if err != nil {
			return "", err
		}
		// Deleted first, so that what is being made for it commits before
		// the checks below, which then see it, or finds it gone.
		if err := tx.DeleteBot(ws, id); err != nil {
			return "", err
		}
		if open, err := tx.OpenHandoffs(baton.OpenQuery{WorkspaceID: ws, BotID: id, Limit: 1}); err != nil {
			return "", err
		} else if len(open) > 0 {
			return "", baton.Errorf(baton.ECONFLICT, "bot %s has open handoffs (%s): end them first", id, open[0].ID)
		}
		keys, err := tx.APIKeys(ws)
		if err != nil {
			return "", err
		}
		for _, k := range keys {
			if k.BotID == id {
				return "", baton.Errorf(baton.ECONFLICT, "API key %s (%s) is scoped to bot %s: revoke it first", k.ID, k.Name, id)
			}
		}
		return id, audit(ctx, tx, ws, "delete", "bot", id, ViewBot(b), nil)
	})
	e.botCfg.drop(id)
	return err
}

// DeskInput creates a desk.
type DeskInput struct {
	ID       string // optional: a new id is made
	Name     string
	Kind     baton.DeskKind
	Settings map[string]string
	Policy   *baton.Policy
}

// DeskUpdate changes what it sets of a desk. Settings merge: a key given
// replaces that setting, a key given as "" removes it, the others stay (so
// secrets need not be sent again).
type DeskUpdate struct {
	Name     Change[string]
	Settings map[string]string
	Policy   Change[*baton.Policy]
}

// checkDesk checks a desk as it would be stored, with its kind's own rules,
// as a configuration file's are: every setting given is checked; required
// ones may come later (the desk is not_configured until then).
func (e *Engine) checkDesk(d baton.DeskConfig) error {
	if err := checkName("name", d.Name, true); err != nil {
		return err
	}
	if d.Kind == "" {
		_, err := e.desks.Desk(baton.DeskConfig{Kind: "?"})
		msg := "is required"
		if _, kinds, ok := strings.Cut(baton.ErrorMessage(err), "; want "); ok {
			msg += ": " + kinds
		}
		return baton.FieldErrorf("kind", "%s", msg)
	}
	if d.Kind == baton.KindInbox && len(d.Settings) > 0 {
		return baton.FieldErrorf("settings", "the inbox desk takes no settings")
	}
	probe := d
	probe.ID = "" // built to check, never kept
	if err := probe.CheckSettings(func(p baton.DeskConfig) error { _, err := e.desks.Desk(p); return err }); err != nil {
		if baton.ErrorField(err) == "" && baton.ErrorCode(err) == baton.EINVALID {
			return &baton.Error{Code: baton.EINVALID, Field: "kind", Message: baton.ErrorMessage(err), Err: err}
		}
		var be *baton.Error
		if e, ok := err.(*baton.Error); ok {
			be = e
		}
		if be == nil {
			return &baton.Error{Code: baton.EINVALID, Field: "settings", Message: err.Error(), Err: err}
		}
		c := *be
		c.Code = baton.EINVALID
		return &c
	}
	return CheckPolicy("policy", d.Policy)
}

// CreateDesk adds a desk.
func (e *Engine) CreateDesk(ctx context.Context, ws string, in DeskInput) (baton.DeskConfig, error) {
	if in.ID == "" {
		in.ID = baton.NewID("desk")
	} else if err := checkID("id", in.ID); err != nil {
		return baton.DeskConfig{}, err
	}
	d := baton.DeskConfig{ID: in.ID, WorkspaceID: ws, Name: in.Name, Kind: in.Kind, Settings: in.Settings, Policy: in.Policy, CreatedAt: now()}
	if err := e.checkDesk(d); err != nil {
		return baton.DeskConfig{}, err
	}
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		if _, err := tx.Desk(ws, d.ID); err == nil {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "id", Message: fmt.Sprintf("desk %q exists", d.ID)}
		}
		if err := tx.PutDesk(d); baton.ErrorCode(err) == baton.ECONFLICT {
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "id", Message: fmt.Sprintf("desk id %q is taken", d.ID), Err: err}
		} else if err != nil {
			return "", err
		}
		return d.ID, audit(ctx, tx, ws, "create", "desk", d.ID, nil, e.viewDesk(d))
	})
	if err != nil {
		return baton.DeskConfig{}, err
	}
	return e.Desk(ctx, ws, d.ID)
}

// viewDesk returns d's view with its kind's secrets.
func (e *Engine) viewDesk(d baton.DeskConfig) DeskView {
	var names []string
	if e.secrets != nil {
		names = e.secrets(d.Kind)
	}
	return ViewDesk(d, names)
}

// ViewDesk returns d's view as the admin API shows it, with its kind's secrets masked.
func (e *Engine) ViewDesk(d baton.DeskConfig) DeskView { return e.viewDesk(d) }

// Desk reads a desk.
func (e *Engine) Desk(ctx context.Context, ws, id string) (d baton.DeskConfig, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := live(tx, ws); err != nil {
			return err
		}
		d, err = tx.Desk(ws, id)
		return err
	})
	return d, err
}

// DeskList lists a workspace's desks.
func (e *Engine) DeskList(ctx context.Context, ws string) (desks []baton.DeskConfig, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := live(tx, ws); err != nil {
			return err
		}
		desks, err = tx.Desks(ws)
		return err
	})
	return desks, err
}

// UpdateDesk changes what u sets of a desk.
func (e *Engine) UpdateDesk(ctx context.Context, ws, id string, u DeskUpdate) (baton.DeskConfig, error) {
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		old, err := tx.Desk(ws, id)
		if err != nil {
			return "", err
		}
		d := old
		d.Settings = maps.Clone(old.Settings)
		if d.Settings == nil {
			d.Settings = map[string]string{}
		}
		for k, v := range u.Settings {
			if v == "" {
				delete(d.Settings, k)
			} else {
				d.Settings[k] = v
			}
		}
		u.Name.apply(&d.Name)
		u.Policy.apply(&d.Policy)
		if err := e.checkDesk(d); err != nil {
			return "", err
		}
		if _, err := e.desks.Desk(d); err != nil && d.Kind != baton.KindInbox {
			// Saved without what it needs (a setting left out): it
			// cannot serve from now, whatever its last check said.
			d.Status, d.LastError = baton.NotConfigured, baton.ErrorMessage(err)
		}
		if err := tx.PutDesk(d); err != nil {
			return "", err
		}
		return id, audit(ctx, tx, ws, "update", "desk", id, e.viewDesk(old), e.viewDesk(d))
	})
	e.deskCfg.drop(id)
	if err != nil {
		return baton.DeskConfig{}, err
	}
	return e.Desk(ctx, ws, id)
}

// DeleteDesk removes a desk. It is refused, naming what holds it, while a
// bot uses it as its desk, an inbox agent answers it, or handoffs are open there.
func (e *Engine) DeleteDesk(ctx context.Context, ws, id string) error {
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		if _, err := live(tx, ws); err != nil {
			return "", err
		}
		d, err := tx.Desk(ws, id)
		if err != nil {
			return "", err
		}
		// Deleted first, so that what is being made for it commits before
		// the checks below, which then see it, or finds it gone.
		if err := tx.DeleteDesk(ws, id); err != nil {
			return "", err
		}
		bots, err := tx.Bots(ws)
		if err != nil {
			return "", err
		}
		for _, b := range bots {
			if b.DeskID == id {
				return "", baton.Errorf(baton.ECONFLICT, "bot %s uses desk %s: give the bot another desk first", b.ID, id)
			}
		}
		agents, err := tx.InboxAgents(ws)
		if err != nil {
			return "", err
		}
		for _, a := range agents {
			if a.DeskID == id {
				return "", baton.Errorf(baton.ECONFLICT, "inbox agent %s answers desk %s: move or remove the agent first", a.ID, id)
			}
		}
		if open, err := tx.OpenHandoffs(baton.OpenQuery{WorkspaceID: ws, DeskID: id, Limit: 1}); err != nil {
			return "", err
		} else if len(open) > 0 {
			return "", baton.Errorf(baton.ECONFLICT, "desk %s has open handoffs (%s): end them first", id, open[0].ID)
		}
		return id, audit(ctx, tx, ws, "delete", "desk", id, e.viewDesk(d), nil)
	})
	e.deskCfg.drop(id)
	return err
}

// checkView is what the audit log keeps of a desk check.
type checkView struct {
	Status    baton.DeskStatus `json:"status"`
	LastError string           `json:"last_error"`
}

// RecordCheck records the outcome of a desk check made now, with its audit entry.
func (e *Engine) RecordCheck(ctx context.Context, s baton.DeskState) (baton.DeskConfig, error) {
	if s.CheckedAt.IsZero() {
		s.CheckedAt = now()
	}
	var d baton.DeskConfig
	_, _, err := e.admin(ctx, func(tx *wtx) (string, error) {
		old, err := tx.DeskByID(s.DeskID)
		if err != nil {
			return "", err
		}
		if err := tx.SetDeskStatus(s); err != nil {
			return "", err
		}
		d = old
		d.Status, d.LastError, d.CheckedAt = s.Status, s.LastError, s.CheckedAt
		return d.ID, audit(ctx, tx, d.WorkspaceID, "check", "desk", d.ID, nil, checkView{s.Status, s.LastError})
	})
	e.deskCfg.drop(s.DeskID)
	return d, err
}
