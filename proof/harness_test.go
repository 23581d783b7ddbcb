package proof

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/postgres/pgtest"
)

// binary is the baton binary built once for the whole test run (TestMain).
var binary string

// leaseAsked is the job lease the suite asks of every instance (BATON_JOB_LEASE).
const leaseAsked = 3 * time.Second

// leaseBound is how long a killed instance's jobs may stay held: leaseAsked
// when the binary knows BATON_JOB_LEASE (its usage names it), else the
// engine's historical 60 s default, tolerated and noted (see doc.go).
var leaseBound = time.Minute

// leaseHonoured records whether the binary names BATON_JOB_LEASE.
var leaseHonoured bool

// TestMain builds the binary once for every scenario, and learns whether it
// knows BATON_JOB_LEASE.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "baton-proof-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "baton")
	build := exec.Command("go", "build", "-o", binary, "github.com/batonhq/baton/cmd/baton")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	usage, _ := exec.Command(binary, "help").CombinedOutput()
	if bytes.Contains(usage, []byte("BATON_JOB_LEASE")) {
		leaseHonoured, leaseBound = true, leaseAsked
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer is a bytes.Buffer safe for a process's output and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is one slot of the cluster: a fixed address and, while up, a process.
type proc struct {
	slot   int
	addr   string
	base   string
	up     atomic.Bool
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
}

// cluster runs one or more baton processes on one database.
type cluster struct {
	t     testing.TB
	store string
	env   []string
	procs []*proc
	next  atomic.Uint64

	mu       sync.Mutex
	kills    []killRecord
	logs     []string // stderr of processes that were killed
	launches int
}

// killRecord is one SIGKILL: when, which slot, and when it was serving again.
type killRecord struct {
	slot      int
	at        time.Time
	restarted time.Time
}

// storeEnv is the environment of a fresh database on store: a SQLite file,
// or a PostgreSQL database of its own, already migrated (the binary finds
// nothing to apply), with a sealing key.
func storeEnv(t testing.TB, store string) []string {
	t.Helper()
	switch store {
	case "sqlite":
		return []string{"BATON_DB=" + filepath.Join(t.TempDir(), "baton.db")}
	case "postgres":
		key := make([]byte, 32)
		rand.Read(key)
		return []string{"BATON_DATABASE_URL=" + pgtest.Migrated(t), "BATON_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key)}
	}
	t.Fatalf("no store %q", store)
	return nil
}

// ports are the instances' loopback ports handed out so far.
var ports struct {
	mu   sync.Mutex
	used map[int]bool
}

// freeAddr picks a loopback port that is free for a process to take. It is
// below the kernel's ephemeral range, so that no listener on port 0
// (httptest) and no outgoing connection of the scenarios running at once
// takes it between this check and the process's bind, nor while a killed
// process restarts on it; and it is never the same twice in this binary.
func freeAddr(t testing.TB) string {
	t.Helper()
	const lo = 10000
	hi := ephemeralLow()
	ports.mu.Lock()
	defer ports.mu.Unlock()
	for range 1000 {
		p := lo + mrand.N(hi-lo)
		if ports.used[p] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // someone else's
		}
		ln.Close()
		if ports.used == nil {
			ports.used = map[int]bool{}
		}
		ports.used[p] = true
		return ln.Addr().String()
	}
	t.Fatalf("no free loopback port between %d and %d", lo, hi)
	return ""
}

// ephemeralLow is the first port of Linux's ephemeral range
// (ip_local_port_range), or 32768: below the 49152 of other systems.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if f := strings.Fields(string(b)); err == nil && len(f) == 2 {
		if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
			return n
		}
	}
	return 32768
}

// newCluster starts n processes of the binary on store with env (KEY=VALUE).
func newCluster(t testing.TB, store string, n int, env []string) *cluster {
	t.Helper()
	c := &cluster{t: t, store: store}
	c.env = append(os.Environ(), env...)
	c.env = append(c.env, storeEnv(t, store)...)
	c.env = append(c.env,
		"BATON_LOG_LEVEL=warn",
		"BATON_RETRY_SCALE=0.001",
		"BATON_JOB_LEASE="+leaseAsked.String(),
	)
	for i := range n {
		addr := freeAddr(t)
		c.procs = append(c.procs, &proc{slot: i, addr: addr, base: "http://" + addr})
	}
	t.Cleanup(func() {
		for _, p := range c.procs {
			c.stop(p)
		}
		if t.Failed() {
			c.dump()
		}
	})
	for _, p := range c.procs {
		if err := c.launch(p); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// launch starts the process of slot p and waits for it to listen.
func (c *cluster) launch(p *proc) error {
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(append([]string{}, c.env...), "BATON_ADDR="+p.addr)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	ready := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "baton listening on") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { cmd.Wait(); close(exited) }()
	select {
	case <-ready:
	case <-exited:
		return fmt.Errorf("baton (slot %d) exited at start:\n%s", p.slot, stderr.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return fmt.Errorf("baton (slot %d) did not listen within 60s:\n%s", p.slot, stderr.String())
	}
	c.mu.Lock()
	p.cmd, p.stderr, p.exited = cmd, stderr, exited
	c.launches++
	c.mu.Unlock()
	p.up.Store(true)
	return nil
}

// stop kills the process of slot p, if up, and waits for it to be gone.
func (c *cluster) stop(p *proc) {
	c.mu.Lock()
	cmd, exited := p.cmd, p.exited
	c.mu.Unlock()
	p.up.Store(false)
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

// kill sends SIGKILL to slot p's process, then starts it again on the same
// database and address. It returns the kill's record.
func (c *cluster) kill(p *proc) (killRecord, error) {
	c.mu.Lock()
	cmd, exited, stderr := p.cmd, p.exited, p.stderr
	c.mu.Unlock()
	p.up.Store(false)
	k := killRecord{slot: p.slot, at: time.Now()}
	if err := cmd.Process.Kill(); err != nil {
		return k, err
	}
	<-exited
	c.mu.Lock()
	c.logs = append(c.logs, fmt.Sprintf("--- slot %d, killed at %s:\n%s", p.slot, k.at.Format(time.StampMilli), tail(stderr.String(), 20000)))
	c.mu.Unlock()
	if err := c.launch(p); err != nil {
		return k, err
	}
	k.restarted = time.Now()
	c.mu.Lock()
	c.kills = append(c.kills, k)
	c.mu.Unlock()
	return k, nil
}

// killed lists the kills so far.
func (c *cluster) killed() []killRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]killRecord(nil), c.kills...)
}

// base picks the next serving instance, round robin; "" if none is up.
func (c *cluster) base() string {
	for range len(c.procs) {
		p := c.procs[int(c.next.Add(1))%len(c.procs)]
		if p.up.Load() {
			return p.base
		}
	}
	return ""
}

// dump logs what every process wrote on stderr.
func (c *cluster) dump() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.logs {
		c.t.Log(l)
	}
	for _, p := range c.procs {
		if p.stderr != nil {
			c.t.Logf("--- slot %d (%s) stderr:\n%s", p.slot, c.store, tail(p.stderr.String(), 20000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// randID is a random hex string of n bytes.
func randID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
