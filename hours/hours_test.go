package hours

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST tests need real zones even where the system has none

	"github.com/batonhq/baton"
)

func weekly(start, end string, days ...string) baton.Period {
	return baton.Period{Kind: baton.Weekly, Days: days, Start: start, End: end}
}

func custom(date, start, end string) baton.Period {
	return baton.Period{Kind: baton.Custom, Date: date, Start: start, End: end}
}

func holiday(date string) baton.Period {
	return baton.Period{Kind: baton.Custom, Date: date, Closed: true}
}

func compile(t *testing.T, zone string, periods ...baton.Period) *Calendar {
	t.Helper()
	c, err := Compile(baton.Policy{Zone: zone, Periods: periods})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return c
}

// at parses "2006-01-02 15:04" in loc.
func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// utc parses an RFC 3339 instant.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func format(ws []Window) string {
	var b strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&b, "[%s, %s) ", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339))
	}
	return strings.TrimSpace(b.String())
}

func TestWindows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		zone    string
		periods []baton.Period
		day     string // "2026-06-01" is a Monday
		want    string // format() of the expected windows, RFC 3339 in the zone
	}{
		{
			name: "design example",
			periods: []baton.Period{
				weekly("09:00", "12:00", "mon"),
				weekly("10:00", "12:00", "mon"),
				weekly("13:00", "18:00", "mon"),
				weekly("15:00", "17:00", "mon"),
			},
			day:  "2026-06-01",
			want: "[2026-06-01T09:00:00Z, 2026-06-01T12:00:00Z) [2026-06-01T13:00:00Z, 2026-06-01T18:00:00Z)",
		},
		{
			name:    "touching windows join",
			periods: []baton.Period{weekly("12:00", "14:00", "mon"), weekly("09:00", "12:00", "mon", "tue")},
			day:     "2026-06-01",
			want:    "[2026-06-01T09:00:00Z, 2026-06-01T14:00:00Z)",
		},
		{
			name:    "rule for other days does not apply",
			periods: []baton.Period{weekly("09:00", "12:00", "tue", "wed")},
			day:     "2026-06-01",
			want:    "",
		},
		{
			name:    "past midnight belongs to its start day",
			periods: []baton.Period{weekly("22:00", "02:00", "fri")},
			day:     "2026-06-05",
			want:    "[2026-06-05T22:00:00Z, 2026-06-06T02:00:00Z)",
		},
		{
			name:    "past midnight merges with a longer one",
			periods: []baton.Period{weekly("22:00", "02:00", "fri"), weekly("23:00", "01:00", "fri"), weekly("20:00", "22:00", "fri")},
			day:     "2026-06-05",
			want:    "[2026-06-05T20:00:00Z, 2026-06-06T02:00:00Z)",
		},
		{
			name:    "end 24:00 and end 00:00",
			periods: []baton.Period{weekly("00:00", "24:00", "mon"), weekly("18:00", "00:00", "tue")},
			day:     "2026-06-01",
			want:    "[2026-06-01T00:00:00Z, 2026-06-02T00:00:00Z)",
		},
		{
			name:    "custom window on a sunday",
			periods: []baton.Period{weekly("09:00", "17:00", "mon", "tue", "wed", "thu", "fri"), custom("2026-06-07", "10:00", "14:00")},
			day:     "2026-06-07",
			want:    "[2026-06-07T10:00:00Z, 2026-06-07T14:00:00Z)",
		},
		{
			name:    "custom window merges with weekly",
			periods: []baton.Period{weekly("09:00", "17:00", "mon"), custom("2026-06-01", "16:00", "20:00")},
			day:     "2026-06-01",
			want:    "[2026-06-01T09:00:00Z, 2026-06-01T20:00:00Z)",
		},
		{
			name:    "holiday removes the day",
			periods: []baton.Period{weekly("09:00", "17:00", "mon"), holiday("2026-06-01")},
			day:     "2026-06-01",
			want:    "",
		},
		{
			name:    "zone",
			zone:    "Europe/Paris",
			periods: []baton.Period{weekly("09:00", "17:00", "mon")},
			day:     "2026-06-01",
			want:    "[2026-06-01T09:00:00+02:00, 2026-06-01T17:00:00+02:00)",
		},
		{
			name: "no periods is one whole day",
			zone: "Europe/Paris",
			day:  "2026-03-29",
			want: "[2026-03-29T00:00:00+01:00, 2026-03-30T00:00:00+02:00)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, tt.zone, tt.periods...)
			d := utc(t, tt.day+"T00:00:00Z")
			if got := format(c.Windows(d.Year(), d.Month(), d.Day())); got != tt.want {
				t.Errorf("Windows(%s)\n got %s\nwant %s", tt.day, got, tt.want)
			}
		})
	}
}

