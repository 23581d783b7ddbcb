// Package metrics exposes Baton's Prometheus metrics. A Metrics is the
// engine's Observer (deliveries, desk calls, waits, ends) and, at scrape time,
// reads the store for the number of handoffs by state and of pending jobs.
// Each run gets its own registry: nothing is registered globally. Every
// series is exported from the first scrape, at zero, for every known label
// value (delivery target and result, end reason, handoff state, job kind,
// each served desk kind's calls); baton_desk_status has a series per
// configured desk, so none before a desk exists.
package metrics

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/batonhq/baton"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// endReasons are the known end reasons; their series start at zero.
var endReasons = []baton.EndReason{baton.AgentClosed, baton.CustomerClosed, baton.BotClosed, baton.WaitTimeout,
	baton.SessionTimeout, baton.IdleExpired, baton.OutOfHours, baton.DeskUnavailable, baton.Transferred}

// jobKinds are the known job kinds; their pending counts start at zero.
var jobKinds = []baton.JobKind{baton.JobOpen, baton.JobSend, baton.JobClose, baton.JobEvent, baton.JobTimer, baton.JobReply, baton.JobTransfer}

// deskOps are the desk calls each kind Baton serves makes; their latency
// series start empty (count zero).
var deskOps = map[baton.DeskKind][]string{
	baton.KindInbox:    {"open", "send", "close", "check"},
	baton.KindWebhook:  {"open", "send", "close", "check"},
	baton.KindLiveChat: {"open", "send", "close", "check", "reply", "groups", "transfer"},
	baton.KindGorgias:  {"open", "send", "close", "check"},
	baton.KindIntercom: {"open", "send", "close", "check"},
}

// ScrapeTimeout bounds the store reads made for one scrape.
const ScrapeTimeout = 5 * time.Second

// Metrics records the engine's measurements in a registry.
type Metrics struct {
	reg        *prometheus.Registry
	deliveries *prometheus.CounterVec
	deskCalls  *prometheus.HistogramVec
	wait       prometheus.Histogram
	ended      *prometheus.CounterVec
	ignored    *prometheus.CounterVec
}

var _ baton.Observer = (*Metrics)(nil)

// New registers Baton's metrics, the store collector and the Go runtime and
// process collectors in reg. It panics if reg already holds them, so give each
// run its own registry.
func New(reg *prometheus.Registry, store baton.Store) *Metrics {
	m := &Metrics{
		reg: reg,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_deliveries_total",
			Help: "Delivery attempts to desks and bots, by target (desk, bot) and result (ok, error).",
		}, []string{"target", "result"}),
		deskCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_desk_call_seconds",
			Help:    "Duration of calls into desks, by desk kind, operation (open, send, close, check) and result (ok, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind", "op", "result"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "baton_wait_seconds",
			Help:    "How long handoffs waited in the queue before an agent's first reply.",
			Buckets: []float64{1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_handoffs_ended_total",
			Help: "Handoffs ended, by reason.",
		}, []string{"reason"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_inbound_ignored_total",
			Help: "Authentic inbound desk requests acknowledged (200) and ignored on purpose, by desk kind and reason (no_events, duplicate, unknown_handoff, unattributed).",
		}, []string{"kind", "reason"}),
	}
	// Start every known series at zero so that rate() sees the first event.
	for _, t := range []string{"desk", "bot"} {
		for _, r := range []string{"ok", "error"} {
			m.deliveries.WithLabelValues(t, r)
		}
	}
	for _, r := range endReasons {
		m.ended.WithLabelValues(string(r))
	}
	for kind := range deskOps {
		for _, r := range baton.IgnoredReasons {
			m.ignored.WithLabelValues(string(kind), r)
		}
	}
	for kind, ops := range deskOps {
		for _, op := range ops {
			for _, r := range []string{"ok", "error"} {
				m.deskCalls.WithLabelValues(string(kind), op, r)
			}
		}
	}
	reg.MustRegister(m.deliveries, m.deskCalls, m.wait, m.ended, m.ignored, newStoreCollector(store),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Lag exports lag, the outbox worker's (outbox.Worker.Lag), as
// baton_outbox_lag_seconds, read at scrape time.
func (m *Metrics) Lag(lag func() time.Duration) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "baton_outbox_lag_seconds",
		Help: "How long the oldest due job nobody holds has waited past its time, as of this instance's outbox worker's last round: 0 while it keeps pace.",
	}, func() float64 { return lag().Seconds() }))
}

