package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// The dashboard page: a workspace's figures over a range picked with a GET
// form (presets or custom UTC times), drawn as server-rendered SVG with a
// text alternative for each chart. No script, no inline style: the colours
// are classes of console.css.

// dashboardData is the dashboard page's part of consoleData.
type dashboardData struct {
	Range    string // "24h", "7d", "30d" or "custom"
	Presets  []preset
	From, To string // the custom fields, as the form shows them
	Desk     string // the desk picked, "" for all
	Desks    []baton.DeskConfig
	D        *engine.Dashboard // nil when the range was refused
	Volume   template.HTML     // stacked bars of handoffs per bucket by outcome
	Reasons  []reasonRow
	Legend   []legendRow
	Unit     string // what a bucket is: hour or day
	P50, P90 string
	Rate     string // the abandonment rate, as a percentage
	Charts   []deskChart
	Rows     []bucketRow // the volume chart's table
}

// preset is one of the range picker's presets.
type preset struct{ Value, Label string }

var presets = []preset{{"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"custom", "Custom (UTC)"}}

// reasonRow is one bar of the end reasons list.
type reasonRow struct {
	Name, Class string
	N           int64
	Share       string // of the range's handoffs, as a percentage
	Width       int    // of the bar, 0 to 200
}

// legendRow is one outcome of the volume chart's legend.
type legendRow struct{ Name, Class string }

// bucketRow is one bucket in the volume chart's table.
type bucketRow struct {
	Label     string
	Total     int64
	Outcomes  string
	Abandoned int64
}

// deskChart is one desk's failures and status strip.
type deskChart struct {
	ID, Name string
	Status   string
	Failed   int64
	Failures template.HTML
	Timeline template.HTML
	Spans    []spanRow
}

// spanRow is one stretch of a desk's status, for the strip's text alternative.
type spanRow struct{ Status, From, To, Error string }

// dashTime is how the custom range's fields show a time (datetime-local).
const dashTime = "2006-01-02T15:04"

// dashboardRoutes adds the dashboard page to the console's mux.
func (s *Server) dashboardRoutes(m *http.ServeMux, funcs template.FuncMap) {
	s.pages["console/dashboard"] = template.Must(template.New("dashboard").Funcs(funcs).ParseFS(templateFS,
		"templates/console_layout.html", "templates/console_parts.html", "templates/console_dashboard.html"))
	m.Handle("GET /console/ws/{ws}/dashboard", s.consolePage(s.consoleDashboard))
}

func (s *Server) consoleDashboard(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	desks, err := s.p.Engine.DeskList(c.ctx, ws.ID)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d := s.consoleData(c, "Dashboard of "+ws.Name)
	d.Nav = "dashboard"
	d.WS = ws
	p := &dashboardData{Presets: presets, Desks: desks}
	d.Dashboard = p
	q := engine.DashboardQuery{Workspace: ws.ID, Desk: r.FormValue("desk")}
	p.Desk = q.Desk
	q.From, q.To, err = pickRange(r, p, time.Now().UTC())
	if err == nil {
		var dash engine.Dashboard
		if dash, err = s.p.Engine.Dashboard(c.ctx, q); err == nil {
			p.D = &dash
			p.draw()
			s.consoleRender(w, http.StatusOK, "dashboard", d)
			return
		}
	}
	if f := baton.ErrorField(err); f != "" && baton.ErrorCode(err) == baton.EINVALID {
		d.Errors[f] = baton.ErrorMessage(err)
		d.Message = "The range was not shown: " + baton.ErrorMessage(err) + "."
		s.consoleRender(w, http.StatusUnprocessableEntity, "dashboard", d)
		return
	}
	s.consoleFail(w, r, c, err)
}

// pickRange reads the range the form asks for. A preset ends at the end of
// the current hour (the last 30 days: of the current day), so that its
// buckets are whole hours or days; a custom range is taken as given, in UTC.
func pickRange(r *http.Request, p *dashboardData, now time.Time) (from, to time.Time, err error) {
	p.Range = r.FormValue("range")
	if p.Range == "" {
		p.Range = "24h"
		if r.FormValue("from") != "" || r.FormValue("to") != "" {
			p.Range = "custom"
		}
	}
	hour := now.Truncate(time.Hour).Add(time.Hour)
	switch p.Range {
	case "24h":
		to, from = hour, hour.Add(-24*time.Hour)
	case "7d":
		to, from = hour, hour.AddDate(0, 0, -7)
	case "30d":
		to = time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		from = to.AddDate(0, 0, -30)
	case "custom":
		p.From, p.To = r.FormValue("from"), r.FormValue("to")
		if from, err = formTime("from", p.From); err != nil {
			return from, to, err
		}
		if to, err = formTime("to", p.To); err != nil {
			return from, to, err
		}
		return from, to, nil
	default:
		return from, to, baton.FieldErrorf("range", "range must be one of 24h, 7d, 30d or custom")
	}
	p.From, p.To = from.Format(dashTime), to.Format(dashTime)
	return from, to, nil
}

// formTime reads a custom range's field: a date and time (or a date) in UTC.
func formTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, baton.FieldErrorf(field, "%s is required for a custom range", field)
	}
	for _, layout := range []string{dashTime, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, baton.FieldErrorf(field, "%s is not a date and time like 2026-03-01T09:00 (UTC)", field)
}

// Chart geometry, in SVG user units.
const (
	chartW    = 720 // the plot's width
	chartL    = 40  // the left margin, for the scale
	volumeH   = 160 // the volume plot's height
	failuresH = 48
	stripH    = 18
)

// draw renders the charts and their text alternatives from p.D.
func (p *dashboardData) draw() {
	d := p.D
	p.Unit = unit(d.Bucket)
	p.P50, p.P90 = "—", "—"
	if d.Replies.N > 0 {
		p.P50, p.P90 = span(d.Replies.P50), span(d.Replies.P90)
	}
	p.Rate = "—"
	if d.Queued > 0 {
		p.Rate = strconv.FormatFloat(100*d.AbandonRate(), 'f', 1, 64) + "%"
	}
	var most int64
	for _, o := range d.Outcomes {
		most = max(most, o.N)
	}
	for _, o := range d.Outcomes {
		p.Reasons = append(p.Reasons, reasonRow{Name: o.Outcome(), Class: outcomeClass(o.Reason), N: o.N,
			Share: strconv.FormatFloat(100*float64(o.N)/float64(d.Total), 'f', 1, 64) + "%", Width: int(200 * o.N / most)})
		p.Legend = append(p.Legend, legendRow{Name: o.Outcome(), Class: outcomeClass(o.Reason)})
	}
	for _, b := range d.Buckets {
		var parts []string
		for _, o := range b.Outcomes {
			parts = append(parts, fmt.Sprintf("%s %d", o.Outcome(), o.N))
		}
		p.Rows = append(p.Rows, bucketRow{Label: bucketLabel(b.Start, b.End, d.Bucket), Total: b.Total, Outcomes: strings.Join(parts, ", "), Abandoned: b.Abandoned})
	}
	p.Volume = volumeSVG(d)
	for _, df := range d.Desks {
		ch := deskChart{ID: df.ID, Name: df.Name, Status: string(df.Status), Failed: df.Failed,
			Failures: failuresSVG(d, df), Timeline: stripSVG(d, df)}
		for _, sp := range df.Timeline {
			ch.Spans = append(ch.Spans, spanRow{Status: string(sp.Status), From: stamp(sp.From), To: stamp(sp.To), Error: sp.Error})
		}
		p.Charts = append(p.Charts, ch)
	}
}

// outcomeClass is the CSS class of an outcome's colour.
func outcomeClass(r baton.EndReason) string {
	for _, known := range engine.Outcomes() {
		if r == known {
			return "o-" + strings.ReplaceAll(cmp.Or(string(r), "open"), "_", "-")
		}
	}
	return "o-other"
}

// statusClass is the CSS class of a desk status's colour.
func statusClass(s baton.DeskStatus) string {
	switch s {
	case baton.Available, baton.Unavailable, baton.NotConfigured:
		return "s-" + strings.ReplaceAll(string(s), "_", "-")
	}
	return "s-other"
}

// span shows a duration to the second, or to a tenth of one under 10 s.
func span(d time.Duration) string {
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
	d = d.Round(time.Second)
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d min", h, m)
	case m > 0:
		return fmt.Sprintf("%d min %02d s", m, sec)
	}
	return fmt.Sprintf("%d s", sec)
}

