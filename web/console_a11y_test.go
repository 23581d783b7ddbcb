package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

var (
	controlTag = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idAttr     = regexp.MustCompile(`\sid="([^"]+)"`)
)

// TestConsoleLabels reads every console page: each form control (but
// hidden ones) has a <label for> or an aria-label, and no id is used twice.
func TestConsoleLabels(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c, _ := f.console()
	if _, err := f.app.Engine.CreateDesk(adminCtx(), ws1, engine.DeskInput{ID: "dk_lc", Name: "LC", Kind: baton.KindLiveChat}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.app.Engine.CreateKey(adminCtx(), ws1, engine.KeyInput{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/console/signin", "/console/", "/console/ws/ws_one/", "/console/ws/ws_one/settings",
		"/console/ws/ws_one/desks/new?kind=webhook", "/console/ws/ws_one/desks/new?kind=livechat", "/console/ws/ws_one/desks/new?kind=gorgias", "/console/ws/ws_one/desks/new?kind=intercom", "/console/ws/ws_one/desks/new?kind=inbox",
		"/console/ws/ws_one/desks/dk_lc/edit", "/console/ws/ws_one/desks/dk_inbox/edit", "/console/ws/ws_one/desks/dk_lc/policy",
		"/console/ws/ws_one/keys", "/console/ws/ws_one/bots", "/console/ws/ws_one/bots/bot_one", "/console/ws/ws_one/bots/bot_one/policy",
		"/console/ws/ws_one/agents"} {
		cl := c
		if path == "/console/signin" {
			cl = f.client()
		}
		p := f.get(cl, path)
		if p.status != 200 {
			t.Errorf("%s: %d", path, p.status)
			continue
		}
		seen := map[string]bool{}
		for _, m := range idAttr.FindAllStringSubmatch(p.body, -1) {
			if seen[m[1]] {
				t.Errorf("%s: id %q is used twice", path, m[1])
			}
			seen[m[1]] = true
		}
		tags := controlTag.FindAllString(p.body, -1)
		if len(tags) == 0 {
			t.Errorf("%s: no form control read", path)
		}
		for _, tag := range tags {
			if strings.Contains(tag, `type="hidden"`) || strings.Contains(tag, " hidden") || strings.Contains(tag, `aria-hidden="true"`) {
				continue
			}
			if strings.Contains(tag, "aria-label=") {
				continue
			}
			id := idAttr.FindStringSubmatch(tag)
			if id == nil || !strings.Contains(p.body, `<label for="`+id[1]+`"`) {
				t.Errorf("%s: no label for %s", path, tag)
			}
		}
	}
}
