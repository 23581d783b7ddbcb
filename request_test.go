package baton_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestValidEmail: one plain address, within the lengths mail carries.
func TestValidEmail(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 65)
	for s, want := range map[string]bool{
		"ana@example.com":                        true,
		strings.Repeat("a", 64) + "@ex.com":      true,
		long + "@example.com":                    false, // over 64 before the @
		"a@" + strings.Repeat("b", 250) + ".com": false, // over 254 in all
		"Ana <ana@example.com>":                  false,
		"ana@example.com, bob@example.com":       false,
		"not an address":                         false,
	} {
		if got := baton.ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%.40q) = %v, want %v", s, got, want)
		}
	}
}
