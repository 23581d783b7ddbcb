package stdwebhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Standard Webhooks spec test vector.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustSigner(t testing.TB, secret string, others ...string) *Signer {
	t.Helper()
	s, err := NewSigner(secret, others...)
	if err != nil {
		t.Fatalf("NewSigner(%q, %q): %v", secret, others, err)
	}
	return s
}

func TestSpecVector(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, vecSecret)
	ts := time.Unix(vecTS, 0)
	if got := s.Sign(vecID, ts, []byte(vecBody)); got != vecSig {
		t.Fatalf("Sign = %q, want %q", got, vecSig)
	}
	h := s.Headers(vecID, ts, []byte(vecBody))
	want := map[string]string{
		"webhook-id":        vecID,
		"webhook-timestamp": "1614265330",
		"webhook-signature": vecSig,
		"content-type":      "application/json",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if len(h) != len(want) {
		t.Errorf("Headers has %d keys, want %d: %v", len(h), len(want), h)
	}
	if err := Verify(vecSecret, h, []byte(vecBody), ts); err != nil {
		t.Errorf("Verify(spec vector) = %v", err)
	}
	// The prefix is optional.
	if err := Verify(strings.TrimPrefix(vecSecret, SecretPrefix), h, []byte(vecBody), ts); err != nil {
		t.Errorf("Verify(unprefixed secret) = %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatalf("NewSecret returned %q twice", a)
	}
	for _, s := range []string{a, b} {
		if !strings.HasPrefix(s, "whsec_") {
			t.Errorf("NewSecret() = %q, want whsec_ prefix", s)
		}
		key, err := ParseSecret(s)
		if err != nil {
			t.Fatalf("ParseSecret(NewSecret()) = %v", err)
		}
		if len(key) != 32 {
			t.Errorf("NewSecret key is %d bytes, want 32", len(key))
		}
	}
}

func TestParseSecret(t *testing.T) {
	t.Parallel()
	enc := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name, secret string
		keyLen       int // 0: expect an error
		errHas       string
	}{
		{"empty", "", 0, "empty"},
		{"prefix only", "whsec_", 0, "empty"},
		{"blank", "   ", 0, "empty"},
		{"not base64", "whsec_not*base64!", 0, "base64"},
		{"short", "whsec_" + enc(16), 0, "16 bytes"},
		{"23 bytes", "whsec_" + enc(23), 0, "23 bytes"},
		{"too long", "whsec_" + enc(65), 0, "65 bytes"},
		{"24 bytes", "whsec_" + enc(24), 24, ""},
		{"64 bytes", "whsec_" + enc(64), 64, ""},
		{"no prefix", enc(32), 32, ""},
		{"spec", vecSecret, 24, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseSecret(tt.secret)
			if tt.keyLen == 0 {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("ParseSecret(%q) = %v, want error containing %q", tt.secret, err, tt.errHas)
				}
				if _, err := NewSigner(tt.secret); err == nil {
					t.Errorf("NewSigner(%q) succeeded", tt.secret)
				}
				return
			}
			if err != nil || len(key) != tt.keyLen {
				t.Fatalf("ParseSecret(%q) = %d bytes, %v; want %d bytes", tt.secret, len(key), err, tt.keyLen)
			}
		})
	}
}

var bodies = []string{
	"",
	"{}",
	vecBody,
	`{"type":"handoff.created","data":{"text":"héllo, wörld ✓","n":[1,2,3]}}`,
	strings.Repeat("x", 100_000),
}

// The oracle verifies what we sign (it uses the wall clock, so sign with now).
func TestOracleVerifiesSign(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{vecSecret, NewSecret()} {
		s := mustSigner(t, secret)
		oracle, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		for i, body := range bodies {
			id := "msg_" + strconv.Itoa(i)
			h := s.Headers(id, time.Now(), []byte(body))
			if err := oracle.Verify([]byte(body), h); err != nil {
				t.Errorf("oracle.Verify(body %d) = %v", i, err)
			}
			ts := time.Unix(vecTS+int64(i), 0)
			want, _ := oracle.Sign(id, ts, []byte(body))
			if got := s.Sign(id, ts, []byte(body)); got != want {
				t.Errorf("Sign(body %d) = %q, oracle %q", i, got, want)
			}
		}
	}
}

