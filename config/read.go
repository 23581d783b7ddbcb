package config

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
)

// reader fills the file's types from a YAML node tree, walking its mappings
// and lists itself so that every error names the path and line of the value
// at fault. It refuses unknown and repeated keys, as yaml.Decoder.KnownFields
// does, and aliases that together stand for more than maxAliased values.
type reader struct {
	getenv func(string) string
	// aliased counts the values read through aliases, over the document.
	aliased int
	// lines records the line of every path read.
	lines map[string]int
}

// value is one node being read: its path, the line it is named on, and the
// outermost alias it is reached through, if any.
type value struct {
	path string
	line int
	node *yaml.Node
	via  *yaml.Node
}

// fill reads one value into the place it was made for.
type fill func(v value) error

// field is a key of a mapping of fields and how to read its value.
type field struct {
	name string
	fill fill
}

func (v value) errorf(format string, args ...any) *Error {
	path := v.path
	if path == "" {
		path = "config"
	}
	return &Error{Path: path, Line: v.line, Message: fmt.Sprintf(format, args...)}
}

// read resolves the node n at path, reached through alias via (if any) and
// named at the node at (a key, or n itself), records its line and fills it.
func (r *reader) read(path string, n, via, at *yaml.Node, fill fill) error {
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if via == nil {
			via = n
		}
		if n.Alias == nil || hops == maxAliased {
			return value{path: path, line: n.Line}.errorf("the YAML alias *%s stands for no value", n.Value)
		}
		n = n.Alias
	}
	v := value{path: path, line: at.Line, node: n, via: via}
	if via != nil {
		v.line = via.Line
		if r.aliased++; r.aliased > maxAliased {
			return v.errorf("the YAML alias *%s (line %d) takes the aliases of the file past %d values: aliases may repeat a part of the file, not multiply it",
				via.Value, via.Line, maxAliased)
		}
	}
	if path != "" {
		r.lines[path] = v.line
	}
	return fill(v)
}

func null(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "single value"
}

