package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// Timeouts of the process as a whole.
const (
	shutdownTimeout = 10 * time.Second // for in-flight requests to finish
	deskTimeout     = 10 * time.Second // for one call into a desk
)

// env is the configuration read from the environment.
type env struct {
	addr     string
	dbURL    string
	dbPath   string
	sync     sqlite.Sync // BATON_SQLITE_SYNC
	key      string
	config   string
	logLevel string
	worker   outbox.Config
	secure   bool   // BATON_SECURE_COOKIES: the web inbox's cookies are always Secure
	public   string // BATON_PUBLIC_URL: the address uploaded files' links begin with
}

func readEnv(getenv func(string) string) (env, error) {
	e := env{
		addr:     getenv("BATON_ADDR"),
		dbURL:    getenv("BATON_DATABASE_URL"),
		dbPath:   getenv("BATON_DB"),
		key:      getenv("BATON_SECRET_KEY"),
		config:   getenv("BATON_CONFIG"),
		logLevel: getenv("BATON_LOG_LEVEL"),
	}
	if e.dbPath == "" {
		e.dbPath = "baton.db"
	}
	switch v := getenv("BATON_SQLITE_SYNC"); v {
	case "", string(sqlite.SyncFull):
		e.sync = sqlite.SyncFull
	case string(sqlite.SyncNormal):
		e.sync = sqlite.SyncNormal
	default:
		return e, fmt.Errorf("BATON_SQLITE_SYNC: %q is neither full nor normal", v)
	}
	e.worker.RetryScale, _ = strconv.ParseFloat(getenv("BATON_RETRY_SCALE"), 64)
	if v := getenv("BATON_JOB_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			return e, fmt.Errorf("BATON_JOB_LEASE: %q is not a duration of at least 100ms (like 5s)", v)
		}
		e.worker.Lease = d
	}
	if v := strings.TrimSuffix(getenv("BATON_PUBLIC_URL"), "/"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return e, fmt.Errorf("BATON_PUBLIC_URL: %q is not an http or https address like https://baton.example.com", v)
		}
		e.public = v
	}
	if v := getenv("BATON_SECURE_COOKIES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return e, fmt.Errorf("BATON_SECURE_COOKIES: %q is not true or false", v)
		}
		e.secure = b
	}
	return e, nil
}

// run is the whole program: main only calls it with the process's
// arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, rest := "serve", args[min(1, len(args)):]
	if len(rest) > 0 && isHelp(rest[0]) {
		usage(stdout)
		return nil
	}
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = rest[0], rest[1:]
	}
	if cmd == "help" {
		switch {
		case len(rest) == 0:
			usage(stdout)
			return nil
		case isHelp(rest[0]):
			c, _ := lookup("help")
			c.help(stdout)
			return nil
		}
		// baton help COMMAND is baton COMMAND --help.
		if _, ok := lookup(strings.Join(rest, " ")); !ok && len(group(strings.Join(rest, " "))) == 0 {
			return fmt.Errorf("help: unknown command %q; try: baton help", strings.Join(rest, " "))
		}
		return run(ctx, append(append([]string{"baton"}, rest...), "--help"), getenv, stdout, stderr)
	}
	if isAPICommand(cmd) { // the commands that call a running Baton: admin.go
		return runAPICommand(ctx, cmd, rest, getenv, stdout, stderr)
	}
	if subs := group(cmd); len(subs) > 0 {
		switch {
		case len(rest) > 0 && isHelp(rest[0]):
			groupHelp(stdout, cmd)
			return nil
		case len(rest) == 0 || slices.IndexFunc(subs, func(c command) bool { return c.name == cmd+" "+rest[0] }) < 0:
			return fmt.Errorf("usage: baton %s; try: baton %s --help", strings.TrimSpace(subs[0].name+" "+subs[0].args), cmd)
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	c, ok := lookup(cmd)
	if !ok {
		return fmt.Errorf("unknown command %q; try: baton help", cmd)
	}
	var o opts
	flags := c.flags(&o)
	if err := flags.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help(stdout)
			return nil
		}
		return fmt.Errorf("%s: %w; try: baton %s --help", cmd, err, cmd)
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q; try: baton %s --help", cmd, flags.Arg(0), cmd)
	}
	e, err := readEnv(getenv)
	if err != nil {
		return err
	}
	if o.config != "" {
		e.config = o.config
	}

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "baton", version)
		return nil
	case "livechat webhooks":
		return liveChatWebhooks(ctx, e, getenv, o.desk, o.url, stdout)
	case "sim livechat":
		return simLiveChat(ctx, o.addr, stdout)
	case "gorgias integration":
		return gorgiasIntegration(ctx, e, getenv, o.desk, o.url, o.print, stdout)
	case "sim gorgias":
		return simGorgias(ctx, o.addr, stdout)
	case "sim intercom":
		return simIntercom(ctx, o.addr, stdout)
	}
	level := e.logLevel
	if level == "" && cmd == "demo" {
		level = "warn" // keep the demo's own lines readable
	}
	log, err := newLogger(stderr, level)
	if err != nil {
		return err
	}
	switch cmd {
	case "migrate":
		return migrate(ctx, e, stdout)
	case "demo":
		return demo(ctx, e, o.walk, log, stdout)
	case "apply":
		return applyConfig(ctx, o.fileOpts, e, getenv, log, stdout)
	case "config check":
		return checkConfig(o.fileOpts, e, getenv, stdout)
	case "admin init":
		return adminInit(ctx, e, o.fileOpts, log, stdout)
	case "intercom hours":
		return intercomHours(ctx, e, o, log, stdout)
	}
	return serve(ctx, e, getenv, log, stdout)
}

