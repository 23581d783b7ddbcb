// Package sqlstore implements baton.Store over database/sql. The sqlite and
// postgres packages open a database, apply their migrations and hand it here
// with a Dialect that says how the two databases differ.
//
// Conventions shared by both schemas: times are BIGINT unix microseconds in UTC
// (0 is the zero time.Time); policies, customers, agents, attachments and
// summaries are JSON text; desk settings and bot webhook secrets are sealed
// with AES-256-GCM. Message.Seq and Event.Seq come from counter columns
// (conversations.msg_seq, workspaces.event_seq) bumped with UPDATE ... RETURNING,
// so they are gapless and race-free under concurrent writers.
package sqlstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// Dialect says how one database differs from the SQL both understand.
type Dialect struct {
	// Name names the database in error messages ("sqlite", "postgres").
	Name string
	// Numbered makes placeholders $1, $2, ... instead of ?.
	Numbered bool
	// SkipLocked makes ClaimJobs lock the rows it claims with FOR UPDATE SKIP LOCKED,
	// so concurrent claimers never take the same job.
	SkipLocked bool
	// Retry reports whether err aborted a transaction that may succeed when run
	// again (serialization failure, deadlock). Nil means never.
	Retry func(err error) bool
	// Code maps a driver error to a baton error code: baton.ECONFLICT for a
	// unique violation, baton.ENOTFOUND for a foreign key violation, "" otherwise.
	// Nil means "".
	Code func(err error) string
	// ForUpdate is appended to the reads of handoffs and conversations
	// (" FOR UPDATE"), so that a transaction that reads one to change it holds
	// it until commit and concurrent changes cannot overwrite each other.
	// Not needed where writers are serialised (SQLite).
	ForUpdate string
	// ForShare is appended to the reads that pin rows a new row depends on
	// (" FOR SHARE"): a delete of them waits for the reading transaction.
	ForShare string
	// LockLane, when set, is a statement taking a transaction-scoped lock on a
	// lane name (its one argument), so that concurrent transactions agree on
	// which job heads a lane. Not needed where writers are serialised (SQLite).
	LockLane string
	// Group commits concurrent transactions together: a writer goroutine runs
	// the waiting transactions' functions one after another, each under its own
	// savepoint, inside one database transaction, so that one commit (the
	// costly part: an fsync) serves many, and a row every transaction bumps
	// (a workspace's event counter) is locked once a batch instead of once a
	// transaction. A function that fails rolls back to its savepoint only; one
	// that fails in a way Retry recognises runs again in a later batch, once
	// the locks of its batch are gone.
	Group bool
	// Writers is how many group writers run batches at once, each in its own
	// database transaction on its own connection; 0 means 1. SQLite has one
	// writing connection, so 1. More than one overlaps one batch's round trips
	// (PostgreSQL) with another's, but the batches contend for the same hot
	// rows, wait for each other's commits and can deadlock (the victim runs
	// again).
	Writers int
	// ViewInTurn makes View, when the store has no reader pool, run in a group
	// writer's turn, for a database whose only connection is the writer's
	// (SQLite). Otherwise View is a READ ONLY transaction on the pool, beside
	// the writers.
	ViewInTurn bool
	// LockTimeout, when set, is a statement that bounds lock waits for the
	// rest of a grouped transaction ("SET LOCAL lock_timeout = ..."), run
	// after the first member of a batch of several. A later member that waits
	// for a lock holds up its whole batch while the batch keeps the locks of
	// the members before it: two batches (two writers, two instances) that
	// wait for each other deadlock, and deadlock detection takes a second
	// (PostgreSQL's deadlock_timeout). With the bound the waiting member fails
	// (TimedOut reports its error), rolls back to its savepoint, and heads a
	// later batch, where its waits are not bounded, as in a transaction of its
	// own; such a rerun does not count against the retries.
	LockTimeout string
	// TimedOut reports whether err is the failure of a wait LockTimeout bounded.
	TimedOut func(err error) bool
	// Prepare keeps each query prepared once used, for drivers that do not
	// cache prepared statements themselves (modernc.org/sqlite; pgx does).
	Prepare bool
}

// maxRetries is how many times Tx runs fn again after a retryable failure.
const maxRetries = 3

