package main

import (
	"bytes"
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
	"github.com/batonhq/baton/webhook"
)

// config is the YAML file that declares workspaces, so that a deployment can
// be rebuilt from it. It is applied at start as upserts: what it names is
// created or updated; what it no longer names is left in the store.
type config struct {
	Workspaces []workspaceConfig `yaml:"workspaces"`
}

type workspaceConfig struct {
	ID          string        `yaml:"id"`
	Name        string        `yaml:"name"`
	APIKeys     []keyConfig   `yaml:"api_keys"`
	Desks       []deskConfig  `yaml:"desks"`
	Bots        []botConfig   `yaml:"bots"`
	InboxAgents []agentConfig `yaml:"inbox_agents"`
}

type keyConfig struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

type deskConfig struct {
	ID       string            `yaml:"id"`
	Name     string            `yaml:"name"`
	Kind     baton.DeskKind    `yaml:"kind"`
	Settings map[string]string `yaml:"settings"`
	Policy   *baton.Policy     `yaml:"policy"`
}

type botConfig struct {
	ID            string        `yaml:"id"`
	Name          string        `yaml:"name"`
	WebhookURL    string        `yaml:"webhook_url"`
	WebhookSecret string        `yaml:"webhook_secret"`
	Desk          string        `yaml:"desk"`
	Policy        *baton.Policy `yaml:"policy"`
}

type agentConfig struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	Desk  string `yaml:"desk"`
	Key   string `yaml:"key"`
}

// pathError is a configuration error at a path like "workspaces[0].desks[1].kind".
type pathError struct {
	path string
	msg  string
}

func (e *pathError) Error() string { return e.path + ": " + e.msg }

func errorAt(path, format string, args ...any) error {
	return &pathError{path: path, msg: fmt.Sprintf(format, args...)}
}

// fieldError places err, a *baton.Error naming a field relative to a part of
// the config (as hours.Validate and desk constructors return), under path.
func fieldError(path string, err error) error {
	if f := baton.ErrorField(err); f != "" {
		return errorAt(path+"."+f, "%s", baton.ErrorMessage(err))
	}
	var be *baton.Error
	if errors.As(err, &be) {
		return errorAt(path, "%s", be.Message)
	}
	return errorAt(path, "%v", err)
}

// parseConfig reads one YAML document, expanding ${VAR} in string values with
// getenv, and validates it with desks. Every error names its path.
func parseConfig(r io.Reader, getenv func(string) string, desks baton.Desks) (*config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config: the file is larger than %d bytes (1 MiB)", maxConfigBytes)
	}
	// The document is read as a node tree and walked by decoder, which refuses
	// unknown fields as yaml.Decoder.KnownFields does, but names their path.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &config{}, nil
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("config: the file must hold one YAML document")
	}
	var c config
	d := decoder{getenv: getenv, aliased: new(int)}
	if len(doc.Content) > 0 {
		if err := d.decode("", doc.Content[0], reflect.ValueOf(&c).Elem()); err != nil {
			return nil, err
		}
	}
	if err := c.validate(desks); err != nil {
		return nil, err
	}
	return &c, nil
}

// Limits on the config file: its size, and how many values its YAML
// aliases may stand for in all. An alias repeats its anchor's whole subtree,
// and aliases of anchors that hold aliases multiply ("billion laughs"): a
// file of 2 KB could stand for millions of values.
const (
	maxConfigBytes   = 1 << 20
	maxAliasedValues = 10000
)

