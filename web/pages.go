package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// call is one request of a signed-in agent.
type call struct {
	agent  baton.InboxAgent
	cookie string // the session cookie's value
	csrf   string // the CSRF token of the session's forms
}

// handler answers a signed-in agent's request.
type handler func(w http.ResponseWriter, r *http.Request, c *call)

// authenticate reads the session cookie and the agent again: a disabled or
// deleted agent, one whose password changed, or a deleted workspace ends
// the session at once. It returns nil (and whether there was a cookie) when
// there is no live session, and an error only when the store fails.
func (s *Server) authenticate(r *http.Request) (c *call, hadCookie bool, err error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, false, nil
	}
	sess, err := decodeSession(s.p.SessionKey, ck.Value, time.Now())
	if err != nil {
		return nil, true, nil
	}
	a, err := s.agentOf(r.Context(), sess)
	if errors.Is(err, errSession) {
		return nil, true, nil
	} else if err != nil {
		return nil, true, err
	}
	return &call{agent: a, cookie: ck.Value, csrf: csrfToken(s.p.SessionKey, ck.Value)}, true, nil
}

// agentOf reads a session's agent, errSession when it may no longer act.
func (s *Server) agentOf(ctx context.Context, sess session) (baton.InboxAgent, error) {
	a, err := s.p.Engine.Agent(ctx, sess.Workspace, sess.Agent)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return a, errSession
	case err != nil:
		return a, fmt.Errorf("reading the session's agent: %w", err)
	case a.Disabled || a.PasswordHash == "" || sess.Gen != a.SessionGen || !validToken(sess.Password, passwordPrint(s.p.SessionKey, a)):
		return a, errSession
	}
	s.p.Engine.AgentSeen(ctx, &a)
	return a, nil
}

// endSession removes the session cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, sessionCookie, "", cookiePath, -1))
}

// page serves a page to a signed-in agent; anyone else goes to the sign-in
// page, which brings them back here.
func (s *Server) page(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, had, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		if c == nil {
			next := ""
			if r.Method == http.MethodGet {
				next = r.URL.Path // a form's action is no page to come back to
			}
			s.toSignIn(w, r, had, next)
			return
		}
		h(w, r, c)
	})
}

// toSignIn sends the browser to the sign-in page, saying the session
// ended when there was one, and removes a dead cookie.
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request, ended bool, next string) {
	q := url.Values{}
	if ended {
		s.endSession(w, r)
		q.Set("ended", "1")
	}
	if next != "" && next != "/inbox/" && safeNext(next) {
		q.Set("next", next)
	}
	to := "/inbox/signin"
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// safeNext reports whether next is a page of the inbox to return to after
// signing in (never another site, nor a path that names one).
func safeNext(next string) bool {
	return strings.HasPrefix(next, "/inbox/") && !strings.ContainsAny(next, "\\\r\n") &&
		!strings.Contains(next, "//") && !strings.Contains(next, "..") && next != "/inbox/signin" && len(next) < 512
}

// live serves what the page's script fetches: without a live session, 401,
// on which the script goes to the sign-in page.
func (s *Server) live(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, had, err := s.authenticate(r)
		if err != nil {
			s.p.Log.Error("web: authenticating failed", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if c == nil {
			if had {
				s.endSession(w, r)
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "signed out", http.StatusUnauthorized)
			return
		}
		h(w, r, c)
	})
}

// origin refuses a cross-origin POST (the browser's Sec-Fetch-Site or
// Origin says so) with the 403 page, before its form is read.
func (s *Server) origin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forbidden(w, r, nil)
	}))
	return cop.Handler(next)
}

// form serves a signed-in agent's form: same origin, a live session, and
// the session's CSRF token in the form's csrf field (403 otherwise).
func (s *Server) form(h handler) http.Handler {
	return s.origin(s.page(func(w http.ResponseWriter, r *http.Request, c *call) {
		if err := parseForm(r); err != nil {
			s.fail(w, r, c, err)
			return
		}
		if !validToken(r.PostForm.Get("csrf"), c.csrf) {
			s.forbidden(w, r, c)
			return
		}
		h(w, r, c)
	}))
}

// forbidden answers a forged, stale or cross-origin form with the 403 page.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, c *call) {
	d := s.data(c, "Forbidden")
	d.Message = "This form could not be checked (it may be stale, or it came from another site): nothing was changed. Reload the page and try again."
	s.render(w, http.StatusForbidden, "error", "layout", d)
}