// newLogger returns a JSON logger at level that never prints secrets.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("BATON_LOG_LEVEL: %q is not debug, info, warn or error", level)
		}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l, ReplaceAttr: redact})), nil
}

// redact hides the value of any attribute whose name (or group) looks like it
// holds a credential.
func redact(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
		return a
	}
	for _, name := range append(groups, a.Key) {
		if secretName(name) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}

func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"secret", "password", "token", "key", "authorization"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// postgresURL reports whether the database URL names PostgreSQL.
func postgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// where describes the database for people, without credentials.
func (e env) where() string {
	if e.dbURL == "" {
		return "sqlite " + e.dbPath
	}
	u, err := url.Parse(e.dbURL)
	if err != nil {
		return "postgres"
	}
	return "postgres " + u.Host + u.Path
}

// openStore opens and migrates the configured database. It returns the
// store's secrets key too, from which the web inbox's session key is derived.
func openStore(ctx context.Context, e env, log *slog.Logger) (*sqlstore.Store, []byte, error) {
	if e.dbURL != "" {
		if !postgresURL(e.dbURL) {
			return nil, nil, errors.New("BATON_DATABASE_URL: only postgres:// URLs are supported; unset it to use SQLite (BATON_DB)")
		}
		if e.key == "" {
			return nil, nil, errors.New("BATON_SECRET_KEY is required with PostgreSQL: every instance needs the same key (make one with: openssl rand -base64 32)")
		}
		key, err := decodeKey(e.key)
		if err != nil {
			return nil, nil, fmt.Errorf("BATON_SECRET_KEY: %w", err)
		}
		s, err := postgres.Open(ctx, e.dbURL, key)
		return s, key, err
	}
	var key []byte
	var err error
	if e.key != "" {
		if key, err = decodeKey(e.key); err != nil {
			return nil, nil, fmt.Errorf("BATON_SECRET_KEY: %w", err)
		}
	} else if key, err = keyFile(e.dbPath+".key", log); err != nil {
		return nil, nil, err
	}
	if e.sync == sqlite.SyncNormal {
		log.Warn("SQLite commits without waiting for the disk (BATON_SQLITE_SYNC=normal): a power loss or an OS crash may lose what was answered 2xx")
	}
	s, err := sqlite.OpenSync(ctx, e.dbPath, key, e.sync)
	return s, key, err
}

// sessionKey derives the web inbox's session key from the store's secrets
// key, HMAC-SHA256(key, "baton web sessions"): the same on every instance,
// and not the key that seals the secrets.
func sessionKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("baton web sessions"))
	return m.Sum(nil)
}

// decodeKey reads a base64 key of 32 bytes (standard or URL alphabet, padded or not).
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("decodes to %d bytes, want 32 (make one with: openssl rand -base64 32)", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("is not base64 (make one with: openssl rand -base64 32)")
}

// keyFile reads the SQLite store's secrets key from path, creating it (mode
// 0600) with a random key the first time.
func keyFile(path string, log *slog.Logger) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, 32)
		rand.Read(k)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return keyFile(path, log) // another process made it first
		} else if err != nil {
			return nil, fmt.Errorf("creating the secrets key file: %w", err)
		}
		_, err = fmt.Fprintln(f, base64.StdEncoding.EncodeToString(k))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("writing the secrets key file: %w", err)
		}
		log.Info("created the secrets key file; back it up with the database", "file", path)
		return k, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading the secrets key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the secrets key file is readable by other users; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secrets key file %s %w", path, err)
	}
	return k, nil
}