// decoder fills Go values from a YAML node tree, keeping the path of every
// value so that errors can name it. It refuses unknown and repeated keys, and
// aliases that together stand for more than maxAliasedValues values.
type decoder struct {
	getenv func(string) string
	// aliased counts the values decoded through aliases, over the document.
	aliased *int
	// via is the outermost alias the value being decoded is reached through.
	via *yaml.Node
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func join(path, key string) string {
	if key == "" {
		key = `""` // an empty (or null) key is named, not left out
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d decoder) decode(path string, n *yaml.Node, v reflect.Value) error {
	at := path
	if at == "" {
		at = "config"
	}
	if n.Kind == yaml.AliasNode {
		if d.via == nil {
			d.via = n
		}
		n = n.Alias
	}
	if d.via != nil && d.aliased != nil {
		if *d.aliased++; *d.aliased > maxAliasedValues {
			return errorAt(at, "the YAML alias *%s (line %d) takes the aliases of the file past %d values: aliases may repeat a part of the file, not multiply it",
				d.via.Value, d.via.Line, maxAliasedValues)
		}
	}
	null := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	if reflect.PointerTo(v.Type()).Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			return errorAt(at, "want a single value, not a %s", kindName(n))
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return fieldError(at, err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if null {
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(path, n, v.Elem())
	case reflect.Struct:
		if null {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return errorAt(at, "want a mapping of fields, not a %s", kindName(n))
		}
		fields := map[string]int{}
		var names []string
		for i := range v.NumField() {
			tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if tag != "" && tag != "-" {
				fields[tag] = i
				names = append(names, tag)
			}
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i].Value, n.Content[i+1]
			f, ok := fields[k]
			if !ok {
				return errorAt(join(path, k), "unknown field (line %d); want one of %s", n.Content[i].Line, strings.Join(names, ", "))
			}
			if seen[k] {
				return errorAt(join(path, k), "given twice (line %d)", n.Content[i].Line)
			}
			seen[k] = true
			if err := d.decode(join(path, k), val, v.Field(f)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if null {
			v.SetZero()
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return errorAt(at, "want a list, not a %s", kindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(fmt.Sprintf("%s[%d]", path, i), c, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if null {
			v.SetZero()
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return errorAt(at, "want a mapping, not a %s", kindName(n))
		}
		if v.Type().Key().Kind() != reflect.String {
			return errorAt(at, "unsupported map type %s", v.Type())
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			key := reflect.ValueOf(k).Convert(v.Type().Key())
			if m.MapIndex(key).IsValid() {
				return errorAt(join(path, k), "given twice (line %d)", n.Content[i].Line)
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(join(path, k), n.Content[i+1], e); err != nil {
				return err
			}
			m.SetMapIndex(key, e)
		}
		v.Set(m)
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return errorAt(at, "want a string, not a %s", kindName(n))
		}
		if null {
			v.SetString("")
			return nil
		}
		s, err := d.expand(n.Value)
		if err != nil {
			return errorAt(at, "%v", err)
		}
		v.SetString(s)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return errorAt(at, "want a single value, not a %s", kindName(n))
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return errorAt(at, "%s", te.Errors[0])
		}
		return errorAt(at, "%v", err)
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "single value"
}

// expand replaces every ${NAME} in s with getenv(NAME). A variable that is
// unset or empty is an error: a secret that silently became "" is worse than
// a server that does not start. Anything else, a lone $ included, is kept.
func (d decoder) expand(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%q has a ${ without its closing }", s)
		}
		name := s[i+2 : i+j]
		if !envName(name) {
			return "", fmt.Errorf("${%s} is not an environment variable name", name)
		}
		val := d.getenv(name)
		if val == "" {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(s[:i])
		b.WriteString(val)
		s = s[i+j+1:]
	}
}

func envName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
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

func checkID(path, id string, seen map[string]string) error {
	switch {
	case id == "":
		return errorAt(path, "is required")
	case !validID(id):
		return errorAt(path, "%q must be 1 to 64 letters, digits, '-', '_' or '.'", id)
	}
	if prev, ok := seen[id]; ok {
		return errorAt(path, "%q is already used at %s", id, prev)
	}
	seen[id] = path
	return nil
}

// checkPolicy validates a policy with the engine's own rules.
func checkPolicy(path string, p *baton.Policy) error {
	if p == nil {
		return nil
	}
	if err := hours.Validate(*p); err != nil {
		return fieldError(path, err)
	}
	for name, d := range map[string]baton.Duration{"wait_timeout": p.WaitTimeout, "wait_grace": p.WaitGrace,
		"session_timeout": p.SessionTimeout, "idle_expiry": p.IdleExpiry} {
		if d < 0 {
			return errorAt(path+"."+name, "must not be negative")
		}
	}
	if p.HistoryRounds < 0 {
		return errorAt(path+".history_rounds", "must not be negative")
	}
	return nil
}

// missingSetting reports whether err says a required desk setting is absent
// (rather than present and wrong): such a desk is stored as not_configured.
func missingSetting(d baton.DeskConfig, err error) bool {
	f, ok := strings.CutPrefix(baton.ErrorField(err), "settings.")
	return ok && strings.TrimSpace(d.Settings[f]) == ""
}

// validate checks the whole file. Ids of desks, bots and agents are unique
// across the file because the store keys them globally.
func (c *config) validate(desks baton.Desks) error {
	wsIDs, deskIDs, botIDs, agentIDs, keys := map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	for i, w := range c.Workspaces {
		p := fmt.Sprintf("workspaces[%d]", i)
		if err := checkID(p+".id", w.ID, wsIDs); err != nil {
			return err
		}
		for j, k := range w.APIKeys {
			kp := fmt.Sprintf("%s.api_keys[%d]", p, j)
			if strings.TrimSpace(k.Name) == "" {
				return errorAt(kp+".name", "is required")
			}
			if strings.TrimSpace(k.Key) != k.Key || k.Key == "" {
				return errorAt(kp+".key", "is required and must not start or end with white space")
			}
			h := baton.HashKey(k.Key)
			if prev, ok := keys[h]; ok {
				return errorAt(kp+".key", "is the same key as %s", prev)
			}
			keys[h] = kp + ".key"
		}
		kinds := map[string]baton.DeskKind{}
		for j, d := range w.Desks {
			dp := fmt.Sprintf("%s.desks[%d]", p, j)
			if err := checkID(dp+".id", d.ID, deskIDs); err != nil {
				return err
			}
			kinds[d.ID] = d.Kind
			switch d.Kind {
			case "":
				return errorAt(dp+".kind", "is required: inbox, webhook or livechat")
			case baton.KindInbox:
				if len(d.Settings) > 0 {
					return errorAt(dp+".settings", "the inbox desk takes no settings")
				}
			}
			if err := checkPolicy(dp+".policy", d.Policy); err != nil {
				return err
			}
			dc := d.desk(w.ID)
			if _, err := desks.Desk(dc); err != nil && !missingSetting(dc, err) {
				return fieldError(dp, err)
			}
		}
		for j, b := range w.Bots {
			bp := fmt.Sprintf("%s.bots[%d]", p, j)
			if err := checkID(bp+".id", b.ID, botIDs); err != nil {
				return err
			}
			if b.WebhookURL != "" {
				u, err := url.Parse(b.WebhookURL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return errorAt(bp+".webhook_url", "%q is not an http or https URL", b.WebhookURL)
				}
				if b.WebhookSecret == "" {
					return errorAt(bp+".webhook_secret", "is required with webhook_url")
				}
			}
			if b.WebhookSecret != "" {
				if _, err := webhook.ParseSecret(b.WebhookSecret); err != nil {
					return errorAt(bp+".webhook_secret", "%s; want \"whsec_\" and the base64 of 24 to 64 random bytes", strings.TrimPrefix(err.Error(), "webhook: "))
				}
			}
			if b.Desk != "" {
				if _, ok := kinds[b.Desk]; !ok {
					return errorAt(bp+".desk", "no desk %q in this workspace", b.Desk)
				}
			}
			if err := checkPolicy(bp+".policy", b.Policy); err != nil {
				return err
			}
		}
		for j, a := range w.InboxAgents {
			ap := fmt.Sprintf("%s.inbox_agents[%d]", p, j)
			if err := checkID(ap+".id", a.ID, agentIDs); err != nil {
				return err
			}
			if strings.TrimSpace(a.Name) == "" {
				return errorAt(ap+".name", "is required: customers and bots see it")
			}
			if a.Email != "" {
				if m, err := mail.ParseAddress(a.Email); err != nil || m.Address != a.Email {
					return errorAt(ap+".email", "%q is not an email address", a.Email)
				}
			}
			switch kind, ok := kinds[a.Desk]; {
			case a.Desk == "":
				return errorAt(ap+".desk", "is required: the inbox desk the agent answers")
			case !ok:
				return errorAt(ap+".desk", "no desk %q in this workspace", a.Desk)
			case kind != baton.KindInbox:
				return errorAt(ap+".desk", "desk %q is a %s desk; inbox agents answer inbox desks", a.Desk, kind)
			}
			if strings.TrimSpace(a.Key) != a.Key || a.Key == "" {
				return errorAt(ap+".key", "is required and must not start or end with white space")
			}
			h := baton.HashKey(a.Key)
			if prev, ok := keys[h]; ok {
				return errorAt(ap+".key", "is the same key as %s", prev)
			}
			keys[h] = ap + ".key"
		}
	}
	return nil
}

// desk returns the store's form of d in workspace ws.
func (d deskConfig) desk(ws string) baton.DeskConfig {
	name := d.Name
	if name == "" {
		name = d.ID
	}
	return baton.DeskConfig{ID: d.ID, WorkspaceID: ws, Name: name, Kind: d.Kind, Settings: d.Settings, Policy: d.Policy}
}

// errRace says another instance created a workspace while this one was
// creating it too; applying again finds it.
var errRace = errors.New("workspace created concurrently")

// apply writes the configuration to the store in one transaction. Existing
// rows keep their creation time and, for desks, their last status. Instances
// starting together on one database may all apply the same file.
func (c *config) apply(ctx context.Context, store baton.Store) error {
	for try := 0; ; try++ {
		err := c.applyOnce(ctx, store)
		if !errors.Is(err, errRace) || try == 2 {
			return err
		}
	}
}

func (c *config) applyOnce(ctx context.Context, store baton.Store) error {
	t := time.Now().UTC().Truncate(time.Microsecond)
	return store.Tx(ctx, func(tx baton.Tx) error {
		for i, w := range c.Workspaces {
			p := fmt.Sprintf("workspaces[%d]", i)
			if _, err := tx.Workspace(w.ID); baton.ErrorCode(err) == baton.ENOTFOUND {
				name := w.Name
				if name == "" {
					name = w.ID
				}
				err := tx.CreateWorkspace(baton.Workspace{ID: w.ID, Name: name, CreatedAt: t})
				if baton.ErrorCode(err) == baton.ECONFLICT {
					return fmt.Errorf("%s: %w", p, errRace)
				} else if err != nil {
					return stored(p, err)
				}
			} else if err != nil {
				return stored(p, err)
			}
			// The file is the truth about a workspace's keys and agents: those it
			// no longer lists are revoked.
			var keep []string
			for j, k := range w.APIKeys {
				h := baton.HashKey(k.Key)
				keep = append(keep, h)
				if err := tx.PutAPIKey(baton.APIKey{Hash: h, WorkspaceID: w.ID, Name: k.Name, CreatedAt: t}); err != nil {
					return stored(fmt.Sprintf("%s.api_keys[%d].key", p, j), err)
				}
			}
			if err := tx.DeleteAPIKeys(w.ID, keep); err != nil {
				return stored(p+".api_keys", err)
			}
			for j, d := range w.Desks {
				dc := d.desk(w.ID)
				dc.CreatedAt = t
				if old, err := tx.Desk(w.ID, d.ID); err == nil {
					dc.CreatedAt, dc.Status, dc.LastError, dc.CheckedAt = old.CreatedAt, old.Status, old.LastError, old.CheckedAt
				} else if baton.ErrorCode(err) != baton.ENOTFOUND {
					return stored(fmt.Sprintf("%s.desks[%d]", p, j), err)
				}
				if err := tx.PutDesk(dc); err != nil {
					return stored(fmt.Sprintf("%s.desks[%d].id", p, j), err)
				}
			}
			for j, b := range w.Bots {
				name := b.Name
				if name == "" {
					name = b.ID
				}
				bot := baton.Bot{ID: b.ID, WorkspaceID: w.ID, Name: name, WebhookURL: b.WebhookURL, WebhookSecret: b.WebhookSecret,
					DeskID: b.Desk, Policy: b.Policy, CreatedAt: t}
				if old, err := tx.Bot(w.ID, b.ID); err == nil {
					bot.CreatedAt = old.CreatedAt
				} else if baton.ErrorCode(err) != baton.ENOTFOUND {
					return stored(fmt.Sprintf("%s.bots[%d]", p, j), err)
				}
				if err := tx.PutBot(bot); err != nil {
					return stored(fmt.Sprintf("%s.bots[%d].id", p, j), err)
				}
			}
			var agents []string
			for j, a := range w.InboxAgents {
				agent := baton.InboxAgent{ID: a.ID, WorkspaceID: w.ID, DeskID: a.Desk, Name: a.Name, Email: a.Email,
					KeyHash: baton.HashKey(a.Key), CreatedAt: t}
				agents = append(agents, a.ID)
				if err := tx.PutInboxAgent(agent); err != nil {
					return stored(fmt.Sprintf("%s.inbox_agents[%d].id", p, j), err)
				}
			}
			if err := tx.DeleteInboxAgents(w.ID, agents); err != nil {
				return stored(p+".inbox_agents", err)
			}
		}
		return nil
	})
}

// stored explains a store error met while applying the config at path.
func stored(path string, err error) error {
	if baton.ErrorCode(err) == baton.ECONFLICT {
		return errorAt(path, "is taken by another workspace (%s)", baton.ErrorMessage(err))
	}
	return fmt.Errorf("%s: saving: %w", path, err)
}