// data starts a page's data for the agent of c (nil: nobody signed in).
func (s *Server) data(c *call, title string) *pageData {
	d := &pageData{Title: title, Now: time.Now()}
	if c != nil {
		d.Agent, d.CSRF = c.agent, c.csrf
	}
	return d
}

// fail answers an error as a page: 404 for what the agent may not see (the
// same page whether it is another desk's, another workspace's or nobody's),
// the engine's message for a conflict or bad input, and a logged 500
// otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "Baton could not answer this request. Try again in a moment."
	switch baton.ErrorCode(err) {
	case baton.ENOTFOUND:
		status, title, msg = http.StatusNotFound, "Not found", "There is no such page or chat in your desk."
	case baton.ECONFLICT:
		status, title, msg = http.StatusConflict, "Not done", baton.ErrorMessage(err)
	case baton.EINVALID, baton.EBADREQUEST, baton.ETOOLARGE:
		status, title, msg = http.StatusUnprocessableEntity, "Not done", baton.ErrorMessage(err)
	case baton.EIDEMPOTENCY:
		status, title, msg = http.StatusConflict, "Already sent", "This form was already sent with other content. Reload the page and try again."
	default:
		s.p.Log.Error("web: a request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	d := s.data(c, title)
	d.Message = msg
	s.render(w, status, "error", "layout", d)
}

// handleNotFound answers a path under /inbox/ that is no page.
func (s *Server) handleNotFound() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		s.fail(w, r, c, baton.Errorf(baton.ENOTFOUND, "no page %s", r.URL.Path))
	}
}

// handleSignInForm shows the sign-in form (or sends a signed-in agent on),
// with a CSRF token bound to a nonce cookie of this browser.
func (s *Server) handleSignInForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		next := r.URL.Query().Get("next")
		if !safeNext(next) {
			next = ""
		}
		if c != nil {
			http.Redirect(w, r, cmpNext(next), http.StatusSeeOther)
			return
		}
		d := s.signInPage(w, r, "", next)
		if r.URL.Query().Get("ended") != "" {
			d.Message = "Your session has ended. Sign in again."
		}
		s.render(w, http.StatusOK, "signin", "layout", d)
	})
}

func cmpNext(next string) string {
	if next == "" {
		return "/inbox/"
	}
	return next
}

// signInPage is the sign-in page's data, setting the nonce cookie when the
// browser has none.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, email, next string) *pageData {
	nonce := ""
	if ck, err := r.Cookie(signinCookie); err == nil && len(ck.Value) == 22 {
		nonce = ck.Value
	} else {
		nonce = randomToken()
		http.SetCookie(w, s.cookie(r, signinCookie, nonce, "/inbox/signin", 0))
	}
	d := s.data(nil, "Sign in · Baton inbox")
	d.SignIn = &signInData{Token: signinToken(s.p.SessionKey, nonce), Email: email, Next: next}
	return d
}

// clientIP is the address of the connection's other end.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// handleSignIn checks the email and password. Failures are counted per
// email and per client address; past the limit, 429 with Retry-After. The
// answer never says which of the two was wrong.
func (s *Server) handleSignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, nil, baton.Errorf(baton.EBADREQUEST, "the form could not be read"))
			return
		}
		ck, err := r.Cookie(signinCookie)
		if err != nil || !validToken(r.PostForm.Get("csrf"), signinToken(s.p.SessionKey, ck.Value)) {
			s.forbidden(w, r, nil)
			return
		}
		email := strings.TrimSpace(r.PostForm.Get("email"))
		next := r.PostForm.Get("next")
		if !safeNext(next) {
			next = ""
		}
		emailKey, ipKey := "email:"+strings.ToLower(email), "ip:"+clientIP(r)
		now := time.Now()
		if wait := max(s.byEmail.wait(emailKey, now), s.byIP.wait(ipKey, now)); wait > 0 {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			d := s.signInPage(w, r, email, next)
			d.Message = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", waitText(secs))
			s.render(w, http.StatusTooManyRequests, "signin", "layout", d)
			return
		}
		a, err := s.p.Engine.SignIn(r.Context(), email, r.PostForm.Get("password"))
		if baton.ErrorCode(err) == baton.EUNAUTHORIZED {
			s.byEmail.fail(emailKey, now)
			s.byIP.fail(ipKey, now)
			d := s.signInPage(w, r, email, next)
			d.Message = "Wrong email or password."
			s.render(w, http.StatusUnauthorized, "signin", "layout", d)
			return
		} else if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		s.byEmail.reset(emailKey)
		value := newSession(s.p.SessionKey, a, now, s.p.SessionTTL).encode(s.p.SessionKey)
		http.SetCookie(w, s.cookie(r, sessionCookie, value, cookiePath, int(s.p.SessionTTL.Seconds())))
		s.p.Log.Info("web: an inbox agent signed in", "workspace", a.WorkspaceID, "agent", a.ID)
		http.Redirect(w, r, cmpNext(next), http.StatusSeeOther)
	})
}

