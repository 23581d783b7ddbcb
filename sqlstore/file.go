package sqlstore

import (
	"time"

	"github.com/batonhq/baton"
)

// AddFile stores a new file; its id must be new (ECONFLICT).
func (t *tx) AddFile(f baton.File) error {
	_, err := t.exec(`INSERT INTO files (id, workspace_id, name, type, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.WorkspaceID, f.Name, f.Type, int64(len(f.Data)), f.Data, micro(f.CreatedAt))
	if err != nil {
		return t.fail("add file "+f.ID, err)
	}
	return nil
}

// File reads a file of a workspace that is not deleted.
func (t *tx) File(workspaceID, id string) (baton.File, error) {
	return one(t, func(r scanner) (baton.File, error) {
		var f baton.File
		var at int64
		err := r.Scan(&f.ID, &f.WorkspaceID, &f.Name, &f.Type, &f.Size, &f.Data, &at)
		f.CreatedAt = fromMicro(at)
		return f, err
	}, "file "+id, `SELECT id, workspace_id, name, type, size, data, created_at FROM files
		WHERE id = ? AND workspace_id = ? AND workspace_id IN (SELECT id FROM workspaces WHERE deleted_at = 0)`, id, workspaceID)
}

// DeleteFiles removes a workspace's files made before before.
func (t *tx) DeleteFiles(workspaceID string, before time.Time) error {
	if _, err := t.exec(`DELETE FROM files WHERE workspace_id = ? AND created_at < ?`, workspaceID, micro(before)); err != nil {
		return t.fail("delete files", err)
	}
	return nil
}
