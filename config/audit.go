package config

import (
	"encoding/json"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// AuditJSON returns how the audit log shows obj, a baton.Workspace,
// APIKey, AdminKey, Bot, DeskConfig or InboxAgent: as the admin API shows
// it (engine's views), secrets masked: a secret is "set" or not, a key
// shows its prefix, hashes are left out. A desk's secret settings are those
// secrets names for its kind (nil: none) and those whose names say so. Any
// other value is JSON null.
func AuditJSON(obj any, secrets engine.SecretSettings) json.RawMessage {
	var v any
	switch o := obj.(type) {
	case baton.Workspace:
		v = engine.ViewWorkspace(o)
	case baton.APIKey:
		v = engine.ViewKey(o)
	case baton.AdminKey:
		k := adminKeyView{ID: o.ID, Name: o.Name, Prefix: o.Prefix, CreatedAt: o.CreatedAt}
		if !o.LastUsedAt.IsZero() {
			k.LastUsedAt = &o.LastUsedAt
		}
		v = k
	case baton.Bot:
		v = engine.ViewBot(o)
	case baton.DeskConfig:
		var names []string
		if secrets != nil {
			names = secrets(o.Kind)
		}
		v = engine.ViewDesk(o, names)
	case baton.InboxAgent:
		v = engine.ViewAgent(o)
	default:
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		// The views hold strings, times and policies: they always encode.
		panic("config: encoding an audit view: " + err.Error())
	}
	return b
}

// adminKeyView is an admin key as the audit log shows it: never the
// secret or its hash.
type adminKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}