// stamp shows a time of the range, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("Jan 2 15:04") }

// bucketLabel names a bucket: its day, or its hours.
func bucketLabel(start, end time.Time, bucket time.Duration) string {
	if bucket >= 24*time.Hour && start.Equal(start.Truncate(24*time.Hour)) && end.Sub(start) == 24*time.Hour {
		return start.UTC().Format("Mon Jan 2")
	}
	return stamp(start) + "–" + end.UTC().Format("15:04")
}

// ticks are the buckets the time axis labels, with their labels: every
// third hour of a day's range, each midnight of a longer one by the hour,
// about eight days of one by the day.
func ticks(d *engine.Dashboard) (at []int, labels []string) {
	n := len(d.Buckets)
	for i, b := range d.Buckets {
		t := b.Start.UTC()
		switch {
		case d.Bucket >= 24*time.Hour:
			if i%max(1, (n+7)/8) == 0 {
				at, labels = append(at, i), append(labels, t.Format("Jan 2"))
			}
		case n > 24:
			if t.Hour() == 0 {
				at, labels = append(at, i), append(labels, t.Format("Jan 2"))
			}
		case i%3 == 0:
			label := t.Format("15:04")
			if t.Hour() == 0 {
				label = t.Format("Jan 2")
			}
			at, labels = append(at, i), append(labels, label)
		}
	}
	return at, labels
}

