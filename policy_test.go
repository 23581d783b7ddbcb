package baton

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// FuzzDuration checks Duration's readers: a value is either refused with an
// EINVALID *Error or read as what it says (a bare number as that many seconds,
// never wrapped around), and what MarshalText writes reads back the same, as
// text and as JSON.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"60s", "1m30s", "90", "0", "", "-5s", "1.5h", "9223372036854775807ns", "2562047h47m16.854775807s",
		"9223372036", "9223372037", "9999999999", "99999999999", "00000000001", "1e3", "+5", "5 ", "\"60s\"", "null", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Duration
		err := d.UnmarshalText([]byte(s))
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("UnmarshalText(%q) = %v, want an EINVALID *Error", s, err)
			}
		} else {
			if v, perr := time.ParseDuration(s); perr == nil && time.Duration(d) != v {
				t.Fatalf("UnmarshalText(%q) = %v, time.ParseDuration says %v", s, time.Duration(d), v)
			}
			if n, perr := strconv.ParseInt(s, 10, 64); perr == nil && s[0] != '+' && s[0] != '-' {
				if n > int64(time.Duration(1<<63-1)/time.Second) || time.Duration(d) != time.Duration(n)*time.Second {
					t.Fatalf("UnmarshalText(%q) = %v, want %d seconds or an error", s, time.Duration(d), n)
				}
			}
			text, _ := d.MarshalText()
			var again Duration
			if err := again.UnmarshalText(text); err != nil || again != d {
				t.Fatalf("%q read as %v, written %q, read back %v, %v", s, time.Duration(d), text, time.Duration(again), err)
			}
			b, _ := json.Marshal(d)
			if err := json.Unmarshal(b, &again); err != nil || again != d {
				t.Fatalf("%v as JSON %s read back %v, %v", time.Duration(d), b, time.Duration(again), err)
			}
		}
		// JSON: a string reads as its text, anything else as the bare text.
		var j Duration
		jerr := j.UnmarshalJSON([]byte(strconv.Quote(s)))
		if q := strconv.Quote(s); q[1:len(q)-1] == s && ((jerr == nil) != (err == nil) || j != d) {
			t.Fatalf("UnmarshalJSON(%s) = %v, %v; UnmarshalText = %v, %v", q, time.Duration(j), jerr, time.Duration(d), err)
		}
	})
}

// TestPolicyCheckTexts refuses texts a handoff could not carry (NUL, bytes
// that are not UTF-8) and too long ones, naming the field, and history
// rounds past MaxHistoryRounds.
func TestPolicyCheckTexts(t *testing.T) {
	t.Parallel()
	long := make([]rune, MaxOutOfHoursReply+1)
	for i := range long {
		long[i] = 'é'
	}
	for field, p := range map[string]Policy{
		"out_of_hours_reply":  {OutOfHoursReply: "closed\x00now"},
		"trigger_description": {TriggerDescription: "bad \xff\xfe bytes"},
		"history_rounds":      {HistoryRounds: MaxHistoryRounds + 1},
	} {
		if err := p.Check(); ErrorField(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if err := (Policy{OutOfHoursReply: string(long)}).Check(); ErrorField(err) != "out_of_hours_reply" {
		t.Errorf("a long reply: %v", err)
	}
	if err := (Policy{OutOfHoursReply: string(long[1:]), TriggerDescription: "when the customer asks for a person", HistoryRounds: MaxHistoryRounds}).Check(); err != nil {
		t.Errorf("within the limits: %v", err)
	}
}

func TestSessionPayloadsClosing(t *testing.T) {
	t.Parallel()
	p := SessionPayloads{}.Effective()
	for _, c := range []struct {
		text, rest string
		ends       bool
	}{
		{"LIVECHAT_SESSION_END", "", true},
		{"Glad I could help! LIVECHAT_SESSION_END", "Glad I could help!", true},
		{"LIVECHAT_SESSION_END.", ".", true},
		{"Line one\nLIVECHAT_SESSION_END\nline two", "Line one\n\nline two", true},
		{"see LIVECHAT_SESSION_ENDED ok", "see LIVECHAT_SESSION_ENDED ok", false},
		{"xLIVECHAT_SESSION_END", "xLIVECHAT_SESSION_END", false},
		{"LIVECHAT_SESSION_END_2 and LIVECHAT_SESSION_END", "LIVECHAT_SESSION_END_2 and", true},
		{"livechat_session_end", "livechat_session_end", false},
		{"", "", false},
	} {
		rest, ends := p.Closing(c.text)
		if rest != c.rest || ends != c.ends {
			t.Errorf("Closing(%q) = %q, %v; want %q, %v", c.text, rest, ends, c.rest, c.ends)
		}
	}
	if _, ends := (SessionPayloads{Start: "A1B", End: "END"}).Closing("the END of it"); !ends {
		t.Error("a renamed end as a word does not end")
	}
}
