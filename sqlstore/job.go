package sqlstore

import (
	"cmp"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Jobs: locked_until is 0 for a job nobody holds and the lease's end for a
// claimed one (past or not). A claimed job is always the head of its lane,
// since ids only grow. FinishJob and RetryJob act only on claimed jobs, so a
// worker that finishes a timer after PutJob rescheduled it (which releases it)
// cannot delete the new schedule.

const jobColumns = `id, kind, lane, key, handoff_id, event_id, run_at, attempts, payload, last_error, created_at`

// lockLane serialises this transaction with others touching the lane's head.
func (t *tx) lockLane(lane string) error {
	if lane == "" || t.s.d.LockLane == "" {
		return nil
	}
	var ignored any
	return t.scalar(t.s.d.LockLane, []any{lane}, &ignored)
}

// PutJob inserts j, or when j.Key names an existing job, moves that job to
// j.RunAt with j's payload, lane, kind, handoff and event and releases it. A new job
// heads its lane when the lane is empty.
func (t *tx) PutJob(j baton.Job) error {
	var key any
	if j.Key != "" {
		key = j.Key
	}
	payload := j.Payload
	if payload == nil {
		payload = []byte{}
	}
	if err := t.lockLane(j.Lane); err != nil {
		return t.fail("put job", err)
	}
	// The job heads its lane when the lane has no other job; a job of no
	// lane is its own head. (WHERE TRUE keeps SQLite from reading ON
	// CONFLICT as part of the SELECT.)
	_, err := t.exec(`INSERT INTO jobs (kind, lane, key, handoff_id, event_id, run_at, locked_until, head, attempts, payload, last_error, created_at)
		SELECT ?, ?, ?, ?, ?, ?, 0, ? = '' OR NOT EXISTS (SELECT 1 FROM jobs WHERE lane = ?), ?, ?, ?, ? WHERE TRUE
		ON CONFLICT (key) DO UPDATE SET run_at = excluded.run_at, payload = excluded.payload, lane = excluded.lane,
			kind = excluded.kind, handoff_id = excluded.handoff_id, event_id = excluded.event_id, locked_until = 0`,
		j.Kind, j.Lane, key, j.HandoffID, j.EventID, micro(j.RunAt), j.Lane, j.Lane, j.Attempts, payload, j.LastError, micro(j.CreatedAt))
	if err != nil {
		return t.fail("put job", err)
	}
	return nil
}

// promote makes the oldest job of a lane its head after the head left.
func (t *tx) promote(lane string) error {
	if lane == "" {
		return nil
	}
	if err := t.lockLane(lane); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE jobs SET head = TRUE WHERE id = (SELECT min(id) FROM jobs WHERE lane = ?)`, lane)
	return err
}

// deleteJobs deletes the jobs a condition selects and promotes their lanes'
// next jobs, each lane once, in lane order (the order engine writes lock
// lanes in, so two transactions never wait for each other in a circle).
func (t *tx) deleteJobs(what, cond string, args ...any) error {
	rows, err := t.query(`DELETE FROM jobs WHERE `+cond+` RETURNING lane`, args...)
	if err != nil {
		return t.fail(what, err)
	}
	var lanes []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return t.fail(what, err)
		}
		lanes = append(lanes, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t.fail(what, err)
	}
	slices.Sort(lanes)
	for _, l := range slices.Compact(lanes) {
		if err := t.promote(l); err != nil {
			return t.fail(what, err)
		}
	}
	return nil
}

func scanJob(r scanner) (baton.Job, error) {
	var j baton.Job
	var key sql.NullString
	var run, at int64
	err := r.Scan(&j.ID, &j.Kind, &j.Lane, &key, &j.HandoffID, &j.EventID, &run, &j.Attempts, &j.Payload, &j.LastError, &at)
	j.Key, j.RunAt, j.CreatedAt = key.String, fromMicro(run), fromMicro(at)
	if len(j.Payload) == 0 {
		j.Payload = nil
	}
	return j, err
}

// ClaimJobs leases up to limit due jobs until now+lease: jobs whose RunAt has
// come, that nobody holds (or whose lease ran out) and that head their lane.
// They come back ordered by RunAt, then ID. A job whose lease ran out counts
// the run its worker did not finish as an attempt.
func (t *tx) ClaimJobs(now time.Time, limit int, lease time.Duration) ([]baton.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	lock := ""
	if t.s.d.SkipLocked {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	n := micro(now)
	js, err := all(t, scanJob, `UPDATE jobs SET locked_until = ?, attempts = attempts + CASE WHEN locked_until <> 0 THEN 1 ELSE 0 END WHERE id IN (
			SELECT j.id FROM jobs j WHERE j.head AND j.run_at <= ? AND j.locked_until <= ?
			ORDER BY j.run_at, j.id LIMIT ?`+lock+`)
		RETURNING `+jobColumns,
		max(micro(now.Add(lease)), 1), n, n, limit)
	if err != nil {
		return nil, t.fail("claim jobs", err)
	}
	slices.SortFunc(js, func(a, b baton.Job) int {
		return cmp.Or(a.RunAt.Compare(b.RunAt), cmp.Compare(a.ID, b.ID))
	})
	return js, nil
}

// FollowJobs leases, behind each head, up to limit of the jobs queued next in
// its lane while they are of its kind, due and free (see baton.Tx). One
// statement reads the candidates of every lane, a second leases them.
func (t *tx) FollowJobs(heads []baton.Job, now time.Time, limit int, lease time.Duration) ([]baton.Job, error) {
	kind := map[string]baton.JobKind{}
	var args []any
	for _, h := range heads {
		if h.Lane != "" && kind[h.Lane] == "" {
			kind[h.Lane] = h.Kind
			args = append(args, h.Lane)
		}
	}
	if limit <= 0 || len(args) == 0 {
		return nil, nil
	}
	rows, err := t.query(`SELECT id, lane, kind, run_at, locked_until FROM (
			SELECT id, lane, kind, run_at, locked_until, row_number() OVER (PARTITION BY lane ORDER BY id) AS n
			FROM jobs WHERE NOT head AND lane IN (?`+strings.Repeat(", ?", len(args)-1)+`)) queued
		WHERE n <= ? ORDER BY lane, id`, append(args, limit)...)
	if err != nil {
		return nil, t.fail("follow jobs", err)
	}
	n := micro(now)
	var ids []any
	stopped := map[string]bool{}
	for rows.Next() {
		var id, run, locked int64
		var lane string
		var k baton.JobKind
		if err := rows.Scan(&id, &lane, &k, &run, &locked); err != nil {
			rows.Close()
			return nil, t.fail("follow jobs", err)
		}
		if stopped[lane] || k != kind[lane] || run > n || locked > n {
			stopped[lane] = true // the lane's order forbids taking any after it
			continue
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, t.fail("follow jobs", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	js, err := all(t, scanJob, `UPDATE jobs SET locked_until = ?, attempts = attempts + CASE WHEN locked_until <> 0 THEN 1 ELSE 0 END
		WHERE locked_until <= ? AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) RETURNING `+jobColumns,
		append([]any{max(micro(now.Add(lease)), 1), n}, ids...)...)
	if err != nil {
		return nil, t.fail("follow jobs", err)
	}
	slices.SortFunc(js, func(a, b baton.Job) int { return cmp.Or(strings.Compare(a.Lane, b.Lane), cmp.Compare(a.ID, b.ID)) })
	return js, nil
}

// RenewJobs extends the leases of the claimed jobs ids to until, in id
// order: two transactions that lock some of the same job rows (a renewal
// and a round that records them, after a lease ran out and another
// instance took a job) take them in one order, and so never wait for each
// other in a circle.
func (t *tx) RenewJobs(ids []int64, until time.Time) error {
	ids = slices.Sorted(slices.Values(ids))
	for _, id := range ids {
		if _, err := t.exec(`UPDATE jobs SET locked_until = ? WHERE id = ? AND locked_until <> 0`, max(micro(until), 1), id); err != nil {
			return t.fail("renew jobs", err)
		}
	}
	return nil
}

// FinishJob deletes the claimed jobs ids; a job that is gone or was
// released is left alone.
func (t *tx) FinishJob(ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return t.deleteJobs("finish job", `id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) AND locked_until <> 0`, args...)
}

// RetryJob releases claimed job id to run again at runAt; a job that is gone or
// was released is left alone.
func (t *tx) RetryJob(r baton.JobRetry) error {
	_, err := t.exec(`UPDATE jobs SET run_at = ?, attempts = ?, last_error = ?, locked_until = 0
		WHERE id = ? AND locked_until <> 0`, micro(r.RunAt), r.Attempts, r.LastError, r.ID)
	if err != nil {
		return t.fail("retry job", err)
	}
	return nil
}

// DeleteJobByKey deletes the job with this key, if any.
func (t *tx) DeleteJobByKey(key string) error {
	if key == "" {
		return nil
	}
	return t.deleteJobs("delete job", `key = ?`, key)
}

// NextJobAt is the earliest time a job may be claimed: the RunAt of a free job
// heading its lane or the lease end of a claimed one. Jobs queued behind their
// lane's head do not count: they wait for the head to finish, not for a time.
func (t *tx) NextJobAt() (time.Time, bool, error) {
	var free, held sql.NullInt64
	err := t.scalar(`SELECT min(run_at) FROM jobs WHERE head AND locked_until = 0`, nil, &free)
	if err != nil {
		return time.Time{}, false, t.fail("next job", err)
	}
	if err := t.scalar(`SELECT min(locked_until) FROM jobs WHERE locked_until > 0`, nil, &held); err != nil {
		return time.Time{}, false, t.fail("next job", err)
	}
	switch {
	case free.Valid && held.Valid:
		return fromMicro(min(free.Int64, held.Int64)), true, nil
	case free.Valid:
		return fromMicro(free.Int64), true, nil
	case held.Valid:
		return fromMicro(held.Int64), true, nil
	}
	return time.Time{}, false, nil
}

// JobCount counts jobs by kind.
func (t *tx) JobCount() (map[string]int64, error) {
	rows, err := t.query(`SELECT kind, count(*) FROM jobs GROUP BY kind`)
	if err != nil {
		return nil, t.fail("count jobs", err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		m[k] = n
	}
	return m, rows.Err()
}

// SeenDeskEvent records the desk's event id and reports whether it was already there.
func (t *tx) SeenDeskEvent(deskID, eventID string, at time.Time) (bool, error) {
	r, err := t.exec(`INSERT INTO desk_events (desk_id, event_id, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		deskID, eventID, micro(at))
	if err != nil {
		return false, t.fail("seen desk event", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, t.fail("seen desk event", err)
	}
	return n == 0, nil
}