// waitText says a wait in seconds as people do.
func waitText(secs int) string {
	switch {
	case secs <= 60:
		return "a minute"
	case secs < 3600:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	}
	return "an hour"
}

// handleSignOut ends the agent's sessions, this browser's and any copy of
// its cookie (every other browser of the agent's too).
func (s *Server) handleSignOut() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		if err := s.p.Engine.EndSessions(r.Context(), c.agent); err != nil {
			s.fail(w, r, c, err)
			return
		}
		s.endSession(w, r)
		http.Redirect(w, r, "/inbox/signin", http.StatusSeeOther)
	}
}

// queuePage reads the agent's queue into page data.
func (s *Server) queuePage(ctx context.Context, c *call) (*pageData, error) {
	waiting, mine, err := s.p.Engine.InboxBoard(ctx, c.agent)
	if err != nil {
		return nil, err
	}
	d := s.data(c, "Baton inbox")
	d.Live, d.Waiting = true, len(waiting)
	d.Queue = &queueData{Waiting: waiting, Mine: mine}
	d.Version = digest(handoffs(waiting), handoffs(mine), nil)
	return d, nil
}

func handoffs(items []engine.InboxItem) []baton.Handoff {
	out := make([]baton.Handoff, len(items))
	for i, it := range items {
		out[i] = it.Handoff
	}
	return out
}

// handleQueue shows the waiting handoffs of the agent's desk and the agent's own.
func (s *Server) handleQueue() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		d, err := s.queuePage(r.Context(), c)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		s.render(w, http.StatusOK, "queue", "layout", d)
	}
}

// handleQueueFragment is the queue's lists alone, for the live page.
func (s *Server) handleQueueFragment() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		d, err := s.queuePage(r.Context(), c)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		s.render(w, http.StatusOK, "queue", "queue-body", d)
	}
}

// casePage reads a handoff of the agent's desk into page data.
func (s *Server) casePage(ctx context.Context, c *call, id string) (*pageData, error) {
	v, err := s.p.Engine.InboxCase(ctx, c.agent, id)
	if err != nil {
		return nil, err
	}
	waiting, mine, err := s.p.Engine.InboxQueue(ctx, c.agent)
	if err != nil {
		return nil, err
	}
	h := v.Handoff
	cd := &caseData{InboxCase: v, Mine: h.Agent.ID == c.agent.ID,
		CanClaim: h.Agent.ID == "" && (h.State == baton.Queued || h.State == baton.Active)}
	d := s.data(c, customerName(v.Customer)+" · Baton inbox")
	d.Live, d.Waiting, d.Case = true, len(waiting), cd
	d.Version = digest(waiting, mine, &v)
	return d, nil
}

// handleCase shows a handoff: the customer, the transcript, and what the
// agent may do with it.
func (s *Server) handleCase() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		s.showCase(w, r, c, http.StatusOK, "", "")
	}
}

// showCase renders the handoff page, with a message and the reply the
// agent was writing after a refused action.
func (s *Server) showCase(w http.ResponseWriter, r *http.Request, c *call, status int, msg, draft string) {
	d, err := s.casePage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	d.Message, d.Case.Draft = msg, draft
	s.render(w, status, "case", "layout", d)
}

// handleCaseFragment is the handoff's part of its page, for the live page.
func (s *Server) handleCaseFragment() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		d, err := s.casePage(r.Context(), c, r.PathValue("id"))
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		s.render(w, http.StatusOK, "case", "case-body", d)
	}
}

// once makes ctx carry the form's idempotency key (its idem field, fresh
// at each render), so that a form sent twice (a double click, a resend)
// acts once: keys are the agent's own.
func once(ctx context.Context, r *http.Request, c *call, parts ...string) context.Context {
	key := r.PostForm.Get("idem")
	if key == "" || len(key) > 64 {
		return ctx
	}
	sum := sha256.Sum256([]byte(r.URL.Path + "\n" + strings.Join(parts, "\n")))
	return engine.WithIdempotency(ctx, "web:"+c.agent.ID+":"+key, hex.EncodeToString(sum[:]))
}

