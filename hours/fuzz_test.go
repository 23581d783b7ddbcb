package hours

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// Unix seconds of 0001-01-01 and 9999-12-31 23:59:59 UTC: "now" is kept
// between them, the range of the dates a policy can name.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

// fuzzPeriod builds a period from fuzzed strings: kind "w" is weekly, "c"
// custom, anything else is taken as the kind itself; days are comma-separated.
func fuzzPeriod(kind, days, date, start, end string, closed bool) baton.Period {
	p := baton.Period{Kind: baton.PeriodKind(kind), Date: date, Start: start, End: end, Closed: closed}
	switch kind {
	case "w":
		p.Kind = baton.Weekly
	case "c":
		p.Kind = baton.Custom
	}
	if days != "" {
		p.Days = strings.Split(days, ",")
	}
	return p
}

// FuzzNextOpen checks a compiled calendar at an arbitrary instant: NextOpen is
// never before now, is now itself exactly when Open(now), is open when it
// exists, and nothing opens between now and it; Compile errors name a field.
func FuzzNextOpen(f *testing.F) {
	f.Add("Europe/Paris", int64(1774741500), "w", "mon,tue,wed,thu,fri", "", "09:00", "18:00", false, "c", "", "2026-03-30", "", "", true)
	f.Add("Europe/Paris", int64(1774749600), "w", "sun", "", "01:30", "03:30", false, "c", "", "2026-03-29", "02:30", "24:00", false)
	f.Add("America/New_York", int64(1793512800), "w", "sun", "", "00:30", "01:30", false, "w", "sun", "", "01:00", "02:00", false)
	f.Add("Australia/Lord_Howe", int64(1775318400), "w", "sat,sun", "", "22:00", "02:00", false, "c", "", "2026-04-05", "01:45", "02:15", false)
	f.Add("", int64(0), "c", "", "1970-01-01", "00:00", "00:00", false, "c", "", "1970-01-02", "23:59", "00:00", false)
	f.Add("UTC", int64(maxUnix), "c", "", "9999-12-31", "23:00", "24:00", false, "w", "fri", "", "9:00", "17:00", false)
	f.Add("Pacific/Apia", int64(1325239200), "w", "thu,fri,sat", "", "00:00", "24:00", false, "c", "", "2011-12-30", "", "", true)
	f.Add("Asia/Kathmandu", int64(minUnix), "c", "", "0001-01-01", "00:00", "00:15", false, "x", "mon", "2026-01-01", "10:00", "11:00", false)
	f.Add("Local", int64(-1), "w", "mon,mon", "", "24:00", "09:00", false, "c", "", "2026-02-29", "09:00", "10:00", false)
	f.Add("Etc/GMT+12", int64(1767225600), "w", "Mon", "2026-01-01", "-1:00", "\xff", true, "c", "mon", "2026-1-1", "", "", false)
	f.Fuzz(func(t *testing.T, zone string, now int64, k1, d1, date1, s1, e1 string, c1 bool, k2, d2, date2, s2, e2 string, c2 bool) {
		if len(zone)+len(d1)+len(d2) > 200 {
			return
		}
		p := baton.Policy{Zone: zone, Periods: []baton.Period{
			fuzzPeriod(k1, d1, date1, s1, e1, c1),
			fuzzPeriod(k2, d2, date2, s2, e2, c2),
		}}
		c, err := Compile(p)
		if err != nil {
			var e *baton.Error
			if !errors.As(err, &e) || e.Code != baton.EINVALID || e.Field == "" || c != nil {
				t.Fatalf("Compile = %v, %v: want a nil calendar and an EINVALID *baton.Error naming a field", c, err)
			}
			if verr := Validate(p); verr == nil || verr.Error() != err.Error() {
				t.Fatalf("Validate = %v, Compile = %v", verr, err)
			}
			return
		}
		if now < minUnix || now > maxUnix {
			now = minUnix + (now%(maxUnix-minUnix)+(maxUnix-minUnix))%(maxUnix-minUnix)
		}
		at := time.Unix(now, 0)
		open := c.Open(at)
		next, ok := c.NextOpen(at)
		switch {
		case open && (!ok || !next.Equal(at)):
			t.Fatalf("open at %v, but NextOpen = %v, %v", at, next, ok)
		case !ok:
			return
		case next.Before(at):
			t.Fatalf("NextOpen(%v) = %v, before now", at, next)
		case !c.Open(next):
			t.Fatalf("NextOpen(%v) = %v, where the calendar is closed", at, next)
		case !open && !next.After(at):
			t.Fatalf("closed at %v, but NextOpen is now", at)
		}
		if open {
			return
		}
		// Nothing opens before next: closed just before it and half way.
		for _, u := range []time.Time{next.Add(-time.Nanosecond), at.Add(next.Sub(at) / 2)} {
			if !u.Before(at) && c.Open(u) {
				t.Fatalf("NextOpen(%v) = %v, but the calendar is open at %v", at, next, u)
			}
		}
		// next starts one of its local day's windows.
		l := next.In(c.Location())
		found := false
		for k := -1; k <= 0; k++ {
			for _, w := range c.Windows(l.Year(), l.Month(), l.Day()+k) {
				found = found || w.Start.Equal(next)
			}
		}
		if !found {
			t.Fatalf("NextOpen(%v) = %v, which starts no window", at, next)
		}
	})
}