// svgOpen starts a chart: role img, named by its title and described by desc.
func svgOpen(b *strings.Builder, id, class string, h int, title, desc string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart %s" id="%s" role="img" aria-labelledby="%s-title %s-desc" viewBox="0 0 %d %d" width="%d" height="%d">`,
		class, id, id, id, chartL+chartW+2, h, chartL+chartW+2, h)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, template.HTMLEscapeString(title), id, template.HTMLEscapeString(desc))
}

// volumeSVG draws the handoffs per bucket as bars stacked by outcome.
func volumeSVG(d *engine.Dashboard) template.HTML {
	const top, axis = 8, 20
	n := len(d.Buckets)
	var most int64 = 1
	for _, b := range d.Buckets {
		most = max(most, b.Total)
	}
	var b strings.Builder
	desc := fmt.Sprintf("%d handoffs from %s to %s UTC, by %s; the busiest %s had %d. The table below has every %s.",
		d.Total, stamp(d.From), stamp(d.To), unit(d.Bucket), unit(d.Bucket), most, unit(d.Bucket))
	if d.Total == 0 {
		desc = fmt.Sprintf("No handoff from %s to %s UTC.", stamp(d.From), stamp(d.To))
	}
	svgOpen(&b, "volume", "volume", top+volumeH+axis, "Handoffs per "+unit(d.Bucket)+" by outcome", desc)
	fmt.Fprintf(&b, `<text class="scale" x="%d" y="%d" text-anchor="end">%d</text><text class="scale" x="%d" y="%d" text-anchor="end">0</text>`,
		chartL-4, top+10, most, chartL-4, top+volumeH)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, chartL, top+volumeH, chartL+chartW, top+volumeH)
	w := float64(chartW) / float64(n)
	for i, bk := range d.Buckets {
		x := float64(chartL) + float64(i)*w
		fmt.Fprintf(&b, `<g class="bar" data-total="%d"><title>%s: %d</title>`, bk.Total, template.HTMLEscapeString(bucketLabel(bk.Start, bk.End, d.Bucket)+" UTC"), bk.Total)
		y := float64(top + volumeH)
		for _, o := range bk.Outcomes {
			h := float64(volumeH) * float64(o.N) / float64(most)
			y -= h
			fmt.Fprintf(&b, `<rect class="%s" x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s: %d</title></rect>`,
				outcomeClass(o.Reason), x+w*0.1, y, w*0.8, h, template.HTMLEscapeString(o.Outcome()), o.N)
		}
		b.WriteString(`</g>`)
	}
	at, labels := ticks(d)
	for k, i := range at {
		fmt.Fprintf(&b, `<text class="tick" x="%.2f" y="%d">%s</text>`, float64(chartL)+float64(i)*w, top+volumeH+15, template.HTMLEscapeString(labels[k]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// failuresSVG draws a desk's failed calls per bucket.
func failuresSVG(d *engine.Dashboard, df engine.DeskFigures) template.HTML {
	n := len(df.Failures)
	var most int64 = 1
	for _, f := range df.Failures {
		most = max(most, f)
	}
	var b strings.Builder
	id := "failures-" + df.ID
	desc := fmt.Sprintf("%d failed calls from %s to %s UTC; the most in one %s: %d.", df.Failed, stamp(d.From), stamp(d.To), unit(d.Bucket), most)
	if df.Failed == 0 {
		desc = fmt.Sprintf("No failed call from %s to %s UTC.", stamp(d.From), stamp(d.To))
	}
	svgOpen(&b, template.HTMLEscapeString(id), "failures", failuresH+4, "Failed calls to "+df.Name+" per "+unit(d.Bucket), desc)
	fmt.Fprintf(&b, `<text class="scale" x="%d" y="12" text-anchor="end">%d</text>`, chartL-4, most)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, chartL, failuresH, chartL+chartW, failuresH)
	w := float64(chartW) / float64(n)
	for i, f := range df.Failures {
		if f == 0 {
			continue
		}
		h := float64(failuresH-4) * float64(f) / float64(most)
		bk := d.Buckets[i]
		fmt.Fprintf(&b, `<rect class="failed" x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s UTC: %d failed</title></rect>`,
			float64(chartL)+float64(i)*w+w*0.1, float64(failuresH)-h, w*0.8, h, template.HTMLEscapeString(bucketLabel(bk.Start, bk.End, d.Bucket)), f)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// stripSVG draws a desk's status over the range as a strip of spans.
func stripSVG(d *engine.Dashboard, df engine.DeskFigures) template.HTML {
	var b strings.Builder
	id := "timeline-" + df.ID
	svgOpen(&b, template.HTMLEscapeString(id), "timeline", stripH+2, "Service status of "+df.Name+" over time",
		fmt.Sprintf("%d stretches of status from %s to %s UTC, listed below.", len(df.Timeline), stamp(d.From), stamp(d.To)))
	whole := d.To.Sub(d.From).Seconds()
	fmt.Fprintf(&b, `<rect class="s-none" x="%d" y="1" width="%d" height="%d"/>`, chartL, chartW, stripH)
	for _, sp := range df.Timeline {
		x0 := float64(chartL) + float64(chartW)*sp.From.Sub(d.From).Seconds()/whole
		x1 := float64(chartL) + float64(chartW)*sp.To.Sub(d.From).Seconds()/whole
		label := fmt.Sprintf("%s, %s to %s UTC", sp.Status, stamp(sp.From), stamp(sp.To))
		if sp.Error != "" {
			label += ": " + sp.Error
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%.2f" y="1" width="%.2f" height="%d" data-status="%s"><title>%s</title></rect>`,
			statusClass(sp.Status), x0, max(x1-x0, 0.5), stripH, template.HTMLEscapeString(string(sp.Status)), template.HTMLEscapeString(label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// unit names a bucket.
func unit(bucket time.Duration) string {
	if bucket >= 24*time.Hour {
		return "day"
	}
	return "hour"
}
