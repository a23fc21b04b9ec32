package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The operations listener (Config.OpsAddr) serves /healthz, /readyz and /metrics over plain
// HTTP on an address of its own, not on the API listener: the API is reachable by every client
// through the load balancer's TLS passthrough, and request counts, queue depths and readiness are
// for the load balancer and the monitoring system only, which reach this address on the
// operations network (or loopback) without the magd CA or a client certificate.

// metrics are one Server's Prometheus collectors, in a registry of its own (several servers may
// run in one test process).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	logins   *prometheus.CounterVec
}

func (s *Server) newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magd_http_requests_total",
			Help: "API requests answered, by route (the ServeMux pattern) and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "magd_http_request_duration_seconds",
			Help: "Time to answer an API request, by route.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magd_logins_total",
			Help: "Login attempts (password and second step) by outcome: success, or the problem code answered."}, []string{"step", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "magd_hash_queue_depth",
			Help: "Password hashes running or waiting for a hashing slot."}, func() float64 { return float64(len(s.hashQueue)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "magd_hash_slots",
			Help: "Password hashes that may run at once."}, func() float64 { return float64(cap(s.hashSem)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "magd_mail_queue_depth",
			Help: "Emails in the outbox table not yet handed to the mail transport (all instances)."}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := s.st.PendingMail(ctx)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}),
	)
	return m
}

// observe records one answered request. code is the problem code answered, "" for success.
func (m *metrics) observe(r *http.Request, status int, code api.Code, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
	step := map[string]string{"POST " + api.PathLogin: "password", "POST " + api.PathLoginMFA: "second_factor"}[route]
	if step == "" {
		return
	}
	outcome := string(code)
	if status < 300 {
		outcome = "success"
	} else if outcome == "" {
		outcome = strconv.Itoa(status)
	}
	m.logins.WithLabelValues(step, outcome).Inc()
}

// answered remembers what a handler answered, for the metrics.
type answered struct {
	http.ResponseWriter
	status int
	code   api.Code // set by Server.problem
}

func (w *answered) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *answered) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's own writer (flushing, deadlines).
func (w *answered) Unwrap() http.ResponseWriter { return w.ResponseWriter }

const answeredKey ctxKey = 1

// noteProblem records the problem code of the answer for the metrics.
func noteProblem(r *http.Request, code api.Code) {
	if a, ok := r.Context().Value(answeredKey).(*answered); ok {
		a.code = code
	}
}

func (s *Server) opsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Ready(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

// Ready reports why this instance should not get new requests: it is shutting down, or its
// database is unreachable or not migrated.
func (s *Server) Ready(ctx context.Context) error {
	if s.draining.Load() {
		return errors.New("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.st.Ready(ctx)
}

// startOps serves the operations listener, if configured.
func (s *Server) startOps() error {
	if s.cfg.OpsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.OpsAddr)
	if err != nil {
		return fmt.Errorf("magd: listen on %s (--ops-addr): %w", s.cfg.OpsAddr, err)
	}
	s.opsSrv = &http.Server{Handler: s.opsHandler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	s.opsURL = "http://" + ln.Addr().String()
	go func() {
		if err := s.opsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("operations listener", "err", err)
		}
	}()
	return nil
}

// OpsURL is the base URL of the operations listener ("" without Config.OpsAddr).
func (s *Server) OpsURL() string { return s.opsURL }
