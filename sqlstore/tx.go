package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// tx is one transaction; it implements baton.Tx.
type tx struct {
	s        *Store
	ctx      context.Context
	tx       *sql.Tx
	retry    bool // a statement failed in a way that makes the whole transaction worth retrying
	timedOut bool // a statement's lock wait ran out (Dialect.LockTimeout)
	view     bool // read-only: reads take no row locks
	reader   bool // on the reader pool
}

// stmt returns query's prepared statement for this transaction's pool, or nil.
func (t *tx) stmt(query string) *sql.Stmt {
	if t.reader {
		return t.s.readerStmt(query)
	}
	return t.s.stmt(query)
}

// forUpdate is the dialect's row-lock clause for reads made to change the
// row, empty in read-only transactions.
func (t *tx) forUpdate() string {
	if t.view {
		return ""
	}
	return t.s.d.ForUpdate
}

// forShare is the dialect's shared row-lock clause, for reads that keep a
// row from being changed or deleted until the transaction ends; empty in
// read-only transactions.
func (t *tx) forShare() string {
	if t.view {
		return ""
	}
	return t.s.d.ForShare
}

var _ baton.Tx = (*tx)(nil)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// storable reports whether every text argument can be stored the same way
// on both databases: PostgreSQL refuses NUL and invalid UTF-8 in text,
// SQLite keeps them. The API refuses such text earlier, naming the field;
// this is the last guard, for text from anywhere else (a desk's answers).
func storable(args []any) bool {
	for _, a := range args {
		if s, ok := a.(string); ok && (strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)) {
			return false
		}
	}
	return true
}

// errUnstorable is what a write of text that is not storable fails with.
var errUnstorable = baton.Errorf(baton.EINVALID, "text is not valid UTF-8 or contains a NUL character")

// noRows is a query that matches nothing: what a look-up by unstorable text
// finds, since such text is never stored.
const noRows = `SELECT 1 WHERE 1 = 0`

func (t *tx) exec(query string, args ...any) (r sql.Result, err error) {
	if !storable(args) {
		return nil, errUnstorable
	}
	if st := t.stmt(query); st != nil {
		r, err = t.tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	} else {
		r, err = t.tx.ExecContext(t.ctx, t.s.q(query), args...)
	}
	t.note(err)
	return r, err
}

func (t *tx) query(query string, args ...any) (rows *sql.Rows, err error) {
	if !storable(args) {
		query, args = noRows, nil
	}
	if st := t.stmt(query); st != nil {
		rows, err = t.tx.StmtContext(t.ctx, st).QueryContext(t.ctx, args...)
	} else {
		rows, err = t.tx.QueryContext(t.ctx, t.s.q(query), args...)
	}
	t.note(err)
	return rows, err
}

func (t *tx) row(query string, args ...any) *sql.Row {
	if !storable(args) {
		query, args = noRows, nil
	}
	if st := t.stmt(query); st != nil {
		return t.tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, t.s.q(query), args...)
}

// scalar runs a query that returns one row and scans it into dest.
func (t *tx) scalar(query string, args []any, dest ...any) error {
	err := t.row(query, args...).Scan(dest...)
	t.note(err)
	return err
}

// note remembers that err makes the transaction worth retrying.
func (t *tx) note(err error) {
	if err != nil && t.s.retryable(err) {
		t.retry = true
	}
	if err != nil && t.s.timedOut(err) {
		t.timedOut = true
	}
}

// fail turns a driver error from op into the error callers see: a *baton.Error
// when the dialect recognises a constraint violation, the wrapped error otherwise.
func (t *tx) fail(op string, err error) error {
	if t.s.d.Code != nil {
		switch t.s.d.Code(err) {
		case baton.ECONFLICT:
			return baton.Errorf(baton.ECONFLICT, "%s: already exists", op)
		case baton.ENOTFOUND:
			return baton.Errorf(baton.ENOTFOUND, "%s: refers to something that does not exist", op)
		}
	}
	return fmt.Errorf("%s: %s: %w", t.s.d.Name, op, err)
}

// one scans a single row with scan, mapping no row to ENOTFOUND with msg.
func one[T any](t *tx, scan func(scanner) (T, error), msg string, query string, args ...any) (T, error) {
	v, err := scan(t.row(query, args...))
	t.note(err)
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, baton.Errorf(baton.ENOTFOUND, "%s not found", msg)
	}
	return v, err
}

