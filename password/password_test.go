package password

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// TestHashCheck: a hash verifies its password and no other, is in the PHC
// format with this package's costs, and is salted anew every time.
func TestHashCheck(t *testing.T) {
	t.Parallel()
	h := Hash("correct horse battery")
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Fatalf("Hash = %q, not a PHC argon2id string", h)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batter": false, "Correct horse battery": false, "": false} {
		if ok, err := Check(pw, h); err != nil || ok != want {
			t.Errorf("Check(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if h2 := Hash("correct horse battery"); h2 == h {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
}

// TestCheckReference: a hash made by the reference implementation
// (phc-winner-argon2 test.c: "password", "somesalt", -t 2 -m 16 -p 1) verifies, so
// hashes move between this package and other tools.
func TestCheckReference(t *testing.T) {
	t.Parallel()
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	if ok, err := Check("password", ref); err != nil || !ok {
		t.Errorf("Check(reference) = %v, %v", ok, err)
	}
}

// TestCheckMalformed: a hash that is not argon2id in the PHC format, or
// whose costs are out of bounds, is ErrMalformed, checked without running
// the costs it asks for.
func TestCheckMalformed(t *testing.T) {
	t.Parallel()
	good := Hash("correct horse battery")
	parts := strings.Split(good, "$")
	with := func(i int, s string) string {
		p := append([]string(nil), parts...)
		p[i] = s
		return strings.Join(p, "$")
	}
	for name, h := range map[string]string{
		"empty":             "",
		"argon2i":           with(1, "argon2i"),
		"old version":       with(2, "v=16"),
		"too much memory":   with(3, "m=4194304,t=2,p=1"),
		"too many passes":   with(3, "m=19456,t=100,p=1"),
		"no passes":         with(3, "m=19456,t=0,p=1"),
		"params reordered":  with(3, "t=2,m=19456,p=1"),
		"params with extra": with(3, "m=19456,t=2,p=1,x=1"),
		"short salt":        with(4, "c2FsdA"),
		"salt padded":       with(4, parts[4]+"=="),
		"hash not base64":   with(5, "!!!!"),
		"short hash":        with(5, "c2hvcnQ"),
		"extra part":        good + "$x",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		if ok, err := Check("correct horse battery", h); ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Check(%q) = %v, %v; want ErrMalformed", name, h, ok, err)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for pw, want := range map[string]string{
		"0123456789":              "",
		"éééééééééé":              "", // ten characters, twenty bytes
		"012345678":               "must be at least 10 characters",
		"":                        "must be at least 10 characters",
		strings.Repeat("a", 1025): "must be at most 1024 bytes",
		"0123456789\xff":          "must be UTF-8 text without NUL",
		"0123456789\x00":          "must be UTF-8 text without NUL",
	} {
		got := ""
		if err := Validate(pw); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Validate(%.20q) = %q, want %q", pw, got, want)
		}
	}
}