// migrate applies the migrations and exits. It needs no secrets key.
func migrate(ctx context.Context, e env, stdout io.Writer) error {
	if e.dbURL != "" {
		if !postgresURL(e.dbURL) {
			return errors.New("BATON_DATABASE_URL: only postgres:// URLs are supported; unset it to use SQLite (BATON_DB)")
		}
		db, err := postgres.OpenDB(ctx, e.dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := postgres.Migrate(ctx, db); err != nil {
			return err
		}
	} else {
		db, err := sqlite.OpenDB(e.dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := sqlite.Migrate(ctx, db); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "baton: %s is migrated\n", e.where())
	return nil
}

// serve runs the server until ctx ends.
func serve(ctx context.Context, e env, getenv func(string) string, log *slog.Logger, stdout io.Writer) error {
	desks := registry.New(registry.Params{})
	var cfg *config.File
	if e.config != "" {
		var err error
		if cfg, err = config.Load(e.config, config.Params{Getenv: getenv, Desk: desks.Desk}); err != nil {
			return err
		}
	}
	store, key, err := openStore(ctx, e, log)
	if err != nil {
		return err
	}
	defer store.Close()
	log.Info("store open", "db", e.where(), "version", version)
	addr := e.addr
	if addr == "" {
		addr = ":8080"
	}
	return serveOn(ctx, log, stdout, served{addr: addr, store: store, desks: desks, cfg: cfg, worker: e.worker,
		sessionKey: sessionKey(key), secure: e.secure, public: e.public})
}

// served is what serveOn runs.
type served struct {
	addr       string
	store      baton.Store
	desks      baton.Desks
	cfg        *config.File // applied at the start when not nil
	worker     outbox.Config
	sessionKey []byte // the web inbox's (see sessionKey)
	secure     bool   // the web inbox's cookies are always Secure
	public     string // the address file links begin with (BATON_PUBLIC_URL)
	// started, when not nil, is called with the bound address once
	// requests are accepted.
	started func(addr string)
}

// serveOn runs Baton over an open store until ctx ends: it applies the
// config file (printing the plan), checks the desks, warns when there is no
// workspace, starts the job worker and serves HTTP on the address.
// On the way out it stops accepting, lets requests finish (up to 10 s) and
// stops the worker, which finishes its running jobs; the caller closes the store.
func serveOn(ctx context.Context, log *slog.Logger, stdout io.Writer, p served) error {
	store, cfg, started := p.store, p.cfg, p.started
	a := app.New(app.Params{Store: store, Log: log, Desks: p.desks, Worker: p.worker, SessionKey: p.sessionKey, SecureCookies: p.secure, PublicURL: p.public})
	if cfg != nil {
		plan, err := cfg.Apply(ctx, store, config.ApplyParams{Secrets: registry.Secrets})
		if err != nil {
			return fmt.Errorf("applying the config: %w", err)
		}
		plan.Print(stdout)
		if err := a.CheckDesks(ctx, cfg.WorkspaceIDs()); err != nil {
			return err
		}
	}
	if err := warnNoWorkspace(ctx, store, log); err != nil {
		return err
	}
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	srv := &http.Server{
		Handler:           closeStreams(streams, a.Handler),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(endStreams)

	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	worked := make(chan error, 1)
	go func() { worked <- a.Run(work) }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "baton listening on http://%s\n", ln.Addr())
	log.Info("listening", "addr", ln.Addr().String())
	if started != nil {
		started(ln.Addr().String())
	}

	select {
	case <-ctx.Done():
		err = nil
	case err = <-served:
		err = fmt.Errorf("http: %w", err)
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("requests still running after the shutdown timeout were cut", "err", serr)
		srv.Close()
	}
	stopWork()
	if werr := <-worked; werr != nil {
		err = errors.Join(err, fmt.Errorf("worker: %w", werr))
	}
	log.Info("stopped")
	return err
}

// closeStreams ends event streams (long-lived GETs: the bots' and the web
// inbox's) when ctx ends, that is when shutdown begins, instead of letting
// them hold it to its timeout.
func closeStreams(ctx context.Context, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/stream") || r.URL.Path == "/inbox/events" {
			rctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			defer context.AfterFunc(ctx, cancel)()
			r = r.WithContext(rctx)
		}
		next.ServeHTTP(w, r)
	})
}
