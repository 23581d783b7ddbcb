package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

const convColumns = `id, workspace_id, bot_id, external_id, customer, owner, epoch, handoff_id, updated_at`

// PutConversation inserts or replaces c. The message counter is kept.
func (t *tx) PutConversation(c baton.Conversation) error {
	cust, err := jsonText(c.Customer)
	if err != nil {
		return err
	}
	err = t.upsert("put conversation "+c.ID,
		`INSERT INTO conversations (`+convColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET bot_id = excluded.bot_id, external_id = excluded.external_id,
			customer = excluded.customer, owner = excluded.owner, epoch = excluded.epoch,
			handoff_id = excluded.handoff_id, updated_at = excluded.updated_at
		WHERE conversations.workspace_id = excluded.workspace_id`,
		c.ID, c.WorkspaceID, c.BotID, c.ExternalID, cust, string(c.Owner), c.Epoch, c.HandoffID, micro(c.UpdatedAt))
	if baton.ErrorCode(err) == baton.ECONFLICT {
		// A request at the same time made the bot's conversation first (the
		// unique bot and external id): run again, to find it made.
		t.retry = true
	}
	return err
}

func scanConv(r scanner) (baton.Conversation, error) {
	var c baton.Conversation
	var cust string
	var at int64
	if err := r.Scan(&c.ID, &c.WorkspaceID, &c.BotID, &c.ExternalID, &cust, &c.Owner, &c.Epoch, &c.HandoffID, &at); err != nil {
		return c, err
	}
	c.UpdatedAt = fromMicro(at)
	if err := json.Unmarshal([]byte(cust), &c.Customer); err != nil {
		return c, fmt.Errorf("conversation %s customer: %w", c.ID, err)
	}
	return c, nil
}

// Conversation returns the bot's conversation known by the bot as externalID.
func (t *tx) Conversation(k baton.ConversationKey) (baton.Conversation, error) {
	return one(t, scanConv, "conversation "+k.ExternalID,
		`SELECT `+convColumns+` FROM conversations WHERE workspace_id = ? AND bot_id = ? AND external_id = ?`+t.forUpdate(),
		k.WorkspaceID, k.BotID, k.ExternalID)
}

// ConversationByID returns conversation id.
func (t *tx) ConversationByID(id string) (baton.Conversation, error) {
	return one(t, scanConv, "conversation "+id, `SELECT `+convColumns+` FROM conversations WHERE id = ?`+t.forUpdate(), id)
}

const handoffColumns = `id, workspace_id, conversation_id, external_id, bot_id, desk_id, state, end_reason,
	epoch, desk_ref, desk_data, agent, routing, decision, question, needs_email, reply, summary,
	created_at, queued_at, active_at, ended_at, waiting_since, wait_notified_at,
	last_customer_at, last_agent_at, last_message_at, wait_told_at, taken_at, desk_position,
	customer_typing_at, agent_typing_at, agent_read_at, paused_until`

// PutHandoff inserts or replaces h.
func (t *tx) PutHandoff(h baton.Handoff) error {
	agent, err := jsonText(h.Agent)
	if err != nil {
		return err
	}
	decision := ""
	if h.Decision != nil {
		if decision, err = jsonText(h.Decision); err != nil {
			return err
		}
	}
	var deskData []byte
	if h.DeskData != "" {
		deskData = t.s.seal([]byte(h.DeskData), "handoffs.desk_data:"+h.ID)
	}
	return t.upsert("put handoff "+h.ID,
		`INSERT INTO handoffs (`+handoffColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET conversation_id = excluded.conversation_id,
			external_id = excluded.external_id, bot_id = excluded.bot_id, desk_id = excluded.desk_id,
			state = excluded.state, end_reason = excluded.end_reason, epoch = excluded.epoch,
			desk_ref = excluded.desk_ref, desk_data = excluded.desk_data, agent = excluded.agent, routing = excluded.routing, decision = excluded.decision,
			question = excluded.question, needs_email = excluded.needs_email, reply = excluded.reply,
			summary = excluded.summary, created_at = excluded.created_at, queued_at = excluded.queued_at,
			active_at = excluded.active_at, ended_at = excluded.ended_at,
			waiting_since = excluded.waiting_since, wait_notified_at = excluded.wait_notified_at,
			last_customer_at = excluded.last_customer_at, last_agent_at = excluded.last_agent_at,
			last_message_at = excluded.last_message_at, wait_told_at = excluded.wait_told_at,
			taken_at = excluded.taken_at, desk_position = excluded.desk_position,
			customer_typing_at = excluded.customer_typing_at, agent_typing_at = excluded.agent_typing_at,
			agent_read_at = excluded.agent_read_at, paused_until = excluded.paused_until
		WHERE handoffs.workspace_id = excluded.workspace_id`,
		h.ID, h.WorkspaceID, h.ConversationID, h.ExternalID, h.BotID, h.DeskID, string(h.State), string(h.EndReason),
		h.Epoch, h.DeskRef, deskData, agent, h.Routing, decision, h.Question, h.NeedsEmail, h.Reply, rawText(h.Summary),
		micro(h.CreatedAt), micro(h.QueuedAt), micro(h.ActiveAt), micro(h.EndedAt), micro(h.WaitingSince),
		micro(h.WaitNotifiedAt), micro(h.LastCustomerAt), micro(h.LastAgentAt), micro(h.LastMessageAt), micro(h.WaitToldAt),
		micro(h.TakenAt), h.DeskPosition, micro(h.CustomerTypingAt), micro(h.AgentTypingAt), micro(h.AgentReadAt), micro(h.PausedUntil))
}

func (s *Store) scanHandoff(r scanner) (baton.Handoff, error) {
	var h baton.Handoff
	var agent, summary, decision string
	var deskData []byte
	var at [15]int64
	err := r.Scan(&h.ID, &h.WorkspaceID, &h.ConversationID, &h.ExternalID, &h.BotID, &h.DeskID, &h.State, &h.EndReason,
		&h.Epoch, &h.DeskRef, &deskData, &agent, &h.Routing, &decision, &h.Question, &h.NeedsEmail, &h.Reply, &summary,
		&at[0], &at[1], &at[2], &at[3], &at[4], &at[5], &at[6], &at[7], &at[8], &at[9], &at[10], &h.DeskPosition,
		&at[11], &at[12], &at[13], &at[14])
	if err != nil {
		return h, err
	}
	h.CreatedAt, h.QueuedAt, h.ActiveAt = fromMicro(at[0]), fromMicro(at[1]), fromMicro(at[2])
	h.EndedAt, h.WaitingSince, h.WaitNotifiedAt = fromMicro(at[3]), fromMicro(at[4]), fromMicro(at[5])
	h.LastCustomerAt, h.LastAgentAt, h.LastMessageAt = fromMicro(at[6]), fromMicro(at[7]), fromMicro(at[8])
	h.WaitToldAt, h.TakenAt = fromMicro(at[9]), fromMicro(at[10])
	h.CustomerTypingAt, h.AgentTypingAt, h.AgentReadAt = fromMicro(at[11]), fromMicro(at[12]), fromMicro(at[13])
	h.PausedUntil = fromMicro(at[14])
	h.Summary = readRaw(summary)
	plain, err := s.open(deskData, "handoffs.desk_data:"+h.ID)
	if err != nil {
		return h, fmt.Errorf("handoff %s desk data: %w", h.ID, err)
	}
	h.DeskData = string(plain)
	if decision != "" {
		h.Decision = new(baton.Decision)
		if err := json.Unmarshal([]byte(decision), h.Decision); err != nil {
			return h, fmt.Errorf("handoff %s decision: %w", h.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(agent), &h.Agent); err != nil {
		return h, fmt.Errorf("handoff %s agent: %w", h.ID, err)
	}
	return h, nil
}

// Handoff returns the workspace's handoff id.
func (t *tx) Handoff(workspaceID, id string) (baton.Handoff, error) {
	return one(t, t.s.scanHandoff, "handoff "+id,
		`SELECT `+handoffColumns+` FROM handoffs WHERE workspace_id = ? AND id = ?`+t.forUpdate(), workspaceID, id)
}

// HandoffByRef returns the handoff a desk knows as ref, the newest if the desk reused it.
func (t *tx) HandoffByRef(deskID, ref string) (baton.Handoff, error) {
	return one(t, t.s.scanHandoff, "handoff with desk ref "+ref,
		`SELECT `+handoffColumns+` FROM handoffs WHERE desk_id = ? AND desk_ref = ? AND desk_ref <> ''
		ORDER BY created_at DESC, id DESC LIMIT 1`+t.forUpdate(), deskID, ref)
}

// Handoffs lists a conversation's handoffs, newest first.
func (t *tx) Handoffs(conversationID string) ([]baton.Handoff, error) {
	return all(t, t.s.scanHandoff,
		`SELECT `+handoffColumns+` FROM handoffs WHERE conversation_id = ? ORDER BY created_at DESC, id DESC`,
		conversationID)
}

// HandoffsInState lists a desk's handoffs in state s, oldest first, at most limit (0 = all).
func (t *tx) HandoffsInState(deskID string, s baton.State, limit int) ([]baton.Handoff, error) {
	q := `SELECT ` + handoffColumns + ` FROM handoffs WHERE desk_id = ? AND state = ? ORDER BY created_at, id`
	args := []any{deskID, string(s)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return all(t, t.s.scanHandoff, q, args...)
}

// inQueue is the condition of a handoff in its desk's queue, written out
// so that the queries using it can use the partial index handoffs_queue.
const inQueue = `state = 'queued' AND taken_at = 0`

// QueuedHandoffs lists a desk's queue in queue order, at most limit (0 = all).
func (t *tx) QueuedHandoffs(deskID string, limit int) ([]baton.Handoff, error) {
	q := `SELECT ` + handoffColumns + ` FROM handoffs WHERE desk_id = ? AND ` + inQueue + ` ORDER BY queued_at, id`
	args := []any{deskID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return all(t, t.s.scanHandoff, q, args...)
}

// QueuePosition is h's rank in its desk's queue: 1 + the handoffs before it.
func (t *tx) QueuePosition(h baton.Handoff) (int, error) {
	var n int
	at := micro(h.QueuedAt)
	err := t.scalar(`SELECT count(*) FROM handoffs WHERE desk_id = ? AND `+inQueue+`
		AND (queued_at < ? OR (queued_at = ? AND id < ?))`, []any{h.DeskID, at, at, h.ID}, &n)
	if err != nil {
		return 0, t.fail("queue position of "+h.ID, err)
	}
	return n + 1, nil
}

// RecentWaits lists the waits of the desk's handoffs taken at or after
// since, the latest taken first, at most limit.
func (t *tx) RecentWaits(deskID string, since time.Time, limit int) ([]time.Duration, error) {
	if limit <= 0 {
		return nil, nil
	}
	return all(t, func(r scanner) (time.Duration, error) {
		var queued, taken int64
		err := r.Scan(&queued, &taken)
		return max(fromMicro(taken).Sub(fromMicro(queued)), 0), err
	}, `SELECT queued_at, taken_at FROM handoffs WHERE desk_id = ? AND taken_at > 0 AND taken_at >= ? AND queued_at > 0
	ORDER BY taken_at DESC, id DESC LIMIT ?`, deskID, micro(since), limit)
}

// LockQueue holds the desk's queue until the transaction ends, with the
// dialect's lane lock under a name no lane has.
func (t *tx) LockQueue(deskID string) error {
	if err := t.lockLane("queue:" + deskID); err != nil {
		return t.fail("lock the queue of desk "+deskID, err)
	}
	return nil
}

// CountHandoffs counts handoffs by state and end reason.
func (t *tx) CountHandoffs() (map[[2]string]int64, error) {
	type count struct {
		k [2]string
		n int64
	}
	cs, err := all(t, func(r scanner) (count, error) {
		var c count
		err := r.Scan(&c.k[0], &c.k[1], &c.n)
		return c, err
	}, `SELECT state, end_reason, count(*) FROM handoffs GROUP BY state, end_reason`)
	if err != nil {
		return nil, err
	}
	m := make(map[[2]string]int64, len(cs))
	for _, c := range cs {
		m[c.k] = c.n
	}
	return m, nil
}

const messageColumns = `id, conversation_id, handoff_id, seq, author, agent_name, text, attachments, epoch, late, created_at`

// AddMessage appends m to its conversation, setting m.Seq. The conversation
// must exist: its counter row is what makes the numbers gapless and race-free.
func (t *tx) AddMessage(m *baton.Message) error {
	var atts string
	if m.Attachments != nil {
		var err error
		if atts, err = jsonText(m.Attachments); err != nil {
			return err
		}
	}
	var seq int64
	err := t.scalar(`UPDATE conversations SET msg_seq = msg_seq + 1 WHERE id = ? RETURNING msg_seq`,
		[]any{m.ConversationID}, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return baton.Errorf(baton.ENOTFOUND, "conversation %s not found", m.ConversationID)
	} else if err != nil {
		return t.fail("add message", err)
	}
	_, err = t.exec(`INSERT INTO messages (`+messageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ConversationID, m.HandoffID, seq, string(m.Author), m.AgentName, m.Text, atts, m.Epoch, m.Late,
		micro(m.CreatedAt))
	if err != nil {
		return t.fail("add message "+m.ID, err)
	}
	m.Seq = seq
	return nil
}

func scanMessage(r scanner) (baton.Message, error) {
	var m baton.Message
	var atts string
	var at int64
	err := r.Scan(&m.ID, &m.ConversationID, &m.HandoffID, &m.Seq, &m.Author, &m.AgentName, &m.Text, &atts,
		&m.Epoch, &m.Late, &at)
	if err != nil {
		return m, err
	}
	m.CreatedAt = fromMicro(at)
	if atts != "" {
		if err := json.Unmarshal([]byte(atts), &m.Attachments); err != nil {
			return m, fmt.Errorf("message %s attachments: %w", m.ID, err)
		}
	}
	return m, nil
}

// Messages lists a conversation's messages with Seq > after, in order, at most limit (0 = all).
func (t *tx) Messages(conversationID string, after int64, limit int) ([]baton.Message, error) {
	q := `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq`
	args := []any{conversationID, after}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return all(t, scanMessage, q, args...)
}

// LastMessages lists a conversation's last n messages, in order.
func (t *tx) LastMessages(conversationID string, n int) ([]baton.Message, error) {
	if n <= 0 {
		return nil, nil
	}
	ms, err := all(t, scanMessage,
		`SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?`,
		conversationID, n)
	slices.Reverse(ms)
	return ms, err
}

// HandoffMessages lists one handoff's messages, in order.
func (t *tx) HandoffMessages(handoffID string) ([]baton.Message, error) {
	return all(t, scanMessage, `SELECT `+messageColumns+` FROM messages WHERE handoff_id = ? ORDER BY seq`, handoffID)
}

// Message reads one message.
func (t *tx) Message(id string) (baton.Message, error) {
	return one(t, scanMessage, "message "+id, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id)
}

const eventColumns = `id, workspace_id, bot_id, seq, type, handoff_id, conversation_id, epoch, data, created_at`

// AddEvent appends e to its workspace's events, setting e.Seq.
func (t *tx) AddEvent(e *baton.Event) error {
	var seq int64
	err := t.scalar(`UPDATE workspaces SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq`,
		[]any{e.WorkspaceID}, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return baton.Errorf(baton.ENOTFOUND, "workspace %s not found", e.WorkspaceID)
	} else if err != nil {
		return t.fail("add event", err)
	}
	_, err = t.exec(`INSERT INTO events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.WorkspaceID, e.BotID, seq, e.Type, e.HandoffID, e.ExternalID, e.Epoch, rawText(e.Data),
		micro(e.CreatedAt))
	if err != nil {
		return t.fail("add event "+e.ID, err)
	}
	e.Seq = seq
	return nil
}

func scanEvent(r scanner) (baton.Event, error) {
	var e baton.Event
	var data string
	var at int64
	err := r.Scan(&e.ID, &e.WorkspaceID, &e.BotID, &e.Seq, &e.Type, &e.HandoffID, &e.ExternalID, &e.Epoch,
		&data, &at)
	e.Data, e.CreatedAt = readRaw(data), fromMicro(at)
	return e, err
}

// Events lists a workspace's events for one bot with Seq > after, in order, at most limit (0 = all).
func (t *tx) Events(p baton.EventPage) ([]baton.Event, error) {
	q := `SELECT ` + eventColumns + ` FROM events WHERE workspace_id = ? AND bot_id = ? AND seq > ? ORDER BY seq`
	args := []any{p.WorkspaceID, p.BotID, p.After}
	if p.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, p.Limit)
	}
	return all(t, scanEvent, q, args...)
}

// Event returns event id.
func (t *tx) Event(id string) (baton.Event, error) {
	return one(t, scanEvent, "event "+id, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id)
}
