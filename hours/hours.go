// Package hours compiles a policy's service periods into a Calendar that
// answers whether a handoff can reach a human now, and when it next can.
//
// A period rule is either weekly (on some days of every week) or custom (on
// one date). For a local calendar day, the windows of every rule that applies
// to that day are built in the policy's zone and merged into their union; a
// closed custom rule removes every window starting on its date. A window whose
// end is earlier than its start runs past midnight and belongs to the day it
// starts on. A policy with no periods is always open.
//
// Boundaries are local wall-clock times. A wall time that does not exist
// (skipped by a spring-forward change) stands for the instant the clocks jump;
// a wall time that occurs twice (repeated by a fall-back change) stands for
// its first occurrence.
package hours

import (
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

// SearchDays is how many days past the current one NextOpen looks for a window.
const SearchDays = 400

// Window is one span of opening time: Start inclusive, End exclusive, both in
// the calendar's zone.
type Window struct {
	Start, End time.Time
}

// Calendar is a compiled, validated set of service periods. It is immutable
// and safe for concurrent use.
type Calendar struct {
	loc       *time.Location
	always    bool            // no periods: always open
	weekly    [7][]span       // by time.Weekday
	open      map[date][]span // custom open windows by date
	closed    map[date]bool   // custom closed dates
	hasWeekly bool            // some weekly rule exists
	last      date            // latest date with a custom open window
}

// span is a window as local clock minutes. end is in 1..1440; end <= start
// means the window ends on the next day.
type span struct{ start, end int }

// date is a civil date, independent of any zone.
type date struct {
	y int
	m time.Month
	d int
}

// rule is a normalized period, comparable to spot duplicates.
type rule struct {
	kind   baton.PeriodKind
	days   uint8 // bit per time.Weekday
	date   date
	span   span
	closed bool
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Validate reports whether p's zone and periods are valid; it returns the
// error Compile would return.
func Validate(p baton.Policy) error {
	_, err := Compile(p)
	return err
}

// Compile validates p's zone and periods and compiles them into a Calendar.
// Errors are *baton.Error naming the field at fault, relative to the policy:
// "zone", "periods", "periods[2].start", "periods[3]" and so on.
func Compile(p baton.Policy) (*Calendar, error) {
	loc, err := zone(p.Zone)
	if err != nil {
		return nil, err
	}
	if n := len(p.Periods); n > baton.MaxPeriodRules {
		return nil, baton.FieldErrorf("periods", "at most %d rules are allowed, got %d", baton.MaxPeriodRules, n)
	}
	c := &Calendar{
		loc:    loc,
		always: len(p.Periods) == 0,
		open:   map[date][]span{},
		closed: map[date]bool{},
	}
	rules := make([]rule, 0, len(p.Periods))
	openedBy := map[date]int{}
	closedBy := map[date]int{}
	for i, pr := range p.Periods {
		r, err := parse(i, pr)
		if err != nil {
			return nil, err
		}
		field := fmt.Sprintf("periods[%d]", i)
		if j := slices.Index(rules, r); j >= 0 {
			return nil, baton.FieldErrorf(field, "duplicates periods[%d]", j)
		}
		rules = append(rules, r)
		switch {
		case r.kind == baton.Weekly:
			c.hasWeekly = true
			for wd := range c.weekly {
				if r.days&(1<<wd) != 0 {
					c.weekly[wd] = append(c.weekly[wd], r.span)
				}
			}
		case r.closed:
			if j, ok := openedBy[r.date]; ok {
				return nil, baton.FieldErrorf(field, "closes %s, which periods[%d] opens", pr.Date, j)
			}
			if _, ok := closedBy[r.date]; !ok {
				closedBy[r.date] = i
			}
			c.closed[r.date] = true
		default:
			if j, ok := closedBy[r.date]; ok {
				return nil, baton.FieldErrorf(field, "opens %s, which periods[%d] closes", pr.Date, j)
			}
			if _, ok := openedBy[r.date]; !ok {
				openedBy[r.date] = i
			}
			c.open[r.date] = append(c.open[r.date], r.span)
			if c.last.before(r.date) {
				c.last = r.date
			}
		}
	}
	return c, nil
}

// zone loads an IANA zone; empty means UTC.
func zone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, baton.FieldErrorf("zone", "%q is not an IANA time zone like \"Europe/Paris\"", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, baton.FieldErrorf("zone", "unknown time zone %q", name)
	}
	return loc, nil
}

// parse validates the period at index i and normalizes it.
func parse(i int, p baton.Period) (rule, error) {
	field := func(name string) string { return fmt.Sprintf("periods[%d].%s", i, name) }
	r := rule{kind: p.Kind, closed: p.Closed}
	switch p.Kind {
	case baton.Weekly:
		if len(p.Days) == 0 {
			return r, baton.FieldErrorf(field("days"), "a weekly rule needs at least one day")
		}
		for _, d := range p.Days {
			wd, ok := weekdays[d]
			if !ok {
				return r, baton.FieldErrorf(field("days"), "unknown day %q, want one of mon, tue, wed, thu, fri, sat, sun", d)
			}
			if r.days&(1<<wd) != 0 {
				return r, baton.FieldErrorf(field("days"), "day %q is listed twice", d)
			}
			r.days |= 1 << wd
		}
		if p.Date != "" {
			return r, baton.FieldErrorf(field("date"), "a weekly rule takes days, not a date")
		}
		if p.Closed {
			return r, baton.FieldErrorf(field("closed"), "a weekly rule cannot be closed; close a date with a custom rule")
		}
	case baton.Custom:
		if len(p.Days) != 0 {
			return r, baton.FieldErrorf(field("days"), "a custom rule takes a date, not days")
		}
		if p.Date == "" {
			return r, baton.FieldErrorf(field("date"), "a custom rule needs a date like \"2026-12-25\"")
		}
		t, err := time.Parse(time.DateOnly, p.Date)
		if err != nil || len(p.Date) != len(time.DateOnly) {
			return r, baton.FieldErrorf(field("date"), "%q is not a date like \"2026-12-25\"", p.Date)
		}
		r.date = dateOf(t)
		if p.Closed {
			if p.Start != "" {
				return r, baton.FieldErrorf(field("start"), "a closed rule takes no start")
			}
			if p.End != "" {
				return r, baton.FieldErrorf(field("end"), "a closed rule takes no end")
			}
			return r, nil
		}
	default:
		return r, baton.FieldErrorf(field("kind"), "%q is not a period kind, want \"weekly\" or \"custom\"", p.Kind)
	}
	start, ok := clock(p.Start, false)
	if !ok {
		return r, baton.FieldErrorf(field("start"), "%q is not a time between \"00:00\" and \"23:59\"", p.Start)
	}
	end, ok := clock(p.End, true)
	if !ok {
		return r, baton.FieldErrorf(field("end"), "%q is not a time between \"00:00\" and \"24:00\"", p.End)
	}
	if end == start {
		return r, baton.FieldErrorf(field("end"), "equals start: the window is empty")
	}
	if end == 0 {
		end = 24 * 60 // "00:00" after a later start is the next midnight, as "24:00"
	}
	r.span = span{start, end}
	return r, nil
}

// clock parses "HH:MM" into minutes since midnight; "24:00" only if end.
func clock(s string, end bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case m > 59, h > 24, h == 24 && (!end || m != 0):
		return 0, false
	}
	return h*60 + m, true
}

