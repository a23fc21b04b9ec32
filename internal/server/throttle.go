package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// Throttling of password and one-time-code guesses (NIST SP 800-63B-4 §3.2.2; stricter than
// Keycloak's brute-force defaults per source, and without its permanent lockout). A lock is
// never on a user id as such, so that nobody can keep another person out:
//
//   - per (user id, source address): five free failures, then waits of 30 s doubling to 15 min;
//   - per source address, over all user ids: twenty free failures, then the same waits;
//   - per user id, over all sources: ten free failures, then each source that fails waits at
//     least 30 s doubling to 15 min. It only lengthens the wait of a source after its own
//     failure: a source that has not failed is never refused, so the real user's first
//     attempt from their own address always counts;
//   - through a proxy that hides client addresses (Config.ProxyAddrs, without the PROXY
//     protocol) there is no per-source counter, and the (user id, source) one acts per user id;
//   - a known device (a client certificate bound to the account, presented on the connection)
//     has a counter of its own instead of the three above, so an attacker cannot hold it back;
//   - every counter forgets one failure per failureDecay without failures, and a success
//     clears the counters of the user id, its source and device (never the source's total).
//
// Unknown user ids are counted exactly like known ones. The counters live in the database, so
// that every magd instance on it sees the same. The emailed-code recovery is not throttled here:
// its code is its proof, limited by its own attempts and its hourly cap (recovery.go).

// policy is how a counter turns failures into a wait: free failures, then first doubling to max.
type policy struct {
	free       int
	first, max time.Duration
}

var (
	pairPolicy   = policy{5, 30 * time.Second, 15 * time.Minute}
	sourcePolicy = policy{20, 30 * time.Second, 15 * time.Minute}
	userPolicy   = policy{10, 30 * time.Second, 15 * time.Minute}
)

const failureDecay = 10 * time.Minute

func (p policy) wait(failures int) time.Duration {
	if failures < p.free {
		return 0
	}
	if shift := failures - p.free; shift < 16 {
		return min(p.max, p.first<<shift)
	}
	return p.max
}

// decayed is a counter's failures at now, one forgotten per failureDecay since its last change.
func decayed(t store.Throttle, now time.Time) int {
	if t.UpdatedAt.IsZero() {
		return t.Failures
	}
	return max(0, t.Failures-int(now.Sub(t.UpdatedAt)/failureDecay))
}

// counter is one throttle row and its policy.
type counter struct {
	key string
	p   policy
}

// guard is what one guess at a user id's secrets counts into: locks refuse while they are
// blocked; user (empty for a known device) is the user id's total, which lengthens the wait of
// the first lock after each failure.
type guard struct {
	uid   string
	locks []counter
	user  string
}

func pairKey(uid, ip string) string { return "pair:" + uid + " " + ip }
func userKey(uid string) string     { return "uid:" + uid }

// guardFor is the guard of a guess at uid from r: its known-device counter when r presents a
// certificate bound to uid's account, else its source's counters.
func (s *Server) guardFor(ctx context.Context, r *http.Request, uid string) (guard, error) {
	uid = normUserID(uid)
	sha, err := s.knownDevice(ctx, r, uid)
	if err != nil {
		return guard{}, err
	}
	if sha != "" {
		return guard{uid: uid, locks: []counter{{"dev:" + sha, pairPolicy}}}, nil
	}
	ip := clientIP(r)
	if s.hidesClient(r) {
		return guard{uid: uid, locks: []counter{{pairKey(uid, ip), pairPolicy}}, user: userKey(uid)}, nil
	}
	return guard{uid: uid, locks: []counter{{pairKey(uid, ip), pairPolicy}, {"src:" + ip, sourcePolicy}}, user: userKey(uid)}, nil
}

// keyGuard throttles guesses at one secret that is not a user id's (an enrolment's code).
func keyGuard(key string) guard { return guard{locks: []counter{{key, pairPolicy}}} }

