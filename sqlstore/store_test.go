package sqlstore

import (
	"bytes"
	"testing"
	"time"
)

func TestNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
	} {
		if got := number(c.in); got != c.want {
			t.Errorf("number(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSeal(t *testing.T) {
	t.Parallel()
	s := New(nil, Dialect{}, bytes.Repeat([]byte{1}, 32))
	plain := []byte(`{"token":"secret"}`)
	b := s.seal(plain, "desks.settings:d1")
	if bytes.Contains(b, []byte("secret")) {
		t.Fatal("sealed value holds the plaintext")
	}
	if got, err := s.open(b, "desks.settings:d1"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v", got, err)
	}
	// Bound to its row and column.
	if _, err := s.open(b, "desks.settings:d2"); err == nil {
		t.Error("opened with another row's associated data")
	}
	b[len(b)-1] ^= 1
	if _, err := s.open(b, "desks.settings:d1"); err == nil {
		t.Error("opened a tampered value")
	}
	other := New(nil, Dialect{}, bytes.Repeat([]byte{2}, 32))
	if _, err := other.open(s.seal(plain, "x"), "x"); err == nil || bytes.Contains([]byte(err.Error()), plain) {
		t.Errorf("open with another key: %v", err)
	}
	if got, err := s.open(s.seal([]byte{}, "x"), "x"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty value: %q, %v", got, err)
	}
	if s.seal(nil, "x") != nil {
		t.Error("nil sealed to something")
	}
}

func TestMicro(t *testing.T) {
	t.Parallel()
	if micro(time.Time{}) != 0 || !fromMicro(0).IsZero() {
		t.Error("zero time is not 0")
	}
	tm := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	got := fromMicro(micro(tm))
	if !got.Equal(tm.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Errorf("round trip of %v gave %v", tm, got)
	}
}

func TestNewKey(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New accepted a 16-byte key")
		}
	}()
	New(nil, Dialect{}, make([]byte, 16))
}
