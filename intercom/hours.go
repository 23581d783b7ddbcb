package intercom

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	baton "github.com/batonhq/baton"
)

// Minutes in a day and a week: an office-hours interval counts from
// Monday 00:00 of the schedule's zone.
const (
	dayMinutes  = 24 * 60
	weekMinutes = 7 * dayMinutes
)

// weekdays are Baton's day names from Monday, as Intercom counts.
var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Hours is an office-hours schedule turned into Baton's service periods.
type Hours struct {
	Schedule Schedule
	Zone     string
	Periods  []baton.Period
	// Notes say what could not be carried over exactly (exceptions past
	// Baton's rule limit, custom hours narrower than a day's usual ones).
	Notes []string
}

// OfficeHours reads the workspace's office-hours schedule called name (the
// only one, or the first, when name is "") and its exceptions, and turns
// them into service periods from today (in the schedule's zone) on.
func (d *Desk) OfficeHours(ctx context.Context, name string, now time.Time) (Hours, error) {
	all, err := d.api.Schedules(ctx)
	if err != nil {
		return Hours{}, err
	}
	var names []string
	for _, s := range all {
		names = append(names, fmt.Sprintf("%q", s.Name))
	}
	i := slices.IndexFunc(all, func(s Schedule) bool { return name == "" || strings.EqualFold(s.Name, name) })
	switch {
	case len(all) == 0:
		return Hours{}, baton.Errorf(baton.ENOTFOUND, "the workspace has no office-hours schedule")
	case i < 0:
		return Hours{}, baton.Errorf(baton.ENOTFOUND, "no office-hours schedule %q; the workspace has %s", name, strings.Join(names, ", "))
	}
	ex, err := d.api.Exceptions(ctx, all[i].ID)
	if err != nil {
		return Hours{}, err
	}
	return Convert(all[i], ex, now)
}

// segment is an open span of one weekday, in minutes from its midnight.
type segment struct{ day, start, end int }