// Store is a baton.Store over a *sql.DB.
type Store struct {
	db     *sql.DB
	reader *sql.DB  // read-only connections for View, when the database has a single writer (SQLite)
	rstmts sync.Map // query → *sql.Stmt prepared on reader
	d      Dialect
	aead   cipher.AEAD
	qs     sync.Map // query text with ? -> query text in the dialect's placeholders

	mu       sync.Mutex
	stmts    map[string]*sql.Stmt // prepared queries, when d.Prepare
	pending  map[string]bool      // queries to prepare once the transaction that ran them is over
	rpending map[string]bool      // the same for the reader pool

	calls   chan call     // transactions waiting for the group writers, when d.Group
	closed  chan struct{} // closed by Close
	writing sync.WaitGroup

	failCommit func() error // when set (by tests), a grouped commit that it fails rolls back instead
}

// call is a transaction handed to the group writers.
type call struct {
	ctx   context.Context
	fn    func(baton.Tx) error
	done  chan outcome
	tries int // how many times fn ran already and failed in a way worth retrying
}

// outcome is how a grouped transaction went.
type outcome struct {
	err      error
	retry    bool // err is worth running fn again for
	timedOut bool // err is a bounded lock wait's (Dialect.LockTimeout) running out
	panicked bool
	panic    any
}

var _ baton.Store = (*Store)(nil)

// New returns a Store over db, whose schema must be migrated already. key is
// the 32-byte AES-256 key that seals secrets at rest; New panics if it is not
// 32 bytes long (callers check it first).
func New(db *sql.DB, d Dialect, key []byte) *Store {
	if len(key) != 32 {
		panic("sqlstore: key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	s := &Store{db: db, d: d, aead: aead, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}, rpending: map[string]bool{},
		calls: make(chan call), closed: make(chan struct{})}
	if d.Group {
		for range max(d.Writers, 1) {
			s.writing.Add(1)
			go s.writer()
		}
	}
	return s
}

// WithReader makes View use r, a pool of read-only connections to the same
// database, so reads do not queue behind the single writer. The store closes r.
func (s *Store) WithReader(r *sql.DB) *Store {
	s.reader = r
	return s
}

// View runs fn in a read-only transaction that takes no row locks: on the
// reader pool when there is one, else in a writer's turn with
// Dialect.ViewInTurn, else a READ ONLY transaction of the pool.
func (s *Store) View(ctx context.Context, fn func(baton.Tx) error) error {
	db, opts := s.reader, (*sql.TxOptions)(nil)
	if db == nil {
		if s.d.Group && s.d.ViewInTurn {
			// A single connection and no reader pool: read in the writer's turn.
			return s.Tx(ctx, func(t baton.Tx) error {
				t.(*tx).view = true
				return fn(t)
			})
		}
		db, opts = s.db, &sql.TxOptions{ReadOnly: true}
	}
	stx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("%s: begin read: %w", s.d.Name, err)
	}
	err = fn(&tx{s: s, ctx: ctx, tx: stx, view: true, reader: s.reader != nil})
	stx.Rollback()
	if s.reader != nil {
		s.prepareReader(ctx)
	}
	return err
}

// readerStmt returns query prepared on the reader pool, or nil when it is
// not prepared yet: then it is noted, and prepared once the transaction that
// asked has given its connection back (preparing inside it could wait for a
// connection that every reader holds).
func (s *Store) readerStmt(query string) *sql.Stmt {
	if v, ok := s.rstmts.Load(query); ok {
		return v.(*sql.Stmt)
	}
	s.mu.Lock()
	s.rpending[query] = true
	s.mu.Unlock()
	return nil
}

// prepareReader prepares the queries reader transactions ran unprepared.
func (s *Store) prepareReader(ctx context.Context) {
	s.mu.Lock()
	var qs []string
	for q := range s.rpending {
		qs = append(qs, q)
	}
	clear(s.rpending)
	s.mu.Unlock()
	for _, q := range qs {
		if _, ok := s.rstmts.Load(q); ok {
			continue
		}
		st, err := s.reader.PrepareContext(ctx, s.q(q))
		if err != nil {
			continue // it runs unprepared, and reports its error there
		}
		if _, loaded := s.rstmts.LoadOrStore(q, st); loaded {
			st.Close()
		}
	}
}