// Location returns the zone the calendar's periods are written in.
func (c *Calendar) Location() *time.Location { return c.loc }

// Windows returns the merged windows that start on the given local day, in
// order. Overlapping or touching windows are joined into one. Out-of-range
// days are normalized as by time.Date.
func (c *Calendar) Windows(year int, month time.Month, day int) []Window {
	return c.windows(dateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC)))
}

func (c *Calendar) windows(d date) []Window {
	if c.always {
		return []Window{{c.at(d, 0), c.at(d.add(1), 0)}}
	}
	if c.closed[d] {
		return nil
	}
	weekly, custom := c.weekly[d.weekday()], c.open[d]
	ws := make([]Window, 0, len(weekly)+len(custom))
	for _, s := range slices.Concat(weekly, custom) {
		w := Window{c.at(d, s.start), c.at(d, s.end)}
		if s.end <= s.start {
			w.End = c.at(d.add(1), s.end)
		}
		if w.End.After(w.Start) { // a window inside a skipped hour is empty
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b Window) int { return a.Start.Compare(b.Start) })
	merged := ws[:0]
	for _, w := range ws {
		if n := len(merged); n > 0 && !w.Start.After(merged[n-1].End) {
			if w.End.After(merged[n-1].End) {
				merged[n-1].End = w.End
			}
			continue
		}
		merged = append(merged, w)
	}
	if len(merged) == 0 {
		return nil
	}
	return merged
}

