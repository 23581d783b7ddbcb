package intercom_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
	"github.com/batonhq/baton/intercom"
)

func TestConvert(t *testing.T) {
	t.Parallel()
	const day = 24 * 60
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := intercom.Schedule{Name: "Support", TimeZone: "Europe/Paris", Intervals: []intercom.Interval{
		{StartMinute: 9 * 60, EndMinute: 17 * 60}, {StartMinute: day + 9*60, EndMinute: day + 17*60},
		{StartMinute: 4*day + 22*60, EndMinute: 5*day + 2*60}, // Friday night into Saturday
	}}
	ex := []intercom.Exception{
		{Date: "2026-01-01", Kind: "closed", Name: "New year", Annual: true}, // next: 2027-01-01
		{Date: "2026-11-11", Kind: "closed", Name: "Armistice"},              // past: left out
		{Date: "2026-12-24", Kind: "custom_hours", Name: "Christmas eve", // a Thursday, usually closed
			Intervals: []intercom.Interval{{StartMinute: 9 * 60, EndMinute: 12 * 60}}},
		{Date: "2026-12-07", Kind: "custom_hours", Name: "Short Monday", Intervals: []intercom.Interval{{StartMinute: 10 * 60, EndMinute: 12 * 60}}},
	}
	h, err := intercom.Convert(s, ex, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []baton.Period{
		{Kind: baton.Weekly, Days: []string{"mon", "tue"}, Start: "09:00", End: "17:00"},
		{Kind: baton.Weekly, Days: []string{"fri"}, Start: "22:00", End: "24:00"},
		{Kind: baton.Weekly, Days: []string{"sat"}, Start: "00:00", End: "02:00"},
		{Kind: baton.Custom, Date: "2026-12-07", Start: "10:00", End: "12:00"},
		{Kind: baton.Custom, Date: "2026-12-24", Start: "09:00", End: "12:00"},
		{Kind: baton.Custom, Date: "2027-01-01", Closed: true},
	}
	if h.Zone != "Europe/Paris" || !slices.EqualFunc(h.Periods, want, func(a, b baton.Period) bool {
		return a.Kind == b.Kind && slices.Equal(a.Days, b.Days) && a.Date == b.Date && a.Start == b.Start && a.End == b.End && a.Closed == b.Closed
	}) {
		t.Fatalf("periods\n%+v\nwant\n%+v", h.Periods, want)
	}
	if len(h.Notes) != 1 || !strings.Contains(h.Notes[0], "2026-12-07") {
		t.Errorf("notes %q, want one on the Monday the custom hours cannot narrow", h.Notes)
	}
	if _, err := hours.Compile(baton.Policy{Zone: h.Zone, Periods: h.Periods}); err != nil {
		t.Errorf("the periods do not compile: %v", err)
	}

	// 24/7, by its flag or its whole-week interval.
	for _, s := range []intercom.Schedule{{Name: "a", TwentyFourSeven: true}, {Name: "b", Intervals: []intercom.Interval{{StartMinute: 0, EndMinute: 7*day - 1}}}} {
		h, err := intercom.Convert(s, nil, now)
		if err != nil || len(h.Periods) != 1 || len(h.Periods[0].Days) != 7 || h.Periods[0].Start != "00:00" || h.Periods[0].End != "24:00" {
			t.Errorf("%s: %+v, %v, want one rule open all week", s.Name, h.Periods, err)
		}
	}

	// Past the rule limit, the latest exceptions are left out, with a note.
	var many []intercom.Exception
	for i := range 12 {
		many = append(many, intercom.Exception{Date: now.AddDate(0, 0, i+1).Format(time.DateOnly), Kind: "closed"})
	}
	h, err = intercom.Convert(s, many, now)
	if err != nil || len(h.Periods) != baton.MaxPeriodRules || len(h.Notes) != 1 {
		t.Errorf("12 exceptions: %d rules, notes %q, %v", len(h.Periods), h.Notes, err)
	}
	for name, bad := range map[string]intercom.Schedule{
		"zone":     {Name: "z", TimeZone: "Mars/Olympus", TwentyFourSeven: true},
		"interval": {Name: "i", Intervals: []intercom.Interval{{StartMinute: 600, EndMinute: 500}}},
		"empty":    {Name: "e"},
	} {
		if _, err := intercom.Convert(bad, nil, now); baton.ErrorCode(err) != baton.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}