// acted answers a handoff action: back to its page, or the page with why not.
func (s *Server) acted(w http.ResponseWriter, r *http.Request, c *call, err error, draft string) {
	switch code := baton.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/inbox/handoffs/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
	case code == baton.ECONFLICT || code == baton.EINVALID || code == baton.EIDEMPOTENCY:
		status := http.StatusConflict
		if code == baton.EINVALID {
			status = http.StatusUnprocessableEntity
		}
		msg := baton.ErrorMessage(err)
		switch baton.ErrorField(err) {
		case "text":
			msg = "The reply " + msg + "."
		case "file":
			msg = "The file " + msg + ". Nothing was sent."
		}
		if code == baton.EIDEMPOTENCY {
			msg = "This form was already sent with other content: nothing more was done."
		}
		s.showCase(w, r, c, status, msg, draft)
	default:
		s.fail(w, r, c, err)
	}
}

// handleClaim takes a waiting handoff for the agent.
func (s *Server) handleClaim() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		id := r.PathValue("id")
		_, err := s.p.Engine.Claim(once(r.Context(), r, c), c.agent, id)
		s.acted(w, r, c, err, "")
	}
}

// handleReply sends the agent's message to the customer, with the file
// the form holds, which Baton keeps and links.
func (s *Server) handleReply() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		id := r.PathValue("id")
		text := strings.ReplaceAll(r.PostForm.Get("text"), "\r\n", "\n")
		atts, sum, err := s.keepFile(r, c)
		if err != nil {
			s.acted(w, r, c, err, text)
			return
		}
		_, err = s.p.Engine.Reply(once(r.Context(), r, c, text, sum), c.agent, id, text, atts)
		s.acted(w, r, c, err, text)
	}
}

// keepFile keeps the file of the form's file field, if one was chosen, and
// returns it as the reply's attachments with a digest of its bytes (so
// that the form sent again with another file is not taken for the same).
func (s *Server) keepFile(r *http.Request, c *call) ([]baton.Attachment, string, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return nil, "", nil
	}
	if len(r.MultipartForm.File["file"]) > 1 {
		return nil, "", baton.FieldErrorf("file", "is given twice: send one file per reply")
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Filename == "" && fh.Size == 0 {
		return nil, "", nil // the browser's part for no file chosen
	}
	if fh.Size > baton.MaxFileSize {
		return nil, "", baton.FieldErrorf("file", "is larger than 10 MiB")
	}
	release, err := s.p.Engine.UploadTurn(r.Context())
	if err != nil {
		return nil, "", err
	}
	defer release()
	f, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("web: reading the uploaded file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, "", fmt.Errorf("web: reading the uploaded file: %w", err)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	sum := sha256.Sum256([]byte(fh.Filename + "\n" + string(data)))
	digest := hex.EncodeToString(sum[:])
	ctx := r.Context()
	if idem := r.PostForm.Get("idem"); idem != "" && len(idem) <= 64 {
		// The form sent twice keeps its file once.
		ctx = engine.WithIdempotency(ctx, "web:"+c.agent.ID+":"+idem+":file", digest)
	}
	att, err := s.p.Engine.KeepFile(ctx, engine.Upload{Workspace: c.agent.WorkspaceID, Field: "file", Name: fh.Filename, Data: data,
		Base: scheme + "://" + r.Host})
	if err != nil {
		return nil, "", err
	}
	return []baton.Attachment{att}, digest, nil
}

// handleSignal tells the customer's side something of the agent (typing,
// read) that the page's script posts: 204, or the refusal's status with
// its reason in plain text.
func (s *Server) handleSignal(tell func(*engine.Engine, context.Context, baton.InboxAgent, string) error) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		err := tell(s.p.Engine, r.Context(), c.agent, r.PathValue("id"))
		switch code := baton.ErrorCode(err); {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case code == baton.ECONFLICT:
			http.Error(w, baton.ErrorMessage(err), http.StatusConflict)
		case code == baton.ENOTFOUND:
			http.Error(w, baton.ErrorMessage(err), http.StatusNotFound)
		default:
			s.p.Log.Error("web: telling the customer's side", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}
}

// handleEnd ends the handoff from the agent's side.
func (s *Server) handleEnd() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		_, err := s.p.Engine.EndByAgent(once(r.Context(), r, c), c.agent, r.PathValue("id"))
		s.acted(w, r, c, err, "")
	}
}