// knownDevice is the fingerprint of the certificate on r when it is ours, active and bound to
// uid's account; "" otherwise (also for unknown user ids).
func (s *Server) knownDevice(ctx context.Context, r *http.Request, uid string) (string, error) {
	cert := peerCert(r)
	if cert == nil {
		return "", nil
	}
	c, bound, err := s.knownCert(ctx, cert)
	var p *api.Problem
	if errors.As(err, &p) {
		return "", nil
	}
	if err != nil || len(bound) == 0 {
		return "", err
	}
	acct, err := s.st.AccountByUserID(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !slices.Contains(bound, acct.ID) {
		return "", nil
	}
	return c.SHA256, nil
}

func lockedProblem(wait time.Duration) *api.Problem {
	secs := max(1, int(wait.Seconds()+0.999))
	p := api.NewProblem(api.CodeAccountLocked, fmt.Sprintf(
		"Too many failed attempts from this computer. Wait %s before trying again, or reset your password with \"Forgot password?\".", humanDuration(secs)))
	p.RetryAfter = secs
	return p
}

func humanDuration(secs int) string {
	if secs < 90 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}

// check answers ACCOUNT_LOCKED while one of g's locks is blocked.
func (s *Server) check(ctx context.Context, g guard) error {
	now := s.now()
	var wait time.Duration
	for _, c := range g.locks {
		t, err := s.st.GetThrottle(ctx, c.key)
		if err != nil {
			return err
		}
		wait = max(wait, t.BlockedUntil.Sub(now))
	}
	if wait > 0 {
		return lockedProblem(wait)
	}
	return nil
}

// recordFailure counts a failed guess into every counter of g. When the user id's total reaches
// the point where it slows its sources, the account's owner is told (once until a success).
func (s *Server) recordFailure(ctx context.Context, r *http.Request, g guard) error {
	now := s.now()
	first := false
	err := s.st.Tx(ctx, func(q store.Q) error {
		var userWait time.Duration
		if g.user != "" {
			t, err := q.GetThrottle(ctx, g.user)
			if err != nil {
				return err
			}
			t.Failures = decayed(t, now) + 1
			userWait = userPolicy.wait(t.Failures)
			// The user id's own row never blocks; its BlockedUntil marks the notice as sent, so
			// that the owner gets one until the next success however the failures come and go.
			if t.Failures >= userPolicy.free && t.BlockedUntil.IsZero() {
				first, t.BlockedUntil = true, now
			}
			if err := q.PutThrottle(ctx, g.user, t, now); err != nil {
				return err
			}
		}
		for i, c := range g.locks {
			t, err := q.GetThrottle(ctx, c.key)
			if err != nil {
				return err
			}
			t.Failures = decayed(t, now) + 1
			wait := c.p.wait(t.Failures)
			if i == 0 {
				wait = max(wait, userWait)
			}
			if wait > 0 {
				t.BlockedUntil = now.Add(wait)
				if err := s.audit(ctx, q, r, "lockout", "", c.key, fmt.Sprintf("failures=%d wait=%s", t.Failures, wait)); err != nil {
					return err
				}
			}
			if err := q.PutThrottle(ctx, c.key, t, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && first && g.uid != "" {
		s.notifyLockout(g.uid, clientIP(r), now)
	}
	return err
}

// clearGuard forgets, after a success of uid from r, the counters of that user id, of its
// pair with r's source and of the device certSHA ("" for none). The source's total stays: a
// success of one's own account must not buy guesses at others.
func (s *Server) clearGuard(ctx context.Context, q store.Q, r *http.Request, uid, certSHA string) error {
	keys := []string{userKey(uid), pairKey(uid, clientIP(r))}
	if certSHA != "" {
		keys = append(keys, "dev:"+certSHA)
	}
	for _, k := range keys {
		if err := q.ClearThrottle(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
