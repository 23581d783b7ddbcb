package config

import (
	"fmt"
	"io"
	"strings"

	"github.com/batonhq/baton"
)

// Action is what an apply does to one object.
type Action string

// Actions, as the audit log names them.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Object is a kind of object an apply manages, as the audit log names it.
type Object string

// Objects.
const (
	ObjectWorkspace Object = "workspace"
	ObjectKey       Object = "key"       // a workspace's API key
	ObjectAdminKey  Object = "admin_key" // a key of the admin API
	ObjectDesk      Object = "desk"
	ObjectBot       Object = "bot"
	ObjectAgent     Object = "agent" // an inbox agent
)

// Change is one object an apply creates, updates or deletes. It never holds
// a secret: an update names the fields that changed, not their values.
type Change struct {
	Action      Action
	Object      Object
	WorkspaceID string // "" for admin keys
	ID          string // the store's id of the object
	// Name is a key's name (keys are known by it in the file); "" for the
	// other objects.
	Name string
	// Kind is a desk's kind; "" for the other objects.
	Kind baton.DeskKind
	// Fields are the names of the fields an update changes, as the file
	// names them: "name", "webhook_url", "settings.token", "policy", ...
	Fields []string
}

// String renders c as one line of a plan: "+ desk acme/support (webhook)",
// "~ bot acme/b1: webhook_url, policy", "- key acme/old-key".
func (c Change) String() string {
	var b strings.Builder
	switch c.Action {
	case Create:
		b.WriteString("+ ")
	case Update:
		b.WriteString("~ ")
	case Delete:
		b.WriteString("- ")
	}
	b.WriteString(string(c.Object))
	b.WriteString(" ")
	if c.WorkspaceID != "" && c.Object != ObjectWorkspace {
		b.WriteString(c.WorkspaceID + "/")
	}
	if c.Name != "" {
		b.WriteString(c.Name)
	} else {
		b.WriteString(c.ID)
	}
	if c.Kind != "" {
		fmt.Fprintf(&b, " (%s)", c.Kind)
	}
	if len(c.Fields) > 0 {
		b.WriteString(": " + strings.Join(c.Fields, ", "))
	}
	return b.String()
}

// Plan is what an apply did or, in a dry run, would do: its changes in the
// order they are made. Objects left as they are do not appear.
type Plan struct {
	Changes []Change
	// DryRun says the changes were rolled back: nothing was written.
	DryRun bool
}

// Count returns how many objects the plan creates, updates and deletes.
func (p Plan) Count() (created, updated, deleted int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			created++
		case Update:
			updated++
		case Delete:
			deleted++
		}
	}
	return created, updated, deleted
}

// Summary is the plan's last line: "apply: 3 created, 1 changed, 1 removed",
// or for a dry run "dry run: 3 to create, 1 to change, 1 to remove; nothing
// was written"; "no changes" when there are none.
func (p Plan) Summary() string {
	c, u, d := p.Count()
	switch {
	case p.DryRun && len(p.Changes) == 0:
		return "dry run: no changes"
	case p.DryRun:
		return fmt.Sprintf("dry run: %d to create, %d to change, %d to remove; nothing was written", c, u, d)
	case len(p.Changes) == 0:
		return "apply: no changes"
	}
	return fmt.Sprintf("apply: %d created, %d changed, %d removed", c, u, d)
}

// Print writes the plan to w, one line per change and the summary last.
func (p Plan) Print(w io.Writer) error {
	var b strings.Builder
	for _, c := range p.Changes {
		b.WriteString(c.String() + "\n")
	}
	b.WriteString(p.Summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