func TestWindowsNormalizesDay(t *testing.T) {
	t.Parallel()
	c := compile(t, "", weekly("09:00", "10:00", "mon"))
	// 2026-05-32 is 2026-06-01, a Monday.
	if got, want := format(c.Windows(2026, time.May, 32)), "[2026-06-01T09:00:00Z, 2026-06-01T10:00:00Z)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// office is used by TestOpen and TestNextOpen: weekdays 09:00-17:00, a friday
// night shift, a sunday opening, a friday holiday and a saturday holiday after
// a friday night shift.
var office = []baton.Period{
	weekly("09:00", "17:00", "mon", "tue", "wed", "thu", "fri"),
	weekly("22:00", "02:00", "fri"),
	custom("2026-06-07", "10:00", "14:00"), // a sunday
	holiday("2026-05-01"),                  // a friday
	holiday("2026-06-13"),                  // a saturday
}

func TestOpen(t *testing.T) {
	t.Parallel()
	c := compile(t, "Europe/Paris", office...)
	loc := c.Location()
	tests := []struct {
		at   string // local time in Europe/Paris
		want bool
	}{
		{"2026-06-01 08:59", false},
		{"2026-06-01 09:00", true},
		{"2026-06-01 12:00", true},
		{"2026-06-01 16:59", true},
		{"2026-06-01 17:00", false},
		{"2026-06-05 21:59", false},
		{"2026-06-05 22:00", true},
		{"2026-06-06 00:00", true},
		{"2026-06-06 01:00", true},
		{"2026-06-06 01:59", true},
		{"2026-06-06 02:00", false},
		{"2026-06-06 10:00", false},
		{"2026-06-07 09:59", false},
		{"2026-06-07 10:00", true},
		{"2026-06-07 14:00", false},
		{"2026-04-30 10:00", true},  // thursday before the holiday
		{"2026-05-01 10:00", false}, // holiday
		{"2026-05-01 22:30", false}, // holiday night shift is gone too
		{"2026-05-02 01:00", false},
		{"2026-06-13 01:00", true}, // friday's night shift runs into the saturday holiday
		{"2026-06-13 02:00", false},
	}
	for _, tt := range tests {
		if got := c.Open(at(t, loc, tt.at)); got != tt.want {
			t.Errorf("Open(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	// Exact boundaries, to the nanosecond and from another zone.
	end := at(t, loc, "2026-06-01 17:00")
	if !c.Open(end.Add(-time.Nanosecond)) {
		t.Error("Open(17:00 - 1ns) = false, want true")
	}
	if c.Open(end.UTC()) {
		t.Error("Open(17:00 in UTC) = true, want false")
	}
	if !c.Open(utc(t, "2026-06-01T07:00:00Z")) {
		t.Error("Open(07:00Z = 09:00 Paris) = false, want true")
	}
}

func TestOpenMidnight(t *testing.T) {
	t.Parallel()
	c := compile(t, "", weekly("22:00", "02:00", "fri"))
	for _, tt := range []struct {
		at   string
		want bool
	}{
		{"2026-06-05T21:59:59Z", false},
		{"2026-06-05T22:00:00Z", true},
		{"2026-06-06T01:00:00Z", true},
		{"2026-06-06T02:00:00Z", false},
	} {
		if got := c.Open(utc(t, tt.at)); got != tt.want {
			t.Errorf("Open(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestNextOpen(t *testing.T) {
	t.Parallel()
	c := compile(t, "Europe/Paris", office...)
	loc := c.Location()
	tests := []struct {
		name string
		from string
		want string
	}{
		{"open now", "2026-06-02 11:30", "2026-06-02 11:30"},
		{"at opening", "2026-06-02 09:00", "2026-06-02 09:00"},
		{"before opening", "2026-06-02 07:15", "2026-06-02 09:00"},
		{"at closing", "2026-06-02 17:00", "2026-06-03 09:00"},
		{"friday evening to night shift", "2026-06-05 17:30", "2026-06-05 22:00"},
		{"after night shift to sunday opening", "2026-06-06 02:00", "2026-06-07 10:00"},
		{"across a weekend with a saturday holiday", "2026-06-13 03:00", "2026-06-15 09:00"},
		{"across a weekend with no sunday", "2026-06-20 03:00", "2026-06-22 09:00"},
		{"holiday to next working day", "2026-04-30 17:00", "2026-05-04 09:00"},
		{"during holiday", "2026-05-01 12:00", "2026-05-04 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.NextOpen(at(t, loc, tt.from))
			want := at(t, loc, tt.want)
			if !ok || !got.Equal(want) {
				t.Errorf("NextOpen(%s) = %v, %v; want %v", tt.from, got, ok, want)
			}
		})
	}
}

func TestNextOpenNone(t *testing.T) {
	t.Parallel()
	from := utc(t, "2026-06-01T12:00:00Z")
	tests := []struct {
		name    string
		periods []baton.Period
		want    string // "" for none
	}{
		{"only past custom rules", []baton.Period{custom("2026-01-10", "09:00", "17:00"), holiday("2026-12-25")}, ""},
		{"only holidays", []baton.Period{holiday("2026-12-25")}, ""},
		{"custom rule in range", []baton.Period{custom("2026-09-01", "09:00", "17:00")}, "2026-09-01T09:00:00Z"},
		{"custom rule 400 days ahead", []baton.Period{custom("2027-07-06", "09:00", "17:00")}, "2027-07-06T09:00:00Z"},
		{"custom rule 401 days ahead", []baton.Period{custom("2027-07-07", "09:00", "17:00")}, ""},
		{"weekly rule blocked by holiday", []baton.Period{weekly("13:00", "14:00", "mon"), holiday("2026-06-01")}, "2026-06-08T13:00:00Z"},
		{"no periods", nil, "2026-06-01T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, "", tt.periods...)
			got, ok := c.NextOpen(from)
			if tt.want == "" {
				if ok {
					t.Errorf("NextOpen = %v, true; want none", got)
				}
				return
			}
			if want := utc(t, tt.want); !ok || !got.Equal(want) {
				t.Errorf("NextOpen = %v, %v; want %v", got, ok, want)
			}
		})
	}
}

func TestAlwaysOpen(t *testing.T) {
	t.Parallel()
	c := compile(t, "")
	if c.Location() != time.UTC {
		t.Errorf("Location() = %v, want UTC", c.Location())
	}
	for _, s := range []string{"2026-01-01T00:00:00Z", "2026-12-25T23:59:59Z"} {
		if !c.Open(utc(t, s)) {
			t.Errorf("Open(%s) = false, want true", s)
		}
	}
}

func TestDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		zone       string
		period     baton.Period
		day        string
		start, end string // instants in UTC
	}{
		{"paris spring forward", "Europe/Paris", custom("2026-03-29", "01:00", "05:00"), "2026-03-29",
			"2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z"}, // 3 real hours
		{"paris fall back", "Europe/Paris", custom("2026-10-25", "01:00", "05:00"), "2026-10-25",
			"2026-10-24T23:00:00Z", "2026-10-25T04:00:00Z"}, // 5 real hours
		{"new york spring forward", "America/New_York", custom("2026-03-08", "01:00", "05:00"), "2026-03-08",
			"2026-03-08T06:00:00Z", "2026-03-08T09:00:00Z"}, // 3 real hours
		{"new york fall back", "America/New_York", custom("2026-11-01", "00:00", "03:00"), "2026-11-01",
			"2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z"}, // 4 real hours
		{"weekly on the spring forward sunday", "Europe/Paris", weekly("01:00", "05:00", "sun"), "2026-03-29",
			"2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z"},
		{"monday after spring forward", "Europe/Paris", weekly("09:00", "17:00", "mon"), "2026-03-30",
			"2026-03-30T07:00:00Z", "2026-03-30T15:00:00Z"},
		{"past midnight into spring forward", "Europe/Paris", weekly("22:00", "06:00", "sat"), "2026-03-28",
			"2026-03-28T21:00:00Z", "2026-03-29T04:00:00Z"}, // 7 real hours
		{"past midnight into fall back", "Europe/Paris", weekly("22:00", "06:00", "sat"), "2026-10-24",
			"2026-10-24T20:00:00Z", "2026-10-25T05:00:00Z"}, // 9 real hours
		// A start inside the skipped hour opens when the clocks jump.
		{"paris start in the gap", "Europe/Paris", custom("2026-03-29", "02:30", "04:00"), "2026-03-29",
			"2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"},
		{"new york start in the gap", "America/New_York", custom("2026-03-08", "02:30", "04:00"), "2026-03-08",
			"2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"},
		{"new york end in the gap", "America/New_York", custom("2026-03-08", "01:00", "02:30"), "2026-03-08",
			"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},
		// A repeated wall time means its first occurrence.
		{"paris repeated start and end", "Europe/Paris", custom("2026-10-25", "02:30", "02:45"), "2026-10-25",
			"2026-10-25T00:30:00Z", "2026-10-25T00:45:00Z"},
		{"new york repeated start", "America/New_York", custom("2026-11-01", "01:30", "03:00"), "2026-11-01",
			"2026-11-01T05:30:00Z", "2026-11-01T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, tt.zone, tt.period)
			d := utc(t, tt.day+"T00:00:00Z")
			ws := c.Windows(d.Year(), d.Month(), d.Day())
			if len(ws) != 1 {
				t.Fatalf("Windows = %s, want one window", format(ws))
			}
			start, end := utc(t, tt.start), utc(t, tt.end)
			if !ws[0].Start.Equal(start) || !ws[0].End.Equal(end) {
				t.Errorf("Windows = %s, want [%s, %s)", format(ws), tt.start, tt.end)
			}
			if ws[0].Start.Location() != c.Location() {
				t.Errorf("window in %v, want %v", ws[0].Start.Location(), c.Location())
			}
			if !c.Open(start) || !c.Open(end.Add(-time.Nanosecond)) || c.Open(end) || c.Open(start.Add(-time.Nanosecond)) {
				t.Errorf("Open disagrees with window [%s, %s)", tt.start, tt.end)
			}
		})
	}
}

func TestDSTEmptyWindow(t *testing.T) {
	t.Parallel()
	// 02:10-02:50 does not exist on the spring-forward day: no window at all.
	c := compile(t, "Europe/Paris", custom("2026-03-29", "02:10", "02:50"))
	if ws := c.Windows(2026, time.March, 29); len(ws) != 0 {
		t.Errorf("Windows = %s, want none", format(ws))
	}
	if got, ok := c.NextOpen(utc(t, "2026-03-28T00:00:00Z")); ok {
		t.Errorf("NextOpen = %v, want none", got)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ten := make([]baton.Period, baton.MaxPeriodRules)
	for i := range ten {
		ten[i] = custom(fmt.Sprintf("2026-01-%02d", i+1), "09:00", "17:00")
	}
	eleven := append(ten[:len(ten):len(ten)], custom("2026-02-01", "09:00", "17:00"))
	ok := weekly("09:00", "17:00", "mon")

	tests := []struct {
		name    string
		zone    string
		periods []baton.Period
		field   string // "" for valid
		message string // a part of the message, if given
	}{
		// valid policies
		{name: "empty"},
		{name: "utc zone", zone: "UTC", periods: []baton.Period{ok}},
		{name: "paris zone", zone: "Europe/Paris", periods: []baton.Period{ok}},
		{name: "ten rules", periods: ten},
		{name: "end 24:00", periods: []baton.Period{weekly("00:00", "24:00", "sat", "sun")}},
		{name: "past midnight", periods: []baton.Period{weekly("22:00", "02:00", "fri")}},
		{name: "end 00:00 after start", periods: []baton.Period{weekly("22:00", "00:00", "fri")}},
		{name: "overlapping rules", periods: []baton.Period{ok, weekly("10:00", "12:00", "mon"), weekly("09:00", "17:00", "mon", "tue")}},
		{name: "two custom windows on a date", periods: []baton.Period{custom("2026-12-24", "09:00", "12:00"), custom("2026-12-24", "14:00", "16:00")}},
		{name: "holiday on a weekly day", periods: []baton.Period{ok, holiday("2026-12-28")}},
		{name: "leap day", periods: []baton.Period{custom("2028-02-29", "09:00", "12:00")}},

		// zone and periods
		{name: "unknown zone", zone: "Mars/Olympus", field: "zone"},
		{name: "local zone", zone: "Local", field: "zone"},
		{name: "bad zone path", zone: "../etc/passwd", field: "zone"},
		{name: "eleven rules", periods: eleven, field: "periods", message: "at most 10"},

		// kind
		{name: "no kind", periods: []baton.Period{{Days: []string{"mon"}, Start: "09:00", End: "17:00"}}, field: "periods[0].kind"},
		{name: "unknown kind", periods: []baton.Period{ok, {Kind: "monthly", Start: "09:00", End: "17:00"}}, field: "periods[1].kind"},

		// days
		{name: "no days", periods: []baton.Period{ok, ok2(), weekly("09:00", "17:00")}, field: "periods[2].days"},
		{name: "unknown day", periods: []baton.Period{weekly("09:00", "17:00", "mon", "funday")}, field: "periods[0].days", message: `"funday"`},
		{name: "capitalized day", periods: []baton.Period{weekly("09:00", "17:00", "Mon")}, field: "periods[0].days"},
		{name: "duplicate day", periods: []baton.Period{weekly("09:00", "17:00", "mon", "tue", "mon")}, field: "periods[0].days", message: "twice"},
		{name: "days on custom", periods: []baton.Period{{Kind: baton.Custom, Days: []string{"mon"}, Date: "2026-12-25", Start: "09:00", End: "17:00"}}, field: "periods[0].days"},

		// date
		{name: "date on weekly", periods: []baton.Period{{Kind: baton.Weekly, Days: []string{"mon"}, Date: "2026-12-25", Start: "09:00", End: "17:00"}}, field: "periods[0].date"},
		{name: "no date", periods: []baton.Period{custom("", "09:00", "17:00")}, field: "periods[0].date"},
		{name: "bad month", periods: []baton.Period{custom("2026-13-01", "09:00", "17:00")}, field: "periods[0].date"},
		{name: "bad day", periods: []baton.Period{custom("2026-02-30", "09:00", "17:00")}, field: "periods[0].date"},
		{name: "not a leap year", periods: []baton.Period{custom("2026-02-29", "09:00", "17:00")}, field: "periods[0].date"},
		{name: "short year", periods: []baton.Period{custom("26-12-25", "09:00", "17:00")}, field: "periods[0].date"},
		{name: "slashes", periods: []baton.Period{custom("2026/12/25", "09:00", "17:00")}, field: "periods[0].date"},
		{name: "single digits", periods: []baton.Period{custom("2026-1-5", "09:00", "17:00")}, field: "periods[0].date"},
		{name: "date with time", periods: []baton.Period{holiday("2026-12-25T00:00:00Z")}, field: "periods[0].date"},

		// closed
		{name: "closed weekly", periods: []baton.Period{{Kind: baton.Weekly, Days: []string{"mon"}, Start: "09:00", End: "17:00", Closed: true}}, field: "periods[0].closed"},
		{name: "closed with start", periods: []baton.Period{{Kind: baton.Custom, Date: "2026-12-25", Start: "09:00", Closed: true}}, field: "periods[0].start"},
		{name: "closed with end", periods: []baton.Period{{Kind: baton.Custom, Date: "2026-12-25", End: "17:00", Closed: true}}, field: "periods[0].end"},

		// start and end
		{name: "no start", periods: []baton.Period{weekly("", "17:00", "mon")}, field: "periods[0].start"},
		{name: "start one digit hour", periods: []baton.Period{weekly("9:00", "17:00", "mon")}, field: "periods[0].start"},
		{name: "start 24:00", periods: []baton.Period{weekly("24:00", "17:00", "mon")}, field: "periods[0].start"},
		{name: "start 25:00", periods: []baton.Period{weekly("25:00", "17:00", "mon")}, field: "periods[0].start"},
		{name: "start minute 60", periods: []baton.Period{weekly("12:60", "17:00", "mon")}, field: "periods[0].start"},
		{name: "start with seconds", periods: []baton.Period{weekly("09:00:00", "17:00", "mon")}, field: "periods[0].start"},
		{name: "start letters", periods: []baton.Period{weekly("ab:cd", "17:00", "mon")}, field: "periods[0].start"},
		{name: "start dot", periods: []baton.Period{custom("2026-12-24", "09.00", "17:00")}, field: "periods[0].start"},
		{name: "start signed", periods: []baton.Period{weekly("+9:00", "17:00", "mon")}, field: "periods[0].start"},
		{name: "no end", periods: []baton.Period{weekly("09:00", "", "mon")}, field: "periods[0].end"},
		{name: "end 24:01", periods: []baton.Period{weekly("09:00", "24:01", "mon")}, field: "periods[0].end"},
		{name: "end 25:00", periods: []baton.Period{weekly("09:00", "25:00", "mon")}, field: "periods[0].end"},
		{name: "end hour only", periods: []baton.Period{custom("2026-12-24", "09:00", "17")}, field: "periods[0].end"},
		{name: "end equals start", periods: []baton.Period{weekly("10:00", "10:00", "mon")}, field: "periods[0].end", message: "empty"},
		{name: "midnight to midnight", periods: []baton.Period{weekly("00:00", "00:00", "mon")}, field: "periods[0].end"},

		// conflicts and duplicates
		{name: "closed then opened", periods: []baton.Period{ok, holiday("2026-12-25"), ok2(), custom("2026-12-25", "10:00", "12:00")}, field: "periods[3]", message: "periods[1]"},
		{name: "opened then closed", periods: []baton.Period{ok, custom("2026-12-25", "10:00", "12:00"), ok2(), holiday("2026-12-25")}, field: "periods[3]", message: "periods[1]"},
		{name: "duplicate weekly", periods: []baton.Period{ok, weekly("09:00", "17:00", "tue", "wed"), ok2(), weekly("09:00", "17:00", "tue", "wed")}, field: "periods[3]", message: "duplicates periods[1]"},
		{name: "duplicate weekly days reordered", periods: []baton.Period{weekly("09:00", "17:00", "tue", "wed"), weekly("09:00", "17:00", "wed", "tue")}, field: "periods[1]", message: "duplicates periods[0]"},
		{name: "duplicate end 00:00 and 24:00", periods: []baton.Period{weekly("18:00", "00:00", "fri"), weekly("18:00", "24:00", "fri")}, field: "periods[1]", message: "duplicates periods[0]"},
		{name: "duplicate custom", periods: []baton.Period{custom("2026-12-24", "09:00", "12:00"), custom("2026-12-24", "09:00", "12:00")}, field: "periods[1]", message: "duplicates periods[0]"},
		{name: "duplicate holiday", periods: []baton.Period{ok, holiday("2026-12-25"), ok2(), holiday("2026-12-25")}, field: "periods[3]", message: "duplicates periods[1]"},

		// the first error wins
		{name: "first error wins", periods: []baton.Period{ok, ok2(), weekly("09:00", "99:00", "mon"), weekly("09:00", "17:00")}, field: "periods[2].end"},
		{name: "zone before periods", zone: "Nowhere/Nothing", periods: eleven, field: "zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baton.Policy{Zone: tt.zone, Periods: tt.periods}
			err := Validate(p)
			c, cerr := Compile(p)
			if (err == nil) != (cerr == nil) || (err != nil && err.Error() != cerr.Error()) {
				t.Fatalf("Validate = %v but Compile = %v", err, cerr)
			}
			if tt.field == "" {
				if err != nil || c == nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if c != nil {
				t.Error("Compile returned a calendar with an error")
			}
			var e *baton.Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate = %v (%T), want a *baton.Error on %s", err, err, tt.field)
			}
			if e.Code != baton.EINVALID || e.Field != tt.field {
				t.Errorf("Validate = %v, want code %s on field %s", err, baton.EINVALID, tt.field)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q does not contain %q", e.Message, tt.message)
			}
		})
	}
}

func ok2() baton.Period { return weekly("09:00", "12:00", "sat") }

// FuzzCompile checks that Compile never panics on arbitrary strings, and that
// a calendar it accepts behaves: windows in order, non-empty, disjoint, and
// consistent with Open and NextOpen.
func FuzzCompile(f *testing.F) {
	f.Add("09:00", "17:00", "2026-12-25", "mon", "Europe/Paris", false)
	f.Add("22:00", "02:00", "2026-03-29", "sun", "Europe/Paris", false)
	f.Add("02:30", "24:00", "2026-03-08", "sat", "America/New_York", false)
	f.Add("", "", "2026-02-30", "", "", true)
	f.Add("24:00", "00:00", "9999-12-31", "Mon", "Local", true)
	f.Add("\xff:00", "-1:00", "0000-01-01", "fri", "UTC", false)
	f.Fuzz(func(t *testing.T, start, end, date, day, zone string, closed bool) {
		p := baton.Policy{Zone: zone, Periods: []baton.Period{
			{Kind: baton.Weekly, Days: []string{day}, Start: start, End: end},
			{Kind: baton.Custom, Date: date, Start: start, End: end, Closed: closed},
			{Kind: baton.Custom, Date: date, Start: end, End: start},
		}}
		c, err := Compile(p)
		if err != nil {
			var e *baton.Error
			if !errors.As(err, &e) || e.Field == "" {
				t.Fatalf("Compile error %v is not a *baton.Error with a field", err)
			}
			// Try each rule alone as well.
			for _, pr := range p.Periods {
				_, _ = Compile(baton.Policy{Zone: zone, Periods: []baton.Period{pr}})
			}
			return
		}
		d, perr := time.Parse(time.DateOnly, date)
		if perr != nil {
			t.Fatalf("Compile accepted date %q", date)
		}
		for k := -1; k <= 1; k++ {
			ws := c.Windows(d.Year(), d.Month(), d.Day()+k)
			for i, w := range ws {
				if !w.End.After(w.Start) {
					t.Fatalf("empty window %s", format(ws))
				}
				if i > 0 && !w.Start.After(ws[i-1].End) {
					t.Fatalf("windows not merged: %s", format(ws))
				}
				if !c.Open(w.Start) || !c.Open(w.End.Add(-time.Nanosecond)) {
					t.Fatalf("Open false inside %s", format(ws))
				}
				if next, ok := c.NextOpen(w.Start); !ok || !next.Equal(w.Start) {
					t.Fatalf("NextOpen(%v) = %v, %v", w.Start, next, ok)
				}
			}
		}
	})
}

// TestOnDate lists a date's open time: a window past midnight is split
// between its two dates, overlapping windows are merged, holidays are
// empty, and the always-open calendar is the whole day.
func TestOnDate(t *testing.T) {
	t.Parallel()
	cal, err := Compile(baton.Policy{Zone: "Europe/Paris", Periods: []baton.Period{
		{Kind: baton.Weekly, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "12:00"},
		{Kind: baton.Weekly, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "11:00", End: "13:00"},
		{Kind: baton.Weekly, Days: []string{"fri"}, Start: "22:00", End: "02:00"},
		{Kind: baton.Custom, Date: "2026-12-25", Closed: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(d, hm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", d+" "+hm, paris)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		date string
		want []Window
	}{
		{"2026-12-04", []Window{{at("2026-12-04", "09:00"), at("2026-12-04", "13:00")}, {at("2026-12-04", "22:00"), at("2026-12-05", "00:00")}}}, // a Friday
		{"2026-12-05", []Window{{at("2026-12-05", "00:00"), at("2026-12-05", "02:00")}}},                                                         // Saturday: Friday's night
		{"2026-12-06", nil},
		{"2026-12-25", nil}, // a closed Friday: its night too
		{"2026-12-26", nil},
	}
	for _, tt := range tests {
		d, _ := time.Parse("2006-01-02", tt.date)
		got := cal.OnDate(d.Year(), d.Month(), d.Day())
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.date, got, tt.want)
			continue
		}
		for i := range got {
			if !got[i].Start.Equal(tt.want[i].Start) || !got[i].End.Equal(tt.want[i].End) {
				t.Errorf("%s: window %d is %v–%v, want %v–%v", tt.date, i, got[i].Start, got[i].End, tt.want[i].Start, tt.want[i].End)
			}
		}
	}
	always, _ := Compile(baton.Policy{})
	if ws := always.OnDate(2026, 3, 29); len(ws) != 1 || ws[0].End.Sub(ws[0].Start) != 24*time.Hour {
		t.Errorf("always open: %v", ws)
	}
}
