package sqlstore

import (
	"time"

	"github.com/batonhq/baton"
)

// The delivery log: delivery_attempts holds the last baton.AttemptsKept
// attempts of each event, and a delivery is pending while a job with its
// event_id exists (jobs.event_id is set for bot.webhook jobs only, and
// indexed where it is set).

// AddAttempt records a delivery attempt and drops the event's attempts
// older than the last baton.AttemptsKept. An attempt for an event that is
// not there is not recorded, and is no error: the outbox records attempts
// in the transaction that records every finished job's outcome, which a
// failed statement would spoil on PostgreSQL.
func (t *tx) AddAttempt(a baton.DeliveryAttempt) error {
	r, err := t.exec(`INSERT INTO delivery_attempts (event_id, workspace_id, bot_id, at, status_code, error, duration_us)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM events WHERE id = ?)`,
		a.EventID, a.WorkspaceID, a.BotID, micro(a.At), a.StatusCode, a.Error, a.Duration.Microseconds(), a.EventID)
	if err != nil {
		return t.fail("add delivery attempt", err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return t.fail("add delivery attempt", err)
	} else if n == 0 || (a.Nth > 0 && a.Nth <= baton.AttemptsKept) {
		return nil // no such event, or no more attempts than the log keeps
	}
	// The newest AttemptsKept stay: every one older than the oldest of them
	// goes (none when there are not more).
	_, err = t.exec(`DELETE FROM delivery_attempts WHERE event_id = ? AND id <= (
			SELECT id FROM delivery_attempts WHERE event_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
		a.EventID, a.EventID, baton.AttemptsKept)
	if err != nil {
		return t.fail("trim delivery attempts", err)
	}
	return nil
}

// Deliveries lists a page of a bot's events with their deliveries.
func (t *tx) Deliveries(p baton.DeliveryPage) ([]baton.Delivery, error) {
	q := `SELECT id, type, seq, created_at FROM events WHERE workspace_id = ? AND bot_id = ? AND seq > ? ORDER BY seq`
	args := []any{p.WorkspaceID, p.BotID, p.After}
	if p.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, p.Limit)
	}
	ds, err := all(t, func(r scanner) (baton.Delivery, error) {
		var d baton.Delivery
		var at int64
		err := r.Scan(&d.EventID, &d.Type, &d.Seq, &at)
		d.CreatedAt, d.Attempts = fromMicro(at), []baton.DeliveryAttempt{}
		return d, err
	}, q, args...)
	if err != nil || len(ds) == 0 {
		return ds, err
	}
	byID := make(map[string]*baton.Delivery, len(ds))
	for i := range ds {
		byID[ds[i].EventID] = &ds[i]
	}
	// The page is every event of the bot with a seq from the first's to the
	// last's: the jobs and the attempts of those.
	const page = ` WHERE e.workspace_id = ? AND e.bot_id = ? AND e.seq >= ? AND e.seq <= ?`
	args = []any{p.WorkspaceID, p.BotID, ds[0].Seq, ds[len(ds)-1].Seq}
	// Jobs before attempts. PostgreSQL's reads see what was committed when
	// each statement began, and the outbox deletes a job in the transaction
	// that records its last attempt: read in this order, a delivery that
	// ends between the two reads shows pending with its last attempt, never
	// ended without it.
	pending := map[string]time.Time{}
	// (event_id <> '' lets the partial index jobs_event serve.)
	rows, err := t.query(`SELECT j.event_id, min(j.run_at) FROM jobs j JOIN events e ON e.id = j.event_id`+page+
		` AND j.event_id <> '' GROUP BY j.event_id`, args...)
	if err != nil {
		return nil, t.fail("deliveries", err)
	}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return nil, t.fail("deliveries", err)
		}
		pending[id] = fromMicro(at)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, t.fail("deliveries", err)
	}
	as, err := all(t, func(r scanner) (baton.DeliveryAttempt, error) {
		var a baton.DeliveryAttempt
		var at, us int64
		err := r.Scan(&a.EventID, &a.WorkspaceID, &a.BotID, &at, &a.StatusCode, &a.Error, &us)
		a.At, a.Duration = fromMicro(at), time.Duration(us)*time.Microsecond
		return a, err
	}, `SELECT a.event_id, a.workspace_id, a.bot_id, a.at, a.status_code, a.error, a.duration_us
		FROM delivery_attempts a JOIN events e ON e.id = a.event_id`+page+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, t.fail("deliveries", err)
	}
	for _, a := range as {
		if d := byID[a.EventID]; d != nil {
			d.Attempts = append(d.Attempts, a)
		}
	}
	for i := range ds {
		d := &ds[i]
		// Attempts recorded at once for one event may each have trimmed
		// before seeing the others: the list keeps to the bound anyway.
		d.Attempts = d.Attempts[max(0, len(d.Attempts)-baton.AttemptsKept):]
		next, ok := pending[d.EventID]
		d.Status = baton.DeliveryStatusOf(ok, d.Attempts)
		if ok {
			d.NextRetryAt = next
		}
	}
	return ds, nil
}
