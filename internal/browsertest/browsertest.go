// Package browsertest starts the headless Chromium that a test binary's
// browser tests share, driven with chromedp. The tests run when chromium
// is on PATH, or when BATON_TEST_CHROMIUM is set (to "1", or to the
// browser's path); with the variable set a missing browser fails them
// instead of skipping them, as BATON_TEST_POSTGRES_URL does for PostgreSQL.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// browser is the test binary's one browser, started by the first test that
// asks for it and stopped by Stop.
var browser struct {
	once   sync.Once
	ctx    context.Context
	err    error
	stop   func()
	path   string
	reason string // why there is none, when path is ""
}

// path finds the browser: BATON_TEST_CHROMIUM when it names a file,
// chromium (or chromium-browser) on PATH otherwise.
func path() (string, error) {
	if v := os.Getenv("BATON_TEST_CHROMIUM"); strings.Contains(v, "/") {
		if _, err := os.Stat(v); err != nil {
			return "", fmt.Errorf("BATON_TEST_CHROMIUM=%s: %w", v, err)
		}
		return v, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH (apt-get install chromium)")
}

// Start returns the shared browser's context, starting the browser for the
// first test that asks (headless, with the flags this machine's closed
// network needs and a fresh profile), and skipping the test when there is
// no browser and BATON_TEST_CHROMIUM does not ask for one.
func Start(t testing.TB) context.Context {
	t.Helper()
	browser.once.Do(func() {
		p, err := path()
		if err != nil {
			browser.reason = err.Error()
			return
		}
		browser.path = p
		dir, err := os.MkdirTemp("", "baton-chromium-")
		if err != nil {
			browser.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(p), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
			chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.UserDataDir(dir), chromedp.WindowSize(1024, 800))
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		browser.stop = func() {
			cancelBrowser()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		if err := chromedp.Do(bctx); err != nil { // starts the browser, with no deadline on its life
			browser.err = fmt.Errorf("starting %s: %w", p, err)
			return
		}
		browser.ctx = bctx
	})
	switch {
	case browser.path == "" && os.Getenv("BATON_TEST_CHROMIUM") != "":
		t.Fatalf("BATON_TEST_CHROMIUM is set but there is no browser: %s", browser.reason)
	case browser.path == "":
		t.Skipf("browser tests skipped: %s; set BATON_TEST_CHROMIUM to make them fail instead", browser.reason)
	case browser.err != nil:
		t.Fatal(browser.err)
	}
	return browser.ctx
}

// Stop stops the browser, if a test started it; TestMain calls it after
// the tests.
func Stop() {
	if browser.stop != nil {
		browser.stop()
	}
}
