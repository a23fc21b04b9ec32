package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// Handler is the whole HTTP API with its middleware (also used by tests and benchmarks).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	seen := map[string]bool{}
	route := func(method, path string, h http.Handler) {
		mux.Handle(method+" "+path, h)
		if !seen[path] {
			seen[path] = true
			// Any other method on a known path: 405 as problem+json rather than ServeMux's text.
			mux.Handle(path, s.h(func(w http.ResponseWriter, r *http.Request) error {
				return api.NewProblem(api.CodeMethodNotAllowed, r.Method+" is not supported on this address.")
			}))
		}
	}
	pub := func(fn handler) http.Handler { return s.h(fn) }
	auth := func(fn authHandler) http.Handler { return s.h(s.authed(fn)) }

	route("GET", api.PathMeta, pub(s.handleMeta))
	route("GET", api.PathSecurityQuestions, pub(s.handleQuestions))
	route("POST", api.PathActivationInspect, pub(s.handleInspect))
	route("POST", api.PathActivationComplete, pub(s.handleComplete))
	route("POST", api.PathLogin, pub(s.handleLogin))
	route("POST", api.PathLoginMFA, pub(s.handleLoginMFA))
	route("POST", api.PathRecoveryActivation, s.h(s.padded(s.handleRecoveryActivation)))
	route("POST", api.PathRecoveryUserIDs, s.h(s.padded(s.handleRecoveryUserIDs)))
	route("POST", api.PathRecoveryPasswordStart, s.h(s.padded(s.handleRecoveryStart)))
	route("POST", api.PathRecoveryPasswordComplete, s.h(s.padded(s.handleRecoveryComplete)))
	route("GET", api.PathMe, auth(s.handleMe))
	route("DELETE", api.PathSessionCurrent, auth(s.handleLogout))
	route("GET", api.PathMyApplications, auth(s.handleMyApps))
	route("POST", api.PathAccessRequests, auth(s.handleRequestAccess))
	route("POST", api.PathLaunch, auth(s.handleLaunch))
	route("GET", api.PathTerms, auth(s.handleTerms))
	route("POST", api.PathTermsAcceptances, auth(s.handleAccept))
	route("GET", api.PathOrgAccessRequests, auth(s.handleOrgRequests))
	route("POST", api.PathDecision, auth(s.handleDecision))
	route("POST", api.PathTOTP, auth(s.handleTOTPStart))
	route("POST", api.PathTOTPVerify, auth(s.handleTOTPVerify))
	route("POST", api.PathCertificates, auth(s.handleIssueCert))
	route("GET", api.PathCertificates, auth(s.handleListCerts))
	route("POST", api.PathCertificateConnections, auth(s.handleConnect))
	route("DELETE", api.PathCertificate, auth(s.handleRevokeCert))
	route("POST", api.PathCertificateRenewal, auth(s.handleRenewCert))
	// The feed does not count as activity: an open but idle app lets its session time out.
	route("GET", api.PathEvents, s.h(s.session(s.handleEvents, false)))

	route("GET", "/activate", pub(s.handleActivatePage))
	route("GET", "/launch/{ticket}", http.HandlerFunc(s.handleLaunchPage))
	s.federationRoutes(mux)
	s.demoRoutes(mux)
	mux.Handle("/", s.h(func(w http.ResponseWriter, r *http.Request) error {
		// The path is not echoed: it is the caller's input (and may end up in a client's log).
		return api.NewProblem(api.CodeNotFound, "There is nothing at this address on the server; check the server address.")
	}))
	return s.wrap(mux)
}

// limiter is a per-key token bucket (per client IP for logins).
type limiter struct {
	mu      sync.Mutex
	perMin  float64
	burst   float64
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(perMinute int) *limiter {
	return &limiter{perMin: float64(perMinute), burst: 2 * float64(perMinute), buckets: map[string]*bucket{}}
}

// allow takes one token for key; when none is left it says how long to wait.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.perMin <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > 10*time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.at) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(l.burst, b.tokens+el.Minutes()*l.perMin)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.perMin * float64(time.Minute))
	return false, wait
}
