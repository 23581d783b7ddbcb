package stdwebhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oracle is the signature Standard Webhooks defines, computed here apart from
// sum: base64 of HMAC-SHA256(key, id "." ts "." body).
func oracle(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FuzzParseSecret checks that ParseSecret accepts exactly what decodes to a
// key of MinKeyLen..MaxKeyLen bytes, and that an accepted secret's canonical
// form ("whsec_" + base64 of the key) parses back to the same key.
func FuzzParseSecret(f *testing.F) {
	f.Add(vecSecret)
	f.Add(strings.TrimPrefix(vecSecret, SecretPrefix))
	f.Add(" " + vecSecret + "\n")
	f.Add(NewSecret())
	f.Add("whsec_")
	f.Add("whsec_short")
	f.Add("whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Add("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, MinKeyLen-1)))
	f.Add("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, MaxKeyLen)))
	f.Add("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, MaxKeyLen+1)))
	f.Add("whsec_" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)))
	f.Add("whsec_" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)))
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseSecret(s)
		if err != nil {
			if key != nil {
				t.Fatalf("ParseSecret(%q) = %x with error %v", s, key, err)
			}
			if _, serr := NewSigner(s); serr == nil {
				t.Fatalf("NewSigner(%q) accepts what ParseSecret refuses", s)
			}
			return
		}
		if len(key) < MinKeyLen || len(key) > MaxKeyLen {
			t.Fatalf("ParseSecret(%q) = a %d-byte key", s, len(key))
		}
		canon := SecretPrefix + base64.StdEncoding.EncodeToString(key)
		again, err := ParseSecret(canon)
		if err != nil || !bytes.Equal(again, key) {
			t.Fatalf("canonical form %q of %q parses to %x, %v; want %x", canon, s, again, err, key)
		}
		if _, err := NewSigner(s); err != nil {
			t.Fatalf("NewSigner(%q) refuses what ParseSecret accepts: %v", s, err)
		}
	})
}