// all scans every row with scan.
func all[T any](t *tx, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	err = rows.Err()
	t.note(err)
	return out, err
}

// upsert runs an insert-or-replace that updates only rows of the same
// workspace, and reports ECONFLICT when the id belongs to another workspace.
func (t *tx) upsert(op string, query string, args ...any) error {
	r, err := t.exec(query, args...)
	if err != nil {
		return t.fail(op, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return t.fail(op, err)
	} else if n == 0 {
		return baton.Errorf(baton.ECONFLICT, "%s: id is taken", op)
	}
	return nil
}

// jsonText encodes v as JSON text.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// policyText encodes a policy, "" for none.
func policyText(p *baton.Policy) (string, error) {
	if p == nil {
		return "", nil
	}
	return jsonText(p)
}

// readPolicy decodes what policyText wrote.
func readPolicy(s string) (*baton.Policy, error) {
	if s == "" {
		return nil, nil
	}
	p := new(baton.Policy)
	if err := json.Unmarshal([]byte(s), p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

// rawText stores a json.RawMessage, "" for none.
func rawText(m json.RawMessage) string { return string(m) }

// readRaw reads what rawText wrote.
func readRaw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// CreateWorkspace inserts w; an existing id is ECONFLICT.
func (t *tx) CreateWorkspace(w baton.Workspace) error {
	_, err := t.exec(`INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)`,
		w.ID, w.Name, micro(w.CreatedAt))
	if err != nil {
		return t.fail("create workspace "+w.ID, err)
	}
	return nil
}

func scanWorkspace(r scanner) (baton.Workspace, error) {
	var w baton.Workspace
	var at int64
	err := r.Scan(&w.ID, &w.Name, &at)
	w.CreatedAt = fromMicro(at)
	return w, err
}

// Workspace returns the workspace id, unless it is deleted.
func (t *tx) Workspace(id string) (baton.Workspace, error) {
	return one(t, scanWorkspace, "workspace "+id,
		`SELECT id, name, created_at FROM workspaces WHERE id = ? AND deleted_at = 0`, id)
}

// Workspaces lists the workspaces that are not deleted, oldest first.
func (t *tx) Workspaces() ([]baton.Workspace, error) {
	return all(t, scanWorkspace, `SELECT id, name, created_at FROM workspaces WHERE deleted_at = 0 ORDER BY created_at, id`)
}

// RenameWorkspace sets the name of workspace id.
func (t *tx) RenameWorkspace(id, name string) error {
	return t.changeOne("rename workspace", "workspace "+id,
		`UPDATE workspaces SET name = ? WHERE id = ? AND deleted_at = 0`, name, id)
}

// DeleteWorkspace marks workspace id deleted and revokes its keys.
func (t *tx) DeleteWorkspace(id string, at time.Time) error {
	if err := t.changeOne("delete workspace", "workspace "+id,
		`UPDATE workspaces SET deleted_at = ? WHERE id = ? AND deleted_at = 0`, micro(at), id); err != nil {
		return err
	}
	if _, err := t.exec(`DELETE FROM api_keys WHERE workspace_id = ?`, id); err != nil {
		return t.fail("delete workspace", err)
	}
	if _, err := t.exec(`UPDATE inbox_agents SET key_hash = '', password_hash = '', disabled = TRUE WHERE workspace_id = ?`, id); err != nil {
		return t.fail("delete workspace", err)
	}
	return nil
}

// changeOne runs an UPDATE or DELETE that must touch a row: none is ENOTFOUND what.
func (t *tx) changeOne(op, what, query string, args ...any) error {
	r, err := t.exec(query, args...)
	if err != nil {
		return t.fail(op, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return t.fail(op, err)
	} else if n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "%s not found", what)
	}
	return nil
}

const keyColumns = `hash, id, workspace_id, name, prefix, scope, bot_id, managed, created_at, last_used_at`

// PutAPIKey inserts k or replaces the key with its hash, keeping when it was last used.
func (t *tx) PutAPIKey(k baton.APIKey) error {
	if k.Scope == "" {
		k.Scope = baton.ScopeFull
	}
	if k.ID == "" {
		k.ID = baton.KeyID(k.Hash)
	}
	return t.upsert("put api key",
		`INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET id = excluded.id, name = excluded.name, prefix = excluded.prefix,
			scope = excluded.scope, bot_id = excluded.bot_id, managed = excluded.managed, created_at = excluded.created_at
		WHERE api_keys.workspace_id = excluded.workspace_id`,
		k.Hash, k.ID, k.WorkspaceID, k.Name, k.Prefix, string(k.Scope), k.BotID, k.Managed, micro(k.CreatedAt), micro(k.LastUsedAt))
}

func scanAPIKey(r scanner) (baton.APIKey, error) {
	var k baton.APIKey
	var at, used int64
	err := r.Scan(&k.Hash, &k.ID, &k.WorkspaceID, &k.Name, &k.Prefix, &k.Scope, &k.BotID, &k.Managed, &at, &used)
	k.CreatedAt, k.LastUsedAt = fromMicro(at), fromMicro(used)
	return k, err
}

// APIKey returns the key with this hash.
func (t *tx) APIKey(hash string) (baton.APIKey, error) {
	return one(t, scanAPIKey, "api key",
		`SELECT `+keyColumns+` FROM api_keys WHERE hash = ? AND hash <> ''
		AND workspace_id IN (SELECT id FROM workspaces WHERE deleted_at = 0)`, hash)
}

// APIKeys lists the workspace's keys, oldest first.
func (t *tx) APIKeys(workspaceID string) ([]baton.APIKey, error) {
	return all(t, scanAPIKey, `SELECT `+keyColumns+` FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
}

// DeleteAPIKey revokes the workspace's key id.
func (t *tx) DeleteAPIKey(workspaceID, id string) error {
	return t.changeOne("revoke api key", "api key "+id, `DELETE FROM api_keys WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}

// TouchAPIKey sets when the key with this hash was last used.
func (t *tx) TouchAPIKey(hash string, at time.Time) error {
	if _, err := t.exec(`UPDATE api_keys SET last_used_at = ? WHERE hash = ?`, micro(at), hash); err != nil {
		return t.fail("touch api key", err)
	}
	return nil
}

const botColumns = `id, workspace_id, name, webhook_url, webhook_secret, previous_secret, previous_until, desk_id, policy, created_at`

// PutBot inserts or replaces b.
func (t *tx) PutBot(b baton.Bot) error {
	pol, err := policyText(b.Policy)
	if err != nil {
		return err
	}
	var secret, previous []byte
	if b.WebhookSecret != "" {
		secret = t.s.seal([]byte(b.WebhookSecret), "bots.webhook_secret:"+b.ID)
	}
	if b.PreviousSecret != "" {
		previous = t.s.seal([]byte(b.PreviousSecret), "bots.previous_secret:"+b.ID)
	}
	return t.upsert("put bot "+b.ID,
		`INSERT INTO bots (`+botColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, webhook_url = excluded.webhook_url,
			webhook_secret = excluded.webhook_secret, previous_secret = excluded.previous_secret,
			previous_until = excluded.previous_until, desk_id = excluded.desk_id,
			policy = excluded.policy, created_at = excluded.created_at
		WHERE bots.workspace_id = excluded.workspace_id`,
		b.ID, b.WorkspaceID, b.Name, b.WebhookURL, secret, previous, micro(b.PreviousUntil), b.DeskID, pol, micro(b.CreatedAt))
}

func (s *Store) scanBot(r scanner) (baton.Bot, error) {
	var b baton.Bot
	var secret, previous []byte
	var pol string
	var until, at int64
	if err := r.Scan(&b.ID, &b.WorkspaceID, &b.Name, &b.WebhookURL, &secret, &previous, &until, &b.DeskID, &pol, &at); err != nil {
		return b, err
	}
	b.CreatedAt, b.PreviousUntil = fromMicro(at), fromMicro(until)
	plain, err := s.open(secret, "bots.webhook_secret:"+b.ID)
	if err != nil {
		return b, fmt.Errorf("bot %s webhook secret: %w", b.ID, err)
	}
	b.WebhookSecret = string(plain)
	if plain, err = s.open(previous, "bots.previous_secret:"+b.ID); err != nil {
		return b, fmt.Errorf("bot %s previous webhook secret: %w", b.ID, err)
	}
	b.PreviousSecret = string(plain)
	if b.Policy, err = readPolicy(pol); err != nil {
		return b, fmt.Errorf("bot %s: %w", b.ID, err)
	}
	return b, nil
}

// Bot returns the workspace's bot id.
func (t *tx) Bot(workspaceID, id string) (baton.Bot, error) {
	return one(t, t.s.scanBot, "bot "+id,
		`SELECT `+botColumns+` FROM bots WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}

// Bots lists the workspace's bots, oldest first.
func (t *tx) Bots(workspaceID string) ([]baton.Bot, error) {
	return all(t, t.s.scanBot,
		`SELECT `+botColumns+` FROM bots WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
}

// DeleteBot removes the workspace's bot id.
func (t *tx) DeleteBot(workspaceID, id string) error {
	return t.changeOne("delete bot", "bot "+id, `DELETE FROM bots WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}

const deskColumns = `id, workspace_id, name, kind, settings, policy, status, last_error, checked_at, created_at`

// PutDesk inserts or replaces d.
func (t *tx) PutDesk(d baton.DeskConfig) error {
	pol, err := policyText(d.Policy)
	if err != nil {
		return err
	}
	settings, err := json.Marshal(d.Settings)
	if err != nil {
		return err
	}
	return t.upsert("put desk "+d.ID,
		`INSERT INTO desks (`+deskColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
			settings = excluded.settings, policy = excluded.policy, status = excluded.status,
			last_error = excluded.last_error, checked_at = excluded.checked_at, created_at = excluded.created_at
		WHERE desks.workspace_id = excluded.workspace_id`,
		d.ID, d.WorkspaceID, d.Name, string(d.Kind), t.s.seal(settings, "desks.settings:"+d.ID), pol,
		string(d.Status), d.LastError, micro(d.CheckedAt), micro(d.CreatedAt))
}

func (s *Store) scanDesk(r scanner) (baton.DeskConfig, error) {
	var d baton.DeskConfig
	var sealed []byte
	var pol string
	var checked, at int64
	if err := r.Scan(&d.ID, &d.WorkspaceID, &d.Name, &d.Kind, &sealed, &pol, &d.Status, &d.LastError, &checked, &at); err != nil {
		return d, err
	}
	d.CheckedAt, d.CreatedAt = fromMicro(checked), fromMicro(at)
	settings, err := s.open(sealed, "desks.settings:"+d.ID)
	if err != nil {
		return d, fmt.Errorf("desk %s settings: %w", d.ID, err)
	}
	if len(settings) > 0 {
		if err := json.Unmarshal(settings, &d.Settings); err != nil {
			return d, fmt.Errorf("desk %s settings: malformed", d.ID)
		}
	}
	if d.Policy, err = readPolicy(pol); err != nil {
		return d, fmt.Errorf("desk %s: %w", d.ID, err)
	}
	return d, nil
}

// Desk returns the workspace's desk id.
func (t *tx) Desk(workspaceID, id string) (baton.DeskConfig, error) {
	return one(t, t.s.scanDesk, "desk "+id,
		`SELECT `+deskColumns+` FROM desks WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}

// DeskByID returns desk id whatever its workspace, unless the workspace is deleted.
func (t *tx) DeskByID(id string) (baton.DeskConfig, error) {
	return one(t, t.s.scanDesk, "desk "+id, `SELECT `+deskColumns+` FROM desks WHERE id = ?
		AND workspace_id IN (SELECT id FROM workspaces WHERE deleted_at = 0)`, id)
}

// Desks lists the workspace's desks, oldest first.
func (t *tx) Desks(workspaceID string) ([]baton.DeskConfig, error) {
	return all(t, t.s.scanDesk,
		`SELECT `+deskColumns+` FROM desks WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
}

// DeleteDesk removes the workspace's desk id.
func (t *tx) DeleteDesk(workspaceID, id string) error {
	return t.changeOne("delete desk", "desk "+id, `DELETE FROM desks WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}

// DeskStatuses returns every desk's status by id; an unset one is not_configured.
func (t *tx) DeskStatuses() (map[string]baton.DeskStatus, error) {
	rows, err := t.query(`SELECT id, status FROM desks`)
	if err != nil {
		return nil, t.fail("desk statuses", err)
	}
	defer rows.Close()
	m := map[string]baton.DeskStatus{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, t.fail("desk statuses", err)
		}
		if st == "" {
			st = string(baton.NotConfigured)
		}
		m[id] = baton.DeskStatus(st)
	}
	return m, rows.Err()
}

// SetDeskStatus records the result of a desk check, and a change of
// status in the desk's history.
func (t *tx) SetDeskStatus(s baton.DeskState) error {
	ws, old, err := t.deskRow(s.DeskID)
	if err != nil {
		return err
	}
	r, err := t.exec(`UPDATE desks SET status = ?, last_error = ?, checked_at = ? WHERE id = ?`,
		string(s.Status), s.LastError, micro(s.CheckedAt), s.DeskID)
	if err != nil {
		return t.fail("set desk status", err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return t.fail("set desk status", err)
	} else if n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "desk %s not found", s.DeskID)
	}
	if cmp.Or(old, string(baton.NotConfigured)) != cmp.Or(string(s.Status), string(baton.NotConfigured)) {
		return t.addDeskChange(ws, s)
	}
	return nil
}

const agentColumns = `id, workspace_id, desk_id, name, email, key_hash, password_hash, disabled, managed, created_at, session_gen, seen_at`

// PutInboxAgent inserts or replaces a, keeping when a replaced agent was
// last seen.
func (t *tx) PutInboxAgent(a baton.InboxAgent) error {
	return t.upsert("put inbox agent "+a.ID,
		`INSERT INTO inbox_agents (`+agentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET desk_id = excluded.desk_id, name = excluded.name,
			email = excluded.email, key_hash = excluded.key_hash, password_hash = excluded.password_hash,
			disabled = excluded.disabled, managed = excluded.managed, created_at = excluded.created_at,
			session_gen = excluded.session_gen
		WHERE inbox_agents.workspace_id = excluded.workspace_id`,
		a.ID, a.WorkspaceID, a.DeskID, a.Name, a.Email, a.KeyHash, a.PasswordHash, a.Disabled, a.Managed, micro(a.CreatedAt), a.SessionGen, micro(a.SeenAt))
}

// TouchInboxAgent records that the workspace's inbox agent id used the
// inbox at at.
func (t *tx) TouchInboxAgent(workspaceID, id string, at time.Time) error {
	if _, err := t.exec(`UPDATE inbox_agents SET seen_at = ? WHERE workspace_id = ? AND id = ?`, micro(at), workspaceID, id); err != nil {
		return t.fail("touch inbox agent", err)
	}
	return nil
}

func scanAgent(r scanner) (baton.InboxAgent, error) {
	var a baton.InboxAgent
	var at, seen int64
	err := r.Scan(&a.ID, &a.WorkspaceID, &a.DeskID, &a.Name, &a.Email, &a.KeyHash, &a.PasswordHash, &a.Disabled, &a.Managed, &at, &a.SessionGen, &seen)
	a.CreatedAt, a.SeenAt = fromMicro(at), fromMicro(seen)
	return a, err
}

// InboxAgentByKey returns the agent whose key has this hash, unless it is disabled.
func (t *tx) InboxAgentByKey(hash string) (baton.InboxAgent, error) {
	return one(t, scanAgent, "inbox agent",
		`SELECT `+agentColumns+` FROM inbox_agents WHERE key_hash = ? AND key_hash <> '' AND NOT disabled`, hash)
}

// InboxAgent returns the workspace's inbox agent id.
func (t *tx) InboxAgent(workspaceID, id string) (baton.InboxAgent, error) {
	return one(t, scanAgent, "inbox agent "+id,
		`SELECT `+agentColumns+` FROM inbox_agents WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}

// InboxAgents lists the workspace's inbox agents, oldest first.
func (t *tx) InboxAgents(workspaceID string) ([]baton.InboxAgent, error) {
	return all(t, scanAgent, `SELECT `+agentColumns+` FROM inbox_agents WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
}

// DeleteInboxAgent removes the workspace's inbox agent id.
func (t *tx) DeleteInboxAgent(workspaceID, id string) error {
	return t.changeOne("delete inbox agent", "inbox agent "+id, `DELETE FROM inbox_agents WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}