// We verify what the oracle signs.
func TestVerifyOracleSigned(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	oracle, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, body := range bodies {
		id := "msg_oracle_" + strconv.Itoa(i)
		sig, err := oracle.Sign(id, now, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, id)
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		if err := Verify(secret, h, []byte(body), now); err != nil {
			t.Errorf("Verify(oracle-signed body %d) = %v", i, err)
		}
		if err := Verify(NewSecret(), h, []byte(body), now); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Verify(oracle-signed body %d, other secret) = %v, want ErrBadSignature", i, err)
		}
	}
}

func TestVerifyRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret, otherSecret := NewSecret(), NewSecret(), NewSecret()
	ts := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	oldSig := mustSigner(t, oldSecret).Sign(vecID, ts, body)
	newSig := mustSigner(t, newSecret).Sign(vecID, ts, body)

	base := func() http.Header {
		h := http.Header{}
		h.Set(HeaderID, vecID)
		h.Set(HeaderTimestamp, strconv.Itoa(vecTS))
		return h
	}
	oneLine := base()
	oneLine.Set(HeaderSignature, "v1a,c29tZXRoaW5nIGVsc2U= "+oldSig+"  garbage v1,!!! "+newSig)
	twoLines := base()
	twoLines.Add(HeaderSignature, oldSig)
	twoLines.Add(HeaderSignature, newSig)
	otherVersion := base() // right MAC, wrong version tag
	otherVersion.Set(HeaderSignature, "v2"+strings.TrimPrefix(newSig, "v1"))

	tests := []struct {
		name   string
		h      http.Header
		secret string
		want   error
	}{
		{"one line, old secret", oneLine, oldSecret, nil},
		{"one line, new secret", oneLine, newSecret, nil},
		{"one line, other secret", oneLine, otherSecret, ErrBadSignature},
		{"two lines, old secret", twoLines, oldSecret, nil},
		{"two lines, new secret", twoLines, newSecret, nil},
		{"two lines, other secret", twoLines, otherSecret, ErrBadSignature},
		{"unknown version ignored", otherVersion, newSecret, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.secret, tt.h, body, ts); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	s := mustSigner(t, secret)
	ts := time.Unix(vecTS, 0)
	body := []byte(vecBody)
	good := s.Headers(vecID, ts, body)
	without := func(k string) http.Header { h := good.Clone(); h.Del(k); return h }
	with := func(k, v string) http.Header { h := good.Clone(); h.Set(k, v); return h }

	tests := []struct {
		name   string
		secret string
		h      http.Header
		body   string
		now    time.Time
		want   error // nil: accepted; errAny: some other error
	}{
		{"good", secret, good, vecBody, ts, nil},
		{"4m59s late", secret, good, vecBody, ts.Add(4*time.Minute + 59*time.Second), nil},
		{"5m late", secret, good, vecBody, ts.Add(5 * time.Minute), nil},
		{"5m early", secret, good, vecBody, ts.Add(-5 * time.Minute), nil},
		{"tampered body", secret, good, `{"test": 2432232315}`, ts, ErrBadSignature},
		{"empty body", secret, good, "", ts, ErrBadSignature},
		{"wrong secret", NewSecret(), good, vecBody, ts, ErrBadSignature},
		{"tampered id", secret, with(HeaderID, "msg_other"), vecBody, ts, ErrBadSignature},
		{"tampered timestamp", secret, with(HeaderTimestamp, strconv.Itoa(vecTS+1)), vecBody, ts, ErrBadSignature},
		{"tampered signature", secret, with(HeaderSignature, "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))), vecBody, ts, ErrBadSignature},
		{"too old", secret, good, vecBody, ts.Add(5*time.Minute + time.Second), ErrTimestamp},
		{"a day old", secret, good, vecBody, ts.Add(24 * time.Hour), ErrTimestamp},
		{"too new", secret, good, vecBody, ts.Add(-5*time.Minute - time.Second), ErrTimestamp},
		{"malformed timestamp", secret, with(HeaderTimestamp, "yesterday"), vecBody, ts, ErrTimestamp},
		{"no id", secret, without(HeaderID), vecBody, ts, ErrMissingHeaders},
		{"no timestamp", secret, without(HeaderTimestamp), vecBody, ts, ErrMissingHeaders},
		{"no signature", secret, without(HeaderSignature), vecBody, ts, ErrMissingHeaders},
		{"blank signature", secret, with(HeaderSignature, "  "), vecBody, ts, ErrMissingHeaders},
		{"no headers", secret, http.Header{}, vecBody, ts, ErrMissingHeaders},
		{"nil headers", secret, nil, vecBody, ts, ErrMissingHeaders},
		{"bad secret", "whsec_short", good, vecBody, ts, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.h, []byte(tt.body), tt.now)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("Verify = %v, want success", err)
			case tt.want == errAny:
				if err == nil || errors.Is(err, ErrBadSignature) || errors.Is(err, ErrTimestamp) || errors.Is(err, ErrMissingHeaders) {
					t.Fatalf("Verify = %v, want a secret error", err)
				}
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

var errAny = errors.New("any other error")

func TestVerifyZeroNowUsesClock(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	s := mustSigner(t, secret)
	body := []byte("{}")
	if err := Verify(secret, s.Headers("m", time.Now(), body), body, time.Time{}); err != nil {
		t.Errorf("Verify(now) = %v", err)
	}
	if err := Verify(secret, s.Headers("m", time.Now().Add(-time.Hour), body), body, time.Time{}); !errors.Is(err, ErrTimestamp) {
		t.Errorf("Verify(an hour ago) = %v, want ErrTimestamp", err)
	}
}

func BenchmarkSign(b *testing.B) {
	s := mustSigner(b, vecSecret)
	body := []byte(`{"type":"handoff.created","data":{"conversation":"conv_123","text":"` + strings.Repeat("hello ", 150) + `"}}`)
	ts := time.Unix(vecTS, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Sign(vecID, ts, body)
	}
}

// TestSignSeveral: a Signer of a rotation sends one signature per secret,
// the current one's first. Each secret alone verifies the header, with our
// Verify and with the reference library's; a secret not among them does
// not, and neither does a signature cut out of the header alone for
// another secret.
func TestSignSeveral(t *testing.T) {
	t.Parallel()
	cur, prev, other := NewSecret(), NewSecret(), NewSecret()
	s := mustSigner(t, cur, prev)
	body := []byte(vecBody)
	now := time.Now()
	h := s.Headers(vecID, now, body)
	entries := strings.Fields(h.Get(HeaderSignature))
	want := []string{mustSigner(t, cur).Sign(vecID, now, body), mustSigner(t, prev).Sign(vecID, now, body)}
	if len(entries) != 2 || entries[0] != want[0] || entries[1] != want[1] {
		t.Fatalf("signature header %q, want %q", h.Get(HeaderSignature), strings.Join(want, " "))
	}
	if got := h.Get(HeaderSignature); got != want[0]+" "+want[1] {
		t.Fatalf("signature header %q: want the entries separated by one space", got)
	}
	for name, secret := range map[string]string{"current": cur, "previous": prev} {
		if err := Verify(secret, h, body, now); err != nil {
			t.Errorf("Verify with the %s secret alone = %v", name, err)
		}
		oracle, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := oracle.Verify(body, h); err != nil {
			t.Errorf("the reference library with the %s secret = %v", name, err)
		}
	}
	if err := Verify(other, h, body, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify with a third secret = %v, want ErrBadSignature", err)
	}
	// Each entry is the signature of its own secret only.
	for i, secret := range []string{prev, cur} {
		one := h.Clone()
		one.Set(HeaderSignature, entries[i])
		if err := Verify(secret, one, body, now); !errors.Is(err, ErrBadSignature) {
			t.Errorf("entry %d verified with the other secret: %v", i, err)
		}
	}
	// One secret: one entry, as before.
	if got := strings.Fields(mustSigner(t, cur).Sign(vecID, now, body)); len(got) != 1 {
		t.Errorf("a single secret signs %d entries", len(got))
	}
}

func TestNewSignerRejectsOther(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "whsec_short", "whsec_not*base64!"} {
		if _, err := NewSigner(NewSecret(), bad); err == nil || !strings.Contains(err.Error(), "other secret 1") {
			t.Errorf("NewSigner(good, %q) = %v, want an error naming the other secret", bad, err)
		}
	}
}
