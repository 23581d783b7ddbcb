package sqlstore

import (
	"time"

	"github.com/batonhq/baton"
)

// OpenHandoffs lists the handoffs of a workspace (of one bot or desk when
// asked) that have not ended, oldest first.
func (t *tx) OpenHandoffs(q baton.OpenQuery) ([]baton.Handoff, error) {
	query := `SELECT ` + handoffColumns + ` FROM handoffs WHERE workspace_id = ? AND state <> ?`
	args := []any{q.WorkspaceID, string(baton.Ended)}
	if q.BotID != "" {
		query += ` AND bot_id = ?`
		args = append(args, q.BotID)
	}
	if q.DeskID != "" {
		query += ` AND desk_id = ?`
		args = append(args, q.DeskID)
	}
	query += ` ORDER BY created_at, id`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	return all(t, t.s.scanHandoff, query, args...)
}

// Pin reads the workspace, bot and desk with the dialect's share lock.
func (t *tx) Pin(p baton.Pin) error {
	for _, c := range []struct {
		what, query string
		args        []any
	}{
		{"workspace " + p.WorkspaceID, `SELECT id FROM workspaces WHERE id = ? AND deleted_at = 0`, []any{p.WorkspaceID}},
		{"bot " + p.BotID, `SELECT id FROM bots WHERE id = ? AND workspace_id = ?`, []any{p.BotID, p.WorkspaceID}},
		{"desk " + p.DeskID, `SELECT id FROM desks WHERE id = ? AND workspace_id = ?`, []any{p.DeskID, p.WorkspaceID}},
		{"inbox agent " + p.AgentID, `SELECT id FROM inbox_agents WHERE id = ? AND NOT disabled`, []any{p.AgentID}},
	} {
		if c.args[0] == "" {
			continue
		}
		if _, err := one(t, scanID, c.what, c.query+t.forShare(), c.args...); err != nil {
			return err
		}
	}
	return nil
}

func scanID(r scanner) (string, error) {
	var id string
	err := r.Scan(&id)
	return id, err
}

const adminKeyColumns = `hash, id, name, prefix, managed, created_at, last_used_at, session_gen`

// PutAdminKey inserts k or replaces the admin key with its hash, keeping
// when it was last used.
func (t *tx) PutAdminKey(k baton.AdminKey) error {
	if k.ID == "" {
		k.ID = baton.KeyID(k.Hash)
	}
	return t.upsert("put admin key",
		`INSERT INTO admin_keys (`+adminKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET id = excluded.id, name = excluded.name, prefix = excluded.prefix,
			managed = excluded.managed, created_at = excluded.created_at`,
		k.Hash, k.ID, k.Name, k.Prefix, k.Managed, micro(k.CreatedAt), micro(k.LastUsedAt), k.SessionGen)
}

func scanAdminKey(r scanner) (baton.AdminKey, error) {
	var k baton.AdminKey
	var at, used int64
	err := r.Scan(&k.Hash, &k.ID, &k.Name, &k.Prefix, &k.Managed, &at, &used, &k.SessionGen)
	k.CreatedAt, k.LastUsedAt = fromMicro(at), fromMicro(used)
	return k, err
}

// AdminKey returns the admin key with this hash.
func (t *tx) AdminKey(hash string) (baton.AdminKey, error) {
	return one(t, scanAdminKey, "admin key",
		`SELECT `+adminKeyColumns+` FROM admin_keys WHERE hash = ? AND hash <> ''`, hash)
}

// AdminKeys lists the admin keys, oldest first.
func (t *tx) AdminKeys() ([]baton.AdminKey, error) {
	return all(t, scanAdminKey, `SELECT `+adminKeyColumns+` FROM admin_keys ORDER BY created_at, id`)
}

// DeleteAdminKey revokes admin key id.
func (t *tx) DeleteAdminKey(id string) error {
	return t.changeOne("revoke admin key", "admin key "+id, `DELETE FROM admin_keys WHERE id = ?`, id)
}

// TouchAdminKey sets when the admin key with this hash was last used.
func (t *tx) TouchAdminKey(hash string, at time.Time) error {
	if _, err := t.exec(`UPDATE admin_keys SET last_used_at = ? WHERE hash = ?`, micro(at), hash); err != nil {
		return t.fail("touch admin key", err)
	}
	return nil
}

// AddAudit appends a, setting a.Seq.
func (t *tx) AddAudit(a *baton.AuditEntry) error {
	err := t.row(`INSERT INTO audit (at, actor, action, object, object_id, workspace_id, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		micro(a.At), a.Actor, a.Action, a.Object, a.ObjectID, a.WorkspaceID, rawText(a.Before), rawText(a.After)).Scan(&a.Seq)
	if err != nil {
		return t.fail("add audit entry", err)
	}
	return nil
}

func scanAudit(r scanner) (baton.AuditEntry, error) {
	var a baton.AuditEntry
	var at int64
	var before, after string
	err := r.Scan(&a.Seq, &at, &a.Actor, &a.Action, &a.Object, &a.ObjectID, &a.WorkspaceID, &before, &after)
	a.At, a.Before, a.After = fromMicro(at), readRaw(before), readRaw(after)
	return a, err
}

// Audit lists audit entries after p.After, of p.WorkspaceID when set, in order.
func (t *tx) Audit(p baton.AuditPage) ([]baton.AuditEntry, error) {
	q := `SELECT seq, at, actor, action, object, object_id, workspace_id, before, after FROM audit WHERE seq > ?`
	args := []any{p.After}
	if p.WorkspaceID != "" {
		q += ` AND workspace_id = ?`
		args = append(args, p.WorkspaceID)
	}
	q += ` ORDER BY seq`
	if p.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, p.Limit)
	}
	return all(t, scanAudit, q, args...)
}

// EndAdminSessions moves the admin key id's session generation on.
func (t *tx) EndAdminSessions(id string) error {
	return t.changeOne("end admin sessions", "admin key "+id, `UPDATE admin_keys SET session_gen = session_gen + 1 WHERE id = ?`, id)
}