// Open reports whether t falls in a window, start inclusive, end exclusive.
// Windows of the previous day that run past midnight count.
func (c *Calendar) Open(t time.Time) bool {
	if c.always {
		return true
	}
	d := dateOf(t.In(c.loc))
	for k := -1; k <= 1; k++ {
		for _, w := range c.windows(d.add(k)) {
			if !t.Before(w.Start) && t.Before(w.End) {
				return true
			}
		}
	}
	return false
}

// NextOpen returns t itself if the calendar is open at t, else the start of
// the next window after t, looking at most SearchDays days ahead. It returns
// false if there is none.
func (c *Calendar) NextOpen(t time.Time) (time.Time, bool) {
	if c.Open(t) {
		return t, true
	}
	d := dateOf(t.In(c.loc))
	for k := -1; k <= SearchDays; k++ {
		day := d.add(k)
		if !c.hasWeekly && c.last.before(day) {
			break // only custom rules, all of them behind us
		}
		for _, w := range c.windows(day) {
			if w.Start.After(t) {
				return w.Start, true
			}
		}
	}
	return time.Time{}, false
}

// at returns the instant of local clock minute min on day d. A wall time
// skipped by a DST change maps to the instant of the change; a repeated one
// maps to its first occurrence.
func (c *Calendar) at(d date, min int) time.Time {
	want := time.Date(d.y, d.m, d.d, 0, min, 0, 0, time.UTC)
	t := time.Date(d.y, d.m, d.d, 0, min, 0, 0, c.loc)
	got := wall(t)
	start, end := t.ZoneBounds()
	switch {
	case got.After(want): // skipped, and time.Date moved forward past the change
		if !start.IsZero() {
			return start
		}
	case got.Before(want): // skipped, and time.Date moved back before the change
		if !end.IsZero() {
			return end
		}
	case !start.IsZero():
		_, off := t.Zone()
		_, prev := start.Add(-time.Nanosecond).Zone()
		if prev > off { // clocks went back at start: is there an earlier occurrence?
			u := t.Add(time.Duration(off-prev) * time.Second)
			if u.Before(start) && wall(u).Equal(want) {
				return u
			}
		}
	}
	return t
}

// wall returns t's local clock reading as a UTC time, for comparing readings.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (d date) add(days int) date {
	return dateOf(time.Date(d.y, d.m, d.d+days, 0, 0, 0, 0, time.UTC))
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC).Weekday()
}

func (d date) before(e date) bool {
	if d.y != e.y {
		return d.y < e.y
	}
	if d.m != e.m {
		return d.m < e.m
	}
	return d.d < e.d
}

// OnDate returns the open time that falls on the given local date, merged
// and in order: the windows that start on it, cut at the next midnight,
// and the part after midnight of the previous day's windows that run past
// it. A window from 22:00 to 02:00 is thus listed as 22:00–24:00 on its
// first date and 00:00–02:00 on the next.
func (c *Calendar) OnDate(year int, month time.Month, day int) []Window {
	d := dateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
	from, to := c.at(d, 0), c.at(d.add(1), 0)
	var ws []Window
	for _, w := range slices.Concat(c.windows(d.add(-1)), c.windows(d)) {
		w.Start, w.End = later(w.Start, from), earlier(w.End, to)
		if w.End.After(w.Start) {
			ws = append(ws, w)
		}
	}
	merged := ws[:0]
	for _, w := range ws { // already in order: yesterday's spill, then today's
		if n := len(merged); n > 0 && !w.Start.After(merged[n-1].End) {
			merged[n-1].End = later(merged[n-1].End, w.End)
			continue
		}
		merged = append(merged, w)
	}
	return merged
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