// Convert turns a schedule and its exceptions into service periods: the
// weekly intervals split at midnight and grouped by hours into weekly
// rules; closed exceptions become closed dates, custom hours open windows
// on their date. Exceptions before today are left out, an annual one
// falls on its next date, and past baton.MaxPeriodRules the latest are
// dropped, each with a note.
func Convert(s Schedule, ex []Exception, now time.Time) (Hours, error) {
	h := Hours{Schedule: s, Zone: s.TimeZone}
	loc := time.UTC
	if s.TimeZone != "" {
		l, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return h, baton.Errorf(baton.EINVALID, "schedule %q: time zone %q is unknown here: %v", s.Name, s.TimeZone, err)
		}
		loc = l
	}
	var segs []segment
	for _, iv := range s.Intervals {
		if iv.EndMinute == weekMinutes-1 {
			iv.EndMinute = weekMinutes // the whole-week interval, 0 to 10079
		}
		if iv.StartMinute < 0 || iv.EndMinute > weekMinutes || iv.EndMinute <= iv.StartMinute {
			return h, baton.Errorf(baton.EINVALID, "schedule %q: interval %d–%d is not within a week", s.Name, iv.StartMinute, iv.EndMinute)
		}
		for m := iv.StartMinute; m < iv.EndMinute; {
			day := m / dayMinutes
			end := min(iv.EndMinute, (day+1)*dayMinutes)
			segs = append(segs, segment{day, m - day*dayMinutes, end - day*dayMinutes})
			m = end
		}
	}
	if s.TwentyFourSeven || covers(segs) {
		segs = nil
		for d := range 7 {
			segs = append(segs, segment{d, 0, dayMinutes})
		}
	}
	// Weekly rules: the days that share the same hours, in week order.
	type span struct{ start, end int }
	byHours := map[span][]string{}
	var order []span
	for _, g := range segs {
		k := span{g.start, g.end}
		if _, ok := byHours[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(byHours[k], weekdays[g.day]) {
			byHours[k] = append(byHours[k], weekdays[g.day])
		}
	}
	for _, k := range order {
		h.Periods = append(h.Periods, baton.Period{Kind: baton.Weekly, Days: byHours[k], Start: clock(k.start), End: clock(k.end)})
	}
	if len(h.Periods) > baton.MaxPeriodRules {
		return h, baton.Errorf(baton.EINVALID, "schedule %q needs %d weekly rules; Baton keeps at most %d", s.Name, len(h.Periods), baton.MaxPeriodRules)
	}
	if len(h.Periods) == 0 {
		return h, baton.Errorf(baton.EINVALID, "schedule %q has no open hours", s.Name)
	}
	today := now.In(loc).Format(time.DateOnly)
	type dated struct {
		date string
		e    Exception
	}
	var upcoming []dated
	for _, e := range ex {
		t, err := time.Parse(time.DateOnly, e.Date)
		if err != nil {
			h.Notes = append(h.Notes, fmt.Sprintf("exception %q: date %q is not YYYY-MM-DD; left out", e.Name, e.Date))
			continue
		}
		date := e.Date
		if e.Annual {
			for y := now.In(loc).Year(); date < today; y++ {
				date = time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			}
		}
		if date < today {
			continue
		}
		upcoming = append(upcoming, dated{date, e})
	}
	slices.SortStableFunc(upcoming, func(a, b dated) int { return strings.Compare(a.date, b.date) })
	for _, u := range upcoming {
		var rules []baton.Period
		switch u.e.Kind {
		case "closed":
			rules = append(rules, baton.Period{Kind: baton.Custom, Date: u.date, Closed: true})
		case "custom_hours":
			t, _ := time.Parse(time.DateOnly, u.date)
			day := (int(t.Weekday()) + 6) % 7
			for _, iv := range u.e.Intervals {
				if iv.StartMinute < 0 || iv.EndMinute > dayMinutes || iv.EndMinute <= iv.StartMinute {
					h.Notes = append(h.Notes, fmt.Sprintf("exception %s: interval %d–%d is not within the day; left out", u.date, iv.StartMinute, iv.EndMinute))
					continue
				}
				rules = append(rules, baton.Period{Kind: baton.Custom, Date: u.date, Start: clock(iv.StartMinute), End: clock(iv.EndMinute)})
			}
			if narrower(segs, day, u.e.Intervals) {
				h.Notes = append(h.Notes, fmt.Sprintf("exception %s (%s): its hours are added to the %s's usual ones, which Baton cannot narrow", u.date, u.e.Name, weekdays[day]))
			}
		default:
			h.Notes = append(h.Notes, fmt.Sprintf("exception %s: type %q is neither closed nor custom_hours; left out", u.date, u.e.Kind))
		}
		if len(h.Periods)+len(rules) > baton.MaxPeriodRules {
			h.Notes = append(h.Notes, fmt.Sprintf("exception %s (%s) and later ones left out: Baton keeps at most %d rules", u.date, u.e.Name, baton.MaxPeriodRules))
			break
		}
		h.Periods = append(h.Periods, rules...)
	}
	return h, nil
}

// covers reports whether segs open the whole week.
func covers(segs []segment) bool {
	var open [weekMinutes]bool
	for _, g := range segs {
		for m := g.start; m < g.end; m++ {
			open[g.day*dayMinutes+m] = true
		}
	}
	return !slices.Contains(open[:], false)
}

// narrower reports whether the day's usual hours reach past the custom ones.
func narrower(segs []segment, day int, custom []Interval) bool {
	for _, g := range segs {
		if g.day != day {
			continue
		}
		for m := g.start; m < g.end; m++ {
			if !slices.ContainsFunc(custom, func(iv Interval) bool { return iv.StartMinute <= m && m < iv.EndMinute }) {
				return true
			}
		}
	}
	return false
}

// clock writes minutes from midnight as "HH:MM" (1440 is "24:00").
func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