// FuzzVerify checks Verify against an independent HMAC oracle: a message signed
// by Signer verifies at its own time; the same message with its body, id or
// timestamp changed never does; and for arbitrary headers Verify succeeds only
// when some v1 entry of webhook-signature is the oracle's signature and the
// timestamp is within Tolerance.
func FuzzVerify(f *testing.F) {
	f.Add(vecSecret, vecID, int64(vecTS), []byte(vecBody), "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", int64(0), uint(3))
	f.Add(vecSecret, vecID, int64(vecTS), []byte(vecBody), "+1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,xx", int64(300), uint(0))
	f.Add(vecSecret, "msg.1", int64(2), []byte("3.body"), "01614265330", "v2,abc v1,=== v1,", int64(-301), uint(7))
	f.Add("whsec_"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, MaxKeyLen)), "", int64(-1), []byte{}, "", "", int64(0), uint(0))
	f.Add("whsec_short", "id", int64(0), []byte("x"), "0", "v1,", int64(0), uint(1))
	f.Add(vecSecret, "msg_\x00\n", int64(1<<62), []byte("\xff\xfe"), "9223372036854775807", " \tv1,AAAA\n", int64(1), uint(99))
	f.Fuzz(func(t *testing.T, secret, id string, ts int64, body []byte, tsHeader, sigHeader string, skew int64, flip uint) {
		key, kerr := ParseSecret(secret)
		now := time.Unix(ts, 0)

		// Part 1: what Signer signs verifies, and no changed message does.
		if kerr == nil && id != "" && ts > -1<<40 && ts < 1<<40 {
			s, err := NewSigner(secret)
			if err != nil {
				t.Fatalf("NewSigner: %v", err)
			}
			h := s.Headers(id, now, body)
			if h.Get(HeaderID) == id {
				if err := Verify(secret, h, body, now); err != nil {
					t.Fatalf("Verify of a signed message = %v (id %q ts %d)", err, id, ts)
				}
				if got, want := strings.TrimPrefix(h.Get(HeaderSignature), "v1,"), oracle(key, id, strconv.FormatInt(ts, 10), body); got != want {
					t.Fatalf("Sign = %s, oracle %s", got, want)
				}
				// A changed body: one byte flipped, one appended, one dropped.
				changed := [][]byte{append(bytes.Clone(body), byte(flip))}
				if len(body) > 0 {
					b := bytes.Clone(body)
					b[flip%uint(len(b))] ^= 1 << (flip % 8)
					changed = append(changed, b, body[:len(body)-1])
				}
				for _, b := range changed {
					if err := Verify(secret, h, b, now); !errors.Is(err, ErrBadSignature) {
						t.Fatalf("Verify of a modified body %q (signed %q) = %v, want ErrBadSignature", b, body, err)
					}
				}
				other := h.Clone()
				other.Set(HeaderTimestamp, strconv.FormatInt(ts+1+int64(flip%300), 10))
				if err := Verify(secret, other, body, now); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("Verify with a changed timestamp = %v, want ErrBadSignature", err)
				}
				other = h.Clone()
				other.Set(HeaderID, id+"x")
				if err := Verify(secret, other, body, now); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("Verify with a changed id = %v, want ErrBadSignature", err)
				}
			}
		}

		// Part 2: arbitrary headers.
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, tsHeader)
		h.Set(HeaderSignature, sigHeader)
		at := now.Add(time.Duration(skew%int64(2*Tolerance/time.Second)) * time.Second)
		err := Verify(secret, h, body, at)
		if kerr != nil {
			if err == nil || errors.Is(err, ErrBadSignature) || errors.Is(err, ErrTimestamp) || errors.Is(err, ErrMissingHeaders) {
				t.Fatalf("Verify with a bad secret %q = %v, want the secret's error", secret, err)
			}
			return
		}
		if err != nil {
			return
		}
		// Accepted: the headers must carry the oracle's signature.
		n, perr := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
		if perr != nil {
			t.Fatalf("Verify accepted timestamp %q", tsHeader)
		}
		if d := at.Sub(time.Unix(n, 0)); d > Tolerance || d < -Tolerance {
			t.Fatalf("Verify accepted a timestamp %v from now", d)
		}
		want := oracle(key, h.Get(HeaderID), strconv.FormatInt(n, 10), body)
		found := false
		for _, e := range strings.Fields(h.Get(HeaderSignature)) {
			if v, sig, _ := strings.Cut(e, ","); v == "v1" {
				if got, derr := base64.StdEncoding.DecodeString(sig); derr == nil && base64.StdEncoding.EncodeToString(got) == want {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("Verify accepted signature header %q for id %q ts %q body %q; the signature is v1,%s", sigHeader, id, tsHeader, body, want)
		}
	})
}

// FuzzRetryAfter checks that RetryAfter never panics and always answers a
// delay in 0..MaxRetryAfter, and that delay-seconds mean what they say.
func FuzzRetryAfter(f *testing.F) {
	f.Add("120", int64(1700000000))
	f.Add("0", int64(0))
	f.Add("-5", int64(0))
	f.Add(" 3600 ", int64(0))
	f.Add("99999999999999999999", int64(0))
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", int64(1445412480))
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", int64(1445412000))
	f.Add("Sunday, 06-Nov-94 08:49:37 GMT", int64(0))
	f.Add("Sun Nov  6 08:49:37 1994", int64(-1<<40))
	f.Add("1.5", int64(0))
	f.Add("", int64(0))
	f.Fuzz(func(t *testing.T, v string, unix int64) {
		now := time.Unix(unix, 0)
		d := RetryAfter(v, now)
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("RetryAfter(%q) = %v, outside 0..%v", v, d, MaxRetryAfter)
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			want := min(max(time.Duration(0), time.Duration(min(max(n, 0), int64(MaxRetryAfter/time.Second)))*time.Second), MaxRetryAfter)
			if d != want {
				t.Fatalf("RetryAfter(%q) = %v, want %v", v, d, want)
			}
		}
	})
}
