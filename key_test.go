package baton

import (
	"strings"
	"testing"
)

func TestHashKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"":         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"demo-key": "c48a01f49fd0f2cc404bc3cbbc80e91457a3d41bb429a695243de4c61794155c",
	} {
		if got := HashKey(key); got != want {
			t.Errorf("HashKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestKeyPrefix(t *testing.T) {
	t.Parallel()
	k := NewKey(PrefixAPIKey)
	if p := KeyPrefix(k); p != k[:11] || !strings.HasPrefix(p, PrefixAPIKey) {
		t.Errorf("KeyPrefix(%q) = %q", k, p)
	}
	for _, short := range []string{"acme-key-1", "ak_ada_0123456789", "x", ""} {
		if p := KeyPrefix(short); len(p) > len(short)/3 {
			t.Errorf("KeyPrefix(%q) = %q: more than a third of the key", short, p)
		}
	}
}
