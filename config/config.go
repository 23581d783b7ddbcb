package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
)

// Limits on the file: its size, and how many values its YAML aliases may
// stand for in all. An alias repeats its anchor's whole subtree, and aliases
// of anchors that hold aliases multiply ("billion laughs"): a file of 2 KB
// could stand for millions of values.
const (
	maxBytes   = 1 << 20
	maxAliased = 10000
)

// File is the configuration file: the workspaces a deployment declares,
// and its admin keys.
type File struct {
	Workspaces []Workspace `yaml:"workspaces"`
	// AdminKeys are the keys of the admin API the file declares. Nil (the
	// file has no admin_keys) leaves the store's admin keys as they are; a
	// list, even empty, is the whole set of admin keys applies manage.
	AdminKeys []AdminKey `yaml:"admin_keys"`

	// lines holds the line of every path read from the file, for errors.
	lines map[string]int
}

// Workspace is one tenant with its keys, desks, bots and inbox agents.
type Workspace struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	APIKeys     []APIKey `yaml:"api_keys"`
	Desks       []Desk   `yaml:"desks"`
	Bots        []Bot    `yaml:"bots"`
	InboxAgents []Agent  `yaml:"inbox_agents"`
}

// APIKey is a bot API key of a workspace; it is stored hashed.
type APIKey struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

// AdminKey is a key of the admin API (not of a workspace); it is stored
// hashed.
type AdminKey struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

// Desk is a connection to a support system; Settings are its kind's.
type Desk struct {
	ID       string            `yaml:"id"`
	Name     string            `yaml:"name"`
	Kind     baton.DeskKind    `yaml:"kind"`
	Settings map[string]string `yaml:"settings"`
	Policy   *baton.Policy     `yaml:"policy"`
}

// Bot is a bot of a workspace: where its events go and its default desk.
type Bot struct {
	ID            string        `yaml:"id"`
	Name          string        `yaml:"name"`
	WebhookURL    string        `yaml:"webhook_url"`
	WebhookSecret string        `yaml:"webhook_secret"`
	Desk          string        `yaml:"desk"`
	Policy        *baton.Policy `yaml:"policy"`
}

// Agent is a person answering an inbox desk, with their own key, a
// password, or both.
type Agent struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	Desk  string `yaml:"desk"`
	// Key is the agent's API key, stored hashed; "" for none.
	Key string `yaml:"key"`
	// Password is what the agent signs in with, stored as an argon2id
	// hash; "" for none.
	Password string `yaml:"password"`
}

// Params are what reading a file needs from its caller.
type Params struct {
	// Getenv reads the environment variables ${NAME} stands for; nil
	// means none is set.
	Getenv func(string) string
	// Desk builds a desk adapter from its settings, to check them per kind
	// (and to refuse unknown kinds); nil leaves them unchecked.
	Desk func(baton.DeskConfig) (baton.Desk, error)
}

// Error is a problem at one place of the file.
type Error struct {
	// Path names the value, like "workspaces[0].desks[1].kind"; "config"
	// is the file as a whole.
	Path string
	// Line is the line of the value in the file (of the alias that repeats
	// it, for a value reached through one); 0 when not known.
	Line int
	// Message says what is wrong, for people.
	Message string
	// Err is the cause, when there is one.
	Err error
}

// Error renders e as "path (line N): message".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Line, e.Message)
	}
	return e.Path + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Parse reads one YAML document, expanding ${NAME} in string values with
// p.Getenv, and validates it (see Validate). Every error about the content
// is an *Error; an unreadable, oversized or malformed file gives an error
// starting "config: ".
func Parse(r io.Reader, p Params) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(data) > maxBytes {
		return nil, fmt.Errorf("config: the file is larger than %d bytes (1 MiB)", maxBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{}, nil
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("config: the file must hold one YAML document")
	}
	f := &File{lines: map[string]int{}}
	if len(doc.Content) > 0 {
		rd := &reader{getenv: p.Getenv, lines: f.lines}
		if err := rd.read("", doc.Content[0], nil, doc.Content[0], rd.file(f)); err != nil {
			return nil, err
		}
	}
	if err := f.Validate(p.Desk); err != nil {
		return nil, err
	}
	return f, nil
}

// Load reads and validates the file at path (see Parse); its errors start
// with path.
func Load(path string, p Params) (*File, error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer r.Close()
	f, err := Parse(r, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// WorkspaceIDs returns the ids of the file's workspaces, in order.
func (f *File) WorkspaceIDs() []string {
	ids := make([]string, 0, len(f.Workspaces))
	for _, w := range f.Workspaces {
		ids = append(ids, w.ID)
	}
	return ids
}

// Desk returns the store's form of the desk with the given id, and whether
// the file declares one.
func (f *File) Desk(id string) (baton.DeskConfig, bool) {
	for _, w := range f.Workspaces {
		for _, d := range w.Desks {
			if d.ID == id {
				return d.config(w.ID), true
			}
		}
	}
	return baton.DeskConfig{}, false
}

// config returns the store's form of d in workspace ws.
func (d Desk) config(ws string) baton.DeskConfig {
	name := d.Name
	if name == "" {
		name = d.ID
	}
	return baton.DeskConfig{ID: d.ID, WorkspaceID: ws, Name: name, Kind: d.Kind, Settings: d.Settings, Policy: d.Policy}
}

// errorf returns an *Error at path, on the line the file gives it or, for a
// value the file leaves out, the line of the nearest part that holds it.
func (f *File) errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Line: f.line(path), Message: fmt.Sprintf(format, args...)}
}

func (f *File) line(path string) int {
	for p := path; p != ""; p = parent(p) {
		if l, ok := f.lines[p]; ok {
			return l
		}
	}
	return 0
}

// parent returns the path that holds path: "a.b[1]" for "a.b[1].c", "a.b"
// for "a.b[1]", "" for "a".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// fieldError places err, a *baton.Error naming a field relative to a part of
// the file (as hours.Validate and desk constructors return), under path.
func (f *File) fieldError(path string, err error) *Error {
	var be *baton.Error
	if !errors.As(err, &be) {
		e := f.errorf(path, "%v", err)
		e.Err = err
		return e
	}
	if be.Field != "" {
		path += "." + be.Field
	}
	e := f.errorf(path, "%s", be.Message)
	e.Err = err
	return e
}
