package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// The dashboard's reads aggregate in SQL that both databases run alike:
// a bucket is the integer quotient (at − from) / bucket of BIGINT
// microseconds, and a percentile is the row at its rank in order (LIMIT 1
// OFFSET rank), which neither database needs a function of its own for.

// errorKept is how much of an error's text the desk history keeps.
const errorKept = 500

// checkStats refuses a query the reads cannot answer.
func checkStats(q baton.StatsQuery) error {
	if q.Bucket < time.Microsecond {
		return baton.Errorf(baton.EINVALID, "stats: bucket %s is shorter than a microsecond", q.Bucket)
	}
	return nil
}

// cohort is the WHERE clause choosing the handoffs created in q's range,
// and its arguments.
func cohort(q baton.StatsQuery) (string, []any) {
	where := `workspace_id = ? AND created_at >= ? AND created_at < ?`
	args := []any{q.WorkspaceID, micro(q.From), micro(q.To)}
	if q.DeskID != "" {
		where += ` AND desk_id = ?`
		args = append(args, q.DeskID)
	}
	return where, args
}

// HandoffCounts counts the workspace's handoffs created in q's range by
// bucket, end reason, and whether they were queued and taken.
func (t *tx) HandoffCounts(q baton.StatsQuery) ([]baton.HandoffCount, error) {
	if err := checkStats(q); err != nil {
		return nil, err
	}
	where, args := cohort(q)
	cs, err := all(t, func(r scanner) (baton.HandoffCount, error) {
		var c baton.HandoffCount
		var reason string
		var queued, taken int
		err := r.Scan(&c.Bucket, &reason, &queued, &taken, &c.N)
		c.EndReason, c.Queued, c.Taken = baton.EndReason(reason), queued == 1, taken == 1
		return c, err
	}, `SELECT (created_at - ?) / ?, end_reason,
		CASE WHEN queued_at > 0 THEN 1 ELSE 0 END, CASE WHEN taken_at > 0 THEN 1 ELSE 0 END, COUNT(*)
	FROM handoffs WHERE `+where+` GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
		append([]any{micro(q.From), q.Bucket.Microseconds()}, args...)...)
	if err != nil {
		return nil, t.fail("count handoffs", err)
	}
	return cs, nil
}

// ReplyTimes counts the handoffs created in q's range that had a first
// agent reply and reads each percentile as the time at its nearest rank.
func (t *tx) ReplyTimes(q baton.StatsQuery, fractions ...float64) (baton.ReplyTimes, error) {
	var rt baton.ReplyTimes
	for _, f := range fractions {
		if !(f > 0 && f <= 1) {
			return rt, baton.Errorf(baton.EINVALID, "reply times: the fraction %v is not in (0, 1]", f)
		}
	}
	where, args := cohort(q)
	where += ` AND queued_at > 0 AND active_at > 0`
	if err := t.scalar(`SELECT COUNT(*) FROM handoffs WHERE `+where, args, &rt.N); err != nil {
		return rt, t.fail("count reply times", err)
	}
	if rt.N == 0 {
		return rt, nil
	}
	for _, f := range fractions {
		rank := min(max(int64(math.Ceil(f*float64(rt.N)))-1, 0), rt.N-1)
		var us int64
		err := t.scalar(`SELECT CASE WHEN active_at > queued_at THEN active_at - queued_at ELSE 0 END
		FROM handoffs WHERE `+where+` ORDER BY 1 LIMIT 1 OFFSET ?`, append(args[:len(args):len(args)], rank), &us)
		if err != nil {
			return rt, t.fail("read a reply time percentile", err)
		}
		rt.Percentiles = append(rt.Percentiles, time.Duration(us)*time.Microsecond)
	}
	return rt, nil
}

// AddDeskFailure records a failed call to a desk and prunes its history.
func (t *tx) AddDeskFailure(f baton.DeskFailure) error {
	if _, err := t.exec(`INSERT INTO desk_history (workspace_id, desk_id, kind, op, error, at) VALUES (?, ?, 'failure', ?, ?, ?)`,
		f.WorkspaceID, f.DeskID, clip(f.Op, 40), clip(f.Error, errorKept), micro(f.At)); err != nil {
		return t.fail("add desk failure", err)
	}
	return t.prune(f.DeskID, f.At)
}

// addDeskChange records a desk's new status and prunes its history.
func (t *tx) addDeskChange(ws string, s baton.DeskState) error {
	if _, err := t.exec(`INSERT INTO desk_history (workspace_id, desk_id, kind, status, error, at) VALUES (?, ?, 'status', ?, ?, ?)`,
		ws, s.DeskID, string(s.Status), clip(s.LastError, errorKept), micro(s.CheckedAt)); err != nil {
		return t.fail("add desk status change", err)
	}
	return t.prune(s.DeskID, s.CheckedAt)
}

// prune deletes a desk's history older than DeskHistoryKept before now,
// but for the latest status change before then: the status it had then.
func (t *tx) prune(deskID string, now time.Time) error {
	cutoff := micro(now.Add(-baton.DeskHistoryKept))
	_, err := t.exec(`DELETE FROM desk_history WHERE desk_id = ? AND at < ?
		AND id <> COALESCE((SELECT p.id FROM desk_history p WHERE p.desk_id = ? AND p.kind = 'status' AND p.at < ?
			ORDER BY p.at DESC, p.id DESC LIMIT 1), 0)`,
		deskID, cutoff, deskID, cutoff)
	if err != nil {
		return t.fail("prune desk history", err)
	}
	return nil
}

// DeskFailures counts the failed calls to the workspace's desks by desk and bucket.
func (t *tx) DeskFailures(q baton.StatsQuery) ([]baton.DeskCount, error) {
	if err := checkStats(q); err != nil {
		return nil, err
	}
	where := `workspace_id = ? AND kind = 'failure' AND at >= ? AND at < ?`
	args := []any{micro(q.From), q.Bucket.Microseconds(), q.WorkspaceID, micro(q.From), micro(q.To)}
	if q.DeskID != "" {
		where += ` AND desk_id = ?`
		args = append(args, q.DeskID)
	}
	cs, err := all(t, func(r scanner) (baton.DeskCount, error) {
		var c baton.DeskCount
		return c, r.Scan(&c.DeskID, &c.Bucket, &c.N)
	}, `SELECT desk_id, (at - ?) / ?, COUNT(*) FROM desk_history WHERE `+where+` GROUP BY 1, 2 ORDER BY 1, 2`, args...)
	if err != nil {
		return nil, t.fail("count desk failures", err)
	}
	return cs, nil
}

// DeskChanges lists the status changes of the workspace's desks in q's
// range, each desk's after its latest change before the range.
func (t *tx) DeskChanges(q baton.StatsQuery) ([]baton.DeskChange, error) {
	where := `workspace_id = ? AND kind = 'status'`
	args := []any{q.WorkspaceID}
	if q.DeskID != "" {
		where += ` AND desk_id = ?`
		args = append(args, q.DeskID)
	}
	args = append(args, micro(q.From), micro(q.To), micro(q.From))
	cs, err := all(t, func(r scanner) (baton.DeskChange, error) {
		var c baton.DeskChange
		var status string
		var at int64
		err := r.Scan(&c.DeskID, &status, &c.Error, &at)
		c.Status, c.At = baton.DeskStatus(cmp.Or(status, string(baton.NotConfigured))), fromMicro(at)
		return c, err
	}, `SELECT desk_id, status, error, at FROM desk_history h WHERE `+where+` AND ((at >= ? AND at < ?)
		OR id = (SELECT p.id FROM desk_history p WHERE p.desk_id = h.desk_id AND p.kind = 'status' AND p.at < ?
			ORDER BY p.at DESC, p.id DESC LIMIT 1))
	ORDER BY desk_id, at, id`, args...)
	if err != nil {
		return nil, t.fail("list desk status changes", err)
	}
	return cs, nil
}

// deskRow reads the workspace and status of a desk about to be changed,
// holding its row.
func (t *tx) deskRow(id string) (ws, status string, err error) {
	err = t.scalar(`SELECT workspace_id, status FROM desks WHERE id = ?`+t.forUpdate(), []any{id}, &ws, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", baton.Errorf(baton.ENOTFOUND, "desk %s not found", id)
	} else if err != nil {
		return "", "", t.fail("read desk "+id, err)
	}
	return ws, status, nil
}

// clip keeps the first n bytes of s that are whole UTF-8 characters,
// without NUL, so that a desk's error can always be stored.
func clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