// Handler serves the registry in the Prometheus exposition format. A scrape
// whose store reads fail answers 500, so the failure shows as a failed scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func result(ok bool) string {
	if ok {
		return "ok"
	}
	return "error"
}

// Ignored counts an inbound desk request acknowledged and ignored.
func (m *Metrics) Ignored(kind baton.DeskKind, reason string) {
	m.ignored.WithLabelValues(string(kind), reason).Inc()
}

// Delivery counts one delivery attempt to "desk" or "bot".
func (m *Metrics) Delivery(target string, ok bool) {
	m.deliveries.WithLabelValues(target, result(ok)).Inc()
}

// DeskCall records the duration of one call into a desk.
func (m *Metrics) DeskCall(kind baton.DeskKind, op string, d time.Duration, ok bool) {
	m.deskCalls.WithLabelValues(string(kind), op, result(ok)).Observe(d.Seconds())
}

// Waited records how long a handoff waited for its first agent reply.
func (m *Metrics) Waited(d time.Duration) { m.wait.Observe(d.Seconds()) }

// Ended counts a handoff that ended.
func (m *Metrics) Ended(reason baton.EndReason) { m.ended.WithLabelValues(string(reason)).Inc() }

// storeCollector reads gauges from the store at scrape time, so every
// instance sharing a database reports the same numbers.
type storeCollector struct {
	store    baton.Store
	handoffs *prometheus.Desc
	jobs     *prometheus.Desc
	desks    *prometheus.Desc
}

func newStoreCollector(s baton.Store) *storeCollector {
	return &storeCollector{
		store: s,
		handoffs: prometheus.NewDesc("baton_handoffs",
			"Handoffs in the store by state and end reason (empty unless ended).", []string{"state", "end_reason"}, nil),
		jobs: prometheus.NewDesc("baton_jobs_pending",
			"Jobs waiting in the store (deliveries and timers), by kind.", []string{"kind"}, nil),
		desks: prometheus.NewDesc("baton_desk_status",
			"Each configured desk's service status: 1 for the status it is in, 0 for the others (not_configured, available, unavailable).", []string{"desk", "status"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.handoffs
	ch <- c.jobs
	ch <- c.desks
}

// Collect implements prometheus.Collector.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	var hs map[[2]string]int64
	var js map[string]int64
	var ds map[string]baton.DeskStatus
	err := c.store.View(ctx, func(tx baton.Tx) (err error) {
		if hs, err = tx.CountHandoffs(); err != nil {
			return err
		}
		if ds, err = tx.DeskStatuses(); err != nil {
			return err
		}
		js, err = tx.JobCount()
		return err
	})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.handoffs, err)
		ch <- prometheus.NewInvalidMetric(c.jobs, err)
		ch <- prometheus.NewInvalidMetric(c.desks, err)
		return
	}
	for id, st := range ds {
		for _, s := range []baton.DeskStatus{baton.NotConfigured, baton.Available, baton.Unavailable} {
			v := 0.0
			if s == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.desks, prometheus.GaugeValue, v, id, string(s))
		}
	}
	// Every known state and end reason is reported, at zero when the store
	// has none, so that a series does not vanish when its count drops to zero.
	counts := map[[2]string]int64{}
	for _, st := range []baton.State{baton.Requested, baton.Queued, baton.Active} {
		counts[[2]string{string(st), ""}] = 0
	}
	for _, r := range endReasons {
		counts[[2]string{string(baton.Ended), string(r)}] = 0
	}
	maps.Copy(counts, hs)
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.handoffs, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
	pending := map[string]int64{}
	for _, k := range jobKinds {
		pending[string(k)] = 0
	}
	maps.Copy(pending, js)
	for k, n := range pending {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n), k)
	}
}