// DB returns the underlying database, for migrations and tests.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the prepared statements and the database.
func (s *Store) Close() error {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.writing.Wait()
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	clear(s.stmts)
	s.mu.Unlock()
	if s.reader != nil {
		s.rstmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
		s.reader.Close()
	}
	return s.db.Close()
}

// Tx runs fn in a transaction and commits if fn returns nil. It rolls back when
// fn returns an error or panics (and then panics again). When the database
// aborts the transaction for a serialization failure or a deadlock, fn runs
// again, up to 3 more times, so fn must not keep state across calls. Tx must not
// be called from inside fn.
func (s *Store) Tx(ctx context.Context, fn func(baton.Tx) error) error {
	if s.d.Group {
		return s.group(ctx, fn)
	}
	for try := 0; ; try++ {
		retry, err := s.run(ctx, fn)
		s.prepare(ctx)
		if err == nil || !retry || try == maxRetries || ctx.Err() != nil {
			return err
		}
		// A little jitter so that two transactions that deadlocked do not meet again.
		t := time.NewTimer(time.Duration(1+rand.IntN(10*(try+1))) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// run runs fn once and reports whether a failure may be retried.
func (s *Store) run(ctx context.Context, fn func(baton.Tx) error) (retry bool, err error) {
	stx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.retryable(err), fmt.Errorf("%s: begin: %w", s.d.Name, err)
	}
	t := &tx{s: s, ctx: ctx, tx: stx}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return t.retry, err
	}
	if err := stx.Commit(); err != nil {
		return t.retry || s.retryable(err), fmt.Errorf("%s: commit: %w", s.d.Name, err)
	}
	return false, nil
}

// errClosed answers transactions asked of a closed store.
var errClosed = errors.New("sqlstore: the store is closed")

// group hands fn to the group writers and waits for its outcome.
func (s *Store) group(ctx context.Context, fn func(baton.Tx) error) error {
	c := call{ctx: ctx, fn: fn, done: make(chan outcome, 1)}
	select {
	case s.calls <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	}
	o := <-c.done
	if o.panicked {
		panic(o.panic)
	}
	return o.err
}

// maxGroup bounds how many transactions share one commit.
const maxGroup = 128

// writer runs grouped transactions until the store closes. A transaction
// that failed in a way worth retrying heads the writer's next batch: by then
// the locks its batch held are released, and it takes its own before the
// others of the batch take theirs.
func (s *Store) writer() {
	defer s.writing.Done()
	var again []call
	for {
		batch := again
		if len(batch) == 0 {
			select {
			case c := <-s.calls:
				batch = append(batch, c)
			case <-s.closed:
				return
			}
		}
	more:
		for len(batch) < maxGroup {
			select {
			case c := <-s.calls:
				batch = append(batch, c)
			default:
				break more
			}
		}
		again = s.commitGroup(batch)
		s.prepare(context.Background())
	}
}

// commitGroup runs a batch of transactions in one database transaction,
// answers those that are done and returns those to run again.
func (s *Store) commitGroup(batch []call) (again []call) {
	out := make([]outcome, len(batch))
	defer func() {
		for i, c := range batch {
			o := out[i]
			if o.timedOut && !o.panicked && c.ctx.Err() == nil {
				again = append(again, c) // it heads a later batch: nothing bounds its waits there
				continue
			}
			if o.retry && !o.panicked && c.tries < maxRetries && c.ctx.Err() == nil {
				c.tries++
				again = append(again, c)
				continue
			}
			c.done <- o
		}
	}()
	stx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		for i := range out {
			out[i] = outcome{err: fmt.Errorf("%s: begin: %w", s.d.Name, err), retry: s.retryable(err)}
		}
		return nil
	}
	if len(batch) == 1 {
		// Alone: the transaction itself is the savepoint.
		c := batch[0]
		if out[0].err = c.ctx.Err(); out[0].err == nil {
			out[0] = s.attempt(&tx{s: s, ctx: context.WithoutCancel(c.ctx), tx: stx}, c.fn)
		}
		if out[0].err != nil || out[0].panicked {
			stx.Rollback()
			return nil
		}
	} else {
		s.savepoints(stx, batch, out)
	}
	if err := s.commit(stx); err != nil {
		retry := s.retryable(err)
		for i := range out {
			if out[i].err == nil && !out[i].panicked {
				out[i] = outcome{err: fmt.Errorf("%s: commit: %w", s.d.Name, err), retry: retry}
			}
		}
	}
	return nil
}

