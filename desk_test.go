package baton

import (
	"strings"
	"testing"
)

// TestCheckSettings: a required setting left out is no fault, but it does
// not hide a fault in a setting that is given.
func TestCheckSettings(t *testing.T) {
	t.Parallel()
	// build plays a kind that needs url then token, in that order, and knows no other setting.
	build := func(d DeskConfig) error {
		for k := range d.Settings {
			if k != "url" && k != "token" {
				return FieldErrorf("settings."+k, "unknown setting")
			}
		}
		switch {
		case d.Settings["url"] == "":
			return FieldErrorf("settings.url", "required")
		case !strings.HasPrefix(d.Settings["url"], "https://"):
			return FieldErrorf("settings.url", "not an https URL")
		case d.Settings["token"] == "":
			return FieldErrorf("settings.token", "required")
		case len(d.Settings["token"]) < 8:
			return FieldErrorf("settings.token", "too short")
		}
		return nil
	}
	for _, c := range []struct {
		settings map[string]string
		field    string // "" = no fault
	}{
		{nil, ""},
		{map[string]string{"url": "https://x"}, ""},
		{map[string]string{"token": "short"}, "settings.token"},
		{map[string]string{"colour": "red"}, "settings.colour"},
		{map[string]string{"url": "ftp://x"}, "settings.url"},
		{map[string]string{"url": "https://x", "token": "long enough"}, ""},
	} {
		err := DeskConfig{Settings: c.settings}.CheckSettings(build)
		if ErrorField(err) != c.field || (c.field == "") != (err == nil) {
			t.Errorf("%v: %v, want a fault at %q", c.settings, err, c.field)
		}
	}
	// A stand-in the kind refuses ends the check without a fault.
	refuses := func(d DeskConfig) error {
		if v := d.Settings["code"]; v == "" || v != "42" {
			return FieldErrorf("settings.code", "must be 42")
		}
		return nil
	}
	if err := (DeskConfig{}).CheckSettings(refuses); err != nil {
		t.Errorf("a refused stand-in: %v", err)
	}
}
