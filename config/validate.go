package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
	"github.com/batonhq/baton/llm"
	"github.com/batonhq/baton/password"
	"github.com/batonhq/baton/stdwebhook"
)

// Validate checks the whole file; newDesk builds each desk's adapter to
// check its settings per kind (nil leaves them unchecked). Ids of
// workspaces, desks, bots and agents are unique across the file because the
// store keys them globally; so are keys, of every kind (admin, API and
// agent keys). The error is an *Error.
func (f *File) Validate(newDesk func(baton.DeskConfig) (baton.Desk, error)) error {
	wsIDs, deskIDs, botIDs, agentIDs, keys := map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	for i, w := range f.Workspaces {
		p := fmt.Sprintf("workspaces[%d]", i)
		if err := f.checkID(p+".id", w.ID, wsIDs); err != nil {
			return err
		}
		for j, k := range w.APIKeys {
			kp := fmt.Sprintf("%s.api_keys[%d]", p, j)
			if strings.TrimSpace(k.Name) == "" {
				return f.errorf(kp+".name", "is required")
			}
			if err := f.checkKey(kp+".key", k.Key, keys); err != nil {
				return err
			}
		}
		kinds := map[string]baton.DeskKind{}
		for j, d := range w.Desks {
			dp := fmt.Sprintf("%s.desks[%d]", p, j)
			if err := f.checkID(dp+".id", d.ID, deskIDs); err != nil {
				return err
			}
			kinds[d.ID] = d.Kind
			switch d.Kind {
			case "":
				// The kinds served are the registry's to say.
				msg := "is required"
				if newDesk != nil {
					_, err := newDesk(d.config(w.ID))
					if _, kinds, ok := strings.Cut(baton.ErrorMessage(err), "; want "); ok {
						msg += ": " + kinds
					}
				}
				return f.errorf(dp+".kind", "%s", msg)
			case baton.KindInbox:
				if len(llm.Without(d.Settings)) > 0 {
					return f.errorf(dp+".settings", "the inbox desk takes no settings but an LLM endpoint's (llm_url, llm_key, llm_model, llm_timeout)")
				}
			}
			if err := f.checkPolicy(dp+".policy", d.Policy); err != nil {
				return err
			}
			if newDesk == nil {
				continue
			}
			dc := d.config(w.ID)
			dc.ID = "" // built to check, never kept
			if err := dc.CheckSettings(func(p baton.DeskConfig) error { _, err := newDesk(p); return err }); err != nil {
				return f.fieldError(dp, err)
			}
		}
		for j, b := range w.Bots {
			bp := fmt.Sprintf("%s.bots[%d]", p, j)
			if err := f.checkID(bp+".id", b.ID, botIDs); err != nil {
				return err
			}
			if b.WebhookURL != "" {
				u, err := url.Parse(b.WebhookURL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return f.errorf(bp+".webhook_url", "%q is not an http or https URL", b.WebhookURL)
				}
				if b.WebhookSecret == "" {
					return f.errorf(bp+".webhook_secret", "is required with webhook_url")
				}
			} else if b.WebhookSecret != "" {
				return f.errorf(bp+".webhook_secret", "is only for a bot with a webhook_url (one that reads the event stream needs none)")
			}
			if b.WebhookSecret != "" {
				if _, err := stdwebhook.ParseSecret(b.WebhookSecret); err != nil {
					e := f.errorf(bp+".webhook_secret", "%s; want \"whsec_\" and the base64 of 24 to 64 random bytes", strings.TrimPrefix(err.Error(), "webhook: "))
					e.Err = err
					return e
				}
			}
			if b.Desk != "" {
				if _, ok := kinds[b.Desk]; !ok {
					return f.errorf(bp+".desk", "no desk %q in this workspace", b.Desk)
				}
			}
			if err := f.checkPolicy(bp+".policy", b.Policy); err != nil {
				return err
			}
		}
		for j, a := range w.InboxAgents {
			ap := fmt.Sprintf("%s.inbox_agents[%d]", p, j)
			if err := f.checkID(ap+".id", a.ID, agentIDs); err != nil {
				return err
			}
			if strings.TrimSpace(a.Name) == "" {
				return f.errorf(ap+".name", "is required: customers and bots see it")
			}
			if a.Email != "" {
				if m, err := mail.ParseAddress(a.Email); err != nil || m.Address != a.Email {
					return f.errorf(ap+".email", "%q is not an email address", a.Email)
				}
			}
			switch kind, ok := kinds[a.Desk]; {
			case a.Desk == "":
				return f.errorf(ap+".desk", "is required: the inbox desk the agent answers")
			case !ok:
				return f.errorf(ap+".desk", "no desk %q in this workspace", a.Desk)
			case kind != baton.KindInbox:
				return f.errorf(ap+".desk", "desk %q is a %s desk; inbox agents answer inbox desks", a.Desk, kind)
			}
			if a.Password != "" {
				if err := password.Validate(a.Password); err != nil {
					return f.errorf(ap+".password", "%v", err)
				}
			}
			if a.Key == "" && a.Password == "" {
				return f.errorf(ap+".key", "is required when there is no password: the agent signs in with a key, a password or both")
			}
			if a.Key != "" {
				if err := f.checkKey(ap+".key", a.Key, keys); err != nil {
					return err
				}
			}
		}
	}
	for i, k := range f.AdminKeys {
		kp := fmt.Sprintf("admin_keys[%d]", i)
		if strings.TrimSpace(k.Name) == "" {
			return f.errorf(kp+".name", "is required")
		}
		if err := f.checkKey(kp+".key", k.Key, keys); err != nil {
			return err
		}
	}
	return nil
}

// validID reports whether s is usable as an id: 1 to 64 letters, digits, '-', '_' or '.'.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkID checks the id at path and that seen (id → path) does not hold it yet.
func (f *File) checkID(path, id string, seen map[string]string) error {
	switch {
	case id == "":
		return f.errorf(path, "is required")
	case !validID(id):
		return f.errorf(path, "%q must be 1 to 64 letters, digits, '-', '_' or '.'", id)
	}
	if prev, ok := seen[id]; ok {
		return f.errorf(path, "%q is already used at %s", id, prev)
	}
	seen[id] = path
	return nil
}

// checkKey checks the admin, API or agent key at path: at least
// baton.MinKeyLen characters, and not held by seen (hash → path) yet.
func (f *File) checkKey(path, key string, seen map[string]string) error {
	if strings.TrimSpace(key) != key || key == "" {
		return f.errorf(path, "is required and must not start or end with white space")
	}
	if n := utf8.RuneCountInString(key); n < baton.MinKeyLen {
		return f.errorf(path, "is %d characters; a key must be at least %d (make one with: openssl rand -hex 24)", n, baton.MinKeyLen)
	}
	h := baton.HashKey(key)
	if prev, ok := seen[h]; ok {
		return f.errorf(path, "is the same key as %s", prev)
	}
	seen[h] = path
	return nil
}

// checkPolicy validates a policy with the engine's own rules.
func (f *File) checkPolicy(path string, p *baton.Policy) error {
	if p == nil {
		return nil
	}
	if err := hours.Validate(*p); err != nil {
		return f.fieldError(path, err)
	}
	if err := p.Check(); err != nil {
		return f.fieldError(path, err)
	}
	return nil
}