func join(path, key string) string {
	if key == "" {
		key = `""` // an empty (or null) key is named, not left out
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// object reads a mapping of the given fields; null leaves them as they are.
func (r *reader) object(fields ...field) fill {
	return func(v value) error {
		if null(v.node) {
			return nil
		}
		if v.node.Kind != yaml.MappingNode {
			return v.errorf("want a mapping of fields, not a %s", kindName(v.node))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(v.node.Content); i += 2 {
			k := v.node.Content[i]
			at := value{path: join(v.path, k.Value), line: k.Line}
			if v.via != nil {
				at.line = v.via.Line
			}
			var f *field
			for j := range fields {
				if fields[j].name == k.Value {
					f = &fields[j]
				}
			}
			if f == nil {
				names := make([]string, len(fields))
				for j, f := range fields {
					names[j] = f.name
				}
				return at.errorf("unknown field; want one of %s", strings.Join(names, ", "))
			}
			if seen[k.Value] {
				return at.errorf("given twice")
			}
			seen[k.Value] = true
			if err := r.read(at.path, v.node.Content[i+1], v.via, k, f.fill); err != nil {
				return err
			}
		}
		return nil
	}
}

// list reads a list into *p, each element with elem; null empties it.
func list[T any](r *reader, p *[]T, elem func(*T) fill) fill {
	return func(v value) error {
		if null(v.node) {
			*p = nil
			return nil
		}
		if v.node.Kind != yaml.SequenceNode {
			return v.errorf("want a list, not a %s", kindName(v.node))
		}
		s := make([]T, len(v.node.Content))
		for i, n := range v.node.Content {
			if err := r.read(fmt.Sprintf("%s[%d]", v.path, i), n, v.via, n, elem(&s[i])); err != nil {
				return err
			}
		}
		*p = s
		return nil
	}
}

// optional reads a mapping of fields into a new *T; null leaves *p nil.
func optional[T any](p **T, fields func(*T) fill) fill {
	return func(v value) error {
		if null(v.node) {
			return nil
		}
		if *p == nil {
			*p = new(T)
		}
		return fields(*p)(v)
	}
}

// dict reads a mapping of strings into *p; null empties it.
func (r *reader) dict(p *map[string]string) fill {
	return func(v value) error {
		if null(v.node) {
			*p = nil
			return nil
		}
		if v.node.Kind != yaml.MappingNode {
			return v.errorf("want a mapping, not a %s", kindName(v.node))
		}
		m := make(map[string]string, len(v.node.Content)/2)
		for i := 0; i+1 < len(v.node.Content); i += 2 {
			k := v.node.Content[i]
			if _, ok := m[k.Value]; ok {
				at := value{path: join(v.path, k.Value), line: k.Line}
				if v.via != nil {
					at.line = v.via.Line
				}
				return at.errorf("given twice")
			}
			var s string
			if err := r.read(join(v.path, k.Value), v.node.Content[i+1], v.via, k, r.str(&s)); err != nil {
				return err
			}
			m[k.Value] = s
		}
		*p = m
		return nil
	}
}

// str reads a string, expanding ${NAME}; null is "".
func (r *reader) str(p *string) fill { return text(r, p) }

// text reads a string of type S, expanding ${NAME}; null is "".
func text[S ~string](r *reader, p *S) fill {
	return func(v value) error {
		if v.node.Kind != yaml.ScalarNode {
			return v.errorf("want a string, not a %s", kindName(v.node))
		}
		if null(v.node) {
			*p = ""
			return nil
		}
		s, err := r.expand(v.node.Value)
		if err != nil {
			e := v.errorf("%v", err)
			e.Err = err
			return e
		}
		*p = S(s)
		return nil
	}
}

// scalar reads a bool or a number as YAML does.
func scalar[T bool | int](p *T) fill {
	return func(v value) error {
		if v.node.Kind != yaml.ScalarNode {
			return v.errorf("want a single value, not a %s", kindName(v.node))
		}
		if err := v.node.Decode(p); err != nil {
			msg := err.Error()
			var te *yaml.TypeError
			if errors.As(err, &te) && len(te.Errors) > 0 {
				msg = te.Errors[0]
			}
			// The line is in the error's place already.
			if rest, ok := strings.CutPrefix(msg, "line "); ok {
				if _, after, ok := strings.Cut(rest, ": "); ok {
					msg = after
				}
			}
			e := v.errorf("%s", msg)
			e.Err = err
			return e
		}
		return nil
	}
}

// duration reads a duration like "60s", or a number of seconds.
func duration(p *baton.Duration) fill {
	return func(v value) error {
		if v.node.Kind != yaml.ScalarNode {
			return v.errorf("want a single value, not a %s", kindName(v.node))
		}
		if err := p.UnmarshalText([]byte(v.node.Value)); err != nil {
			e := v.errorf("%s", baton.ErrorMessage(err))
			e.Err = err
			return e
		}
		return nil
	}
}

// The fields of each type of the file, in the order errors list them.

func (r *reader) file(f *File) fill {
	return r.object(
		field{"workspaces", list(r, &f.Workspaces, r.workspace)},
		field{"admin_keys", list(r, &f.AdminKeys, r.adminKey)},
	)
}

func (r *reader) adminKey(k *AdminKey) fill {
	return r.object(
		field{"name", r.str(&k.Name)},
		field{"key", r.str(&k.Key)},
	)
}

func (r *reader) workspace(w *Workspace) fill {
	return r.object(
		field{"id", r.str(&w.ID)},
		field{"name", r.str(&w.Name)},
		field{"api_keys", list(r, &w.APIKeys, r.apiKey)},
		field{"desks", list(r, &w.Desks, r.desk)},
		field{"bots", list(r, &w.Bots, r.bot)},
		field{"inbox_agents", list(r, &w.InboxAgents, r.agent)},
	)
}

func (r *reader) apiKey(k *APIKey) fill {
	return r.object(
		field{"name", r.str(&k.Name)},
		field{"key", r.str(&k.Key)},
	)
}

func (r *reader) desk(d *Desk) fill {
	return r.object(
		field{"id", r.str(&d.ID)},
		field{"name", r.str(&d.Name)},
		field{"kind", text(r, &d.Kind)},
		field{"settings", r.dict(&d.Settings)},
		field{"policy", optional(&d.Policy, r.policy)},
	)
}

func (r *reader) bot(b *Bot) fill {
	return r.object(
		field{"id", r.str(&b.ID)},
		field{"name", r.str(&b.Name)},
		field{"webhook_url", r.str(&b.WebhookURL)},
		field{"webhook_secret", r.str(&b.WebhookSecret)},
		field{"desk", r.str(&b.Desk)},
		field{"policy", optional(&b.Policy, r.policy)},
	)
}

func (r *reader) agent(a *Agent) fill {
	return r.object(
		field{"id", r.str(&a.ID)},
		field{"name", r.str(&a.Name)},
		field{"email", r.str(&a.Email)},
		field{"desk", r.str(&a.Desk)},
		field{"key", r.str(&a.Key)},
		field{"password", r.str(&a.Password)},
	)
}

// policy reads a baton.Policy under the names of its yaml tags
// (TestPolicyFields keeps the two in step).
func (r *reader) policy(p *baton.Policy) fill {
	return r.object(
		field{"zone", r.str(&p.Zone)},
		field{"periods", list(r, &p.Periods, r.period)},
		field{"out_of_hours_reply", r.str(&p.OutOfHoursReply)},
		field{"wait_timeout", duration(&p.WaitTimeout)},
		field{"wait_grace", duration(&p.WaitGrace)},
		field{"session_timeout", duration(&p.SessionTimeout)},
		field{"idle_expiry", duration(&p.IdleExpiry)},
		field{"history_rounds", scalar(&p.HistoryRounds)},
		field{"require_email", scalar(&p.RequireEmail)},
		field{"transfer", optional(&p.Transfer, r.transfer)},
		field{"trigger_description", r.str(&p.TriggerDescription)},
		field{"session_payloads", optional(&p.SessionPayloads, r.payloads)},
	)
}

func (r *reader) payloads(p *baton.SessionPayloads) fill {
	return r.object(
		field{"start", r.str(&p.Start)},
		field{"end", r.str(&p.End)},
		field{"expired", r.str(&p.Expired)},
	)
}

func (r *reader) period(p *baton.Period) fill {
	return r.object(
		field{"kind", text(r, &p.Kind)},
		field{"days", list(r, &p.Days, r.str)},
		field{"date", r.str(&p.Date)},
		field{"start", r.str(&p.Start)},
		field{"end", r.str(&p.End)},
		field{"closed", scalar(&p.Closed)},
	)
}

func (r *reader) transfer(t *baton.TransferRules) fill {
	return r.object(
		field{"enabled", scalar(&t.Enabled)},
		field{"on_human_request", scalar(&t.OnHumanRequest)},
		field{"after_bot_turns", scalar(&t.AfterBotTurns)},
		field{"keywords", list(r, &t.Keywords, r.str)},
		field{"delay", duration(&t.Delay)},
		field{"groups", r.dict(&t.Groups)},
	)
}

// expand replaces every ${NAME} in s with the variable's value. A variable
// that is unset or empty is an error: a secret that silently became "" is
// worse than a server that does not start. Anything else, a lone $
// included, is kept.
func (r *reader) expand(s string) (string, error) {
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
		val := ""
		if r.getenv != nil {
			val = r.getenv(name)
		}
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