// commit commits a grouped transaction, or fails it as a test asks.
func (s *Store) commit(stx *sql.Tx) error {
	if s.failCommit != nil {
		if err := s.failCommit(); err != nil {
			stx.Rollback()
			return err
		}
	}
	return stx.Commit()
}

// savepoints runs each transaction of a batch under its own savepoint, so
// that one which fails rolls back alone. The savepoint statements go through
// the prepared-statement cache.
func (s *Store) savepoints(stx *sql.Tx, batch []call, out []outcome) {
	g := &tx{s: s, ctx: context.Background(), tx: stx}
	for i, c := range batch {
		if i == 1 && s.d.LockTimeout != "" {
			// From here on the batch may hold locks that others wait for.
			if _, err := g.exec(s.d.LockTimeout); err != nil {
				out[i] = outcome{err: fmt.Errorf("%s: lock timeout: %w", s.d.Name, err), retry: s.retryable(err)}
				continue
			}
		}
		if err := c.ctx.Err(); err != nil {
			out[i].err = err
			continue
		}
		if _, err := g.exec(`SAVEPOINT grouped`); err != nil {
			// The transaction is broken (its connection is gone): nothing more of it commits.
			out[i] = outcome{err: fmt.Errorf("%s: savepoint: %w", s.d.Name, err), retry: s.retryable(err)}
			continue
		}
		// A cancelled query would interrupt SQLite and roll back the whole
		// group (pgx closes the connection), so a transaction that started
		// runs to its end.
		out[i] = s.attempt(&tx{s: s, ctx: context.WithoutCancel(c.ctx), tx: stx}, c.fn)
		if out[i].err != nil || out[i].panicked {
			_, _ = g.exec(`ROLLBACK TO grouped`)
		}

		if _, err := g.exec(`RELEASE grouped`); err != nil {
			// fn returned nil after a statement failed (PostgreSQL then refuses
			// everything but a rollback): it must not take the batch down with it.
			_, _ = g.exec(`ROLLBACK TO grouped`)
			_, _ = g.exec(`RELEASE grouped`)
			if out[i].err == nil && !out[i].panicked {
				out[i].err = fmt.Errorf("%s: release: %w", s.d.Name, err)
			}
		}
	}
}

// attempt runs one grouped function, catching its panic for its caller.
func (s *Store) attempt(t *tx, fn func(baton.Tx) error) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = outcome{panicked: true, panic: p}
		}
	}()
	err := fn(t)
	if err == nil {
		return outcome{}
	}
	return outcome{err: err, retry: t.retry || s.retryable(err), timedOut: t.timedOut || s.timedOut(err)}
}

// stmt returns query's prepared statement, or nil if it is not prepared (yet).
func (s *Store) stmt(query string) *sql.Stmt {
	if !s.d.Prepare {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stmts[query]
	if st == nil {
		s.pending[query] = true
	}
	return st
}

// prepare prepares the queries that transactions ran unprepared. It runs
// between transactions because preparing needs a connection of its own, and
// SQLite has only one.
func (s *Store) prepare(ctx context.Context) {
	if !s.d.Prepare {
		return
	}
	s.mu.Lock()
	var qs []string
	for q := range s.pending {
		qs = append(qs, q)
	}
	clear(s.pending)
	s.mu.Unlock()
	for _, q := range qs {
		st, err := s.db.PrepareContext(ctx, s.q(q))
		if err != nil {
			continue // it runs unprepared, and reports its error there
		}
		s.mu.Lock()
		if s.stmts[q] == nil {
			s.stmts[q], st = st, nil
		}
		s.mu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

func (s *Store) retryable(err error) bool { return s.d.Retry != nil && s.d.Retry(err) }

func (s *Store) timedOut(err error) bool { return s.d.TimedOut != nil && s.d.TimedOut(err) }

// q returns query, written with ? placeholders, in the dialect's placeholders.
func (s *Store) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	if v, ok := s.qs.Load(query); ok {
		return v.(string)
	}
	v := number(query)
	s.qs.Store(query, v)
	return v
}

// number rewrites each ? in query as $1, $2, .... Queries here never hold a ?
// inside a string literal.
func number(query string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// micro converts t to unix microseconds, 0 for the zero time.
func micro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicro converts unix microseconds to a UTC time, the zero time for 0.
func fromMicro(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}