// Idempotency returns the record of the workspace's idempotency key.
func (t *tx) Idempotency(workspaceID, key string) (baton.Idempotency, error) {
	return one(t, func(r scanner) (baton.Idempotency, error) {
		var i baton.Idempotency
		var at int64
		err := r.Scan(&i.WorkspaceID, &i.Key, &i.Request, &i.Result, &i.Status, &at)
		i.CreatedAt = fromMicro(at)
		return i, err
	}, "idempotency key "+key,
		`SELECT workspace_id, key, request, ref, status, created_at FROM idempotency WHERE workspace_id = ? AND key = ?`,
		workspaceID, key)
}

// ClaimIdempotency inserts r unless its key is taken, then reads the key's
// record. The insert is what serialises concurrent claims: on PostgreSQL an
// INSERT that meets another transaction's uncommitted row waits for it, and
// the read after it sees that row once committed (READ COMMITTED takes a new
// snapshot per statement); SQLite has one writer.
func (t *tx) ClaimIdempotency(r baton.Idempotency) (baton.Idempotency, bool, error) {
	res, err := t.exec(`INSERT INTO idempotency (workspace_id, key, request, ref, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, key) DO NOTHING`,
		r.WorkspaceID, r.Key, r.Request, r.Result, r.Status, micro(r.CreatedAt))
	if err != nil {
		return r, false, t.fail("claim idempotency", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return r, false, t.fail("claim idempotency", err)
	}
	if n == 1 {
		return r, true, nil
	}
	got, err := t.Idempotency(r.WorkspaceID, r.Key)
	return got, false, err
}

// PutIdempotency inserts or replaces r.
func (t *tx) PutIdempotency(r baton.Idempotency) error {
	_, err := t.exec(`INSERT INTO idempotency (workspace_id, key, request, ref, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, key) DO UPDATE SET request = excluded.request, ref = excluded.ref,
			status = excluded.status, created_at = excluded.created_at`,
		r.WorkspaceID, r.Key, r.Request, r.Result, r.Status, micro(r.CreatedAt))
	if err != nil {
		return t.fail("put idempotency", err)
	}
	return nil
}
