package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// authCtx is the caller of an authenticated endpoint.
type authCtx struct {
	sess store.Session
	acct store.Account
}

type authHandler func(w http.ResponseWriter, r *http.Request, a *authCtx) error

// authed resolves the bearer token to a live session, enforces idle and absolute expiry and the
// Expected-User-Id header, and slides the idle expiry.
func (s *Server) authed(fn authHandler) handler { return s.session(fn, true) }

// session is authed; with slide false the request does not count as activity.
func (s *Server) session(fn authHandler, slide bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(token, "mst_") || len(token) != 47 {
			return api.NewProblem(api.CodeUnauthenticated, "You are not logged in. Log in with your user ID and password.")
		}
		hash := tokenHash(token)
		sess, acct, ok := s.sessions.get(hash)
		ok = ok && !s.cfg.NoCaches
		if !ok {
			var err error
			sess, acct, err = s.st.SessionByTokenHash(ctx, hash)
			if errors.Is(err, store.ErrNotFound) {
				return api.NewProblem(api.CodeUnauthenticated, "This session is not known to the server. Log in again.")
			}
			if err != nil {
				return err
			}
			s.sessions.put(hash, sess, acct)
		}
		now := s.now()
		switch {
		case !sess.RevokedAt.IsZero():
			return api.NewProblem(api.CodeSessionExpired, "You have logged out or your session was ended. Log in again.")
		case !now.Before(sess.AbsoluteExpiresAt):
			return api.NewProblem(api.CodeSessionExpired, "Your session has expired (sessions last at most 24 hours). Log in again.")
		case !now.Before(sess.IdleExpiresAt):
			return api.NewProblem(api.CodeSessionExpired, "Your session expired after 60 minutes without activity. Log in again.")
		case acct.Status != store.AccountActive:
			return api.NewProblem(api.CodeAccountDisabled, "This account is disabled. Contact your organisation administrator.")
		}
		if want := strings.TrimSpace(r.Header.Get(api.HeaderExpectedUserID)); want != "" && normUserID(want) != acct.UserID {
			p := api.NewProblem(api.CodeSessionAccountMismatch,
				"This session belongs to a different account than the one you expected. Clear the cached sessions on this computer and log in again.")
			p.Remediation = []api.Remediation{
				{Action: "clear_local_session", Title: "Clear cached sessions on this computer", ClientSide: true},
				{Action: "login", Title: "Log in with the right account", Method: "POST", Href: api.PathLogin},
			}
			return p
		}
		// Sliding idle expiry, written at most once a minute to keep reads cheap.
		if slide && sess.IdleExpiresAt.Sub(now) < sessionIdle-time.Minute {
			sess.IdleExpiresAt = now.Add(sessionIdle)
			if err := s.st.TouchSession(ctx, sess.ID, now, sess.IdleExpiresAt); err != nil {
				return err
			}
			s.sessions.put(hash, sess, acct)
		}
		return fn(w, r, &authCtx{sess: sess, acct: acct})
	}
}

func sessionInfo(s store.Session) api.SessionInfo {
	return api.SessionInfo{ID: s.ID, AAL: s.AAL, AMR: strings.Fields(s.AMR), AuthenticatedAt: s.AuthenticatedAt,
		ExpiresAt: s.AbsoluteExpiresAt, IdleExpiresAt: s.IdleExpiresAt, CertSHA256: s.CertSHA256}
}

// describe builds the API view of an account and its advisory required actions.
func (s *Server) describe(ctx context.Context, acct store.Account, sess store.Session) (api.Account, []string, error) {
	roles := []string{api.RoleUser}
	if acct.OrgAdmin {
		roles = append(roles, api.RoleOrgAdmin)
	}
	_, err := s.st.ActiveTOTP(ctx, acct.ID)
	hasTOTP := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return api.Account{}, nil, err
	}
	info := api.Account{UserID: acct.UserID, DisplayName: acct.DisplayName(), Email: acct.Email,
		Org: api.Org{ID: acct.OrgID, Name: acct.OrgName}, Roles: roles, Status: acct.Status, TOTPEnabled: hasTOTP}
	actions := []string{}
	if !hasTOTP {
		certs, err := s.st.AccountCertificates(ctx, acct.ID)
		if err != nil {
			return info, nil, err
		}
		if len(certs) == 0 {
			actions = append(actions, "register_credentials")
		}
	}
	if acct.OrgAdmin {
		apps, err := s.st.UserApps(ctx, acct.ID, acct.OrgID)
		if err != nil {
			return info, nil, err
		}
		for _, a := range apps {
			if !a.TermsAccepted {
				actions = append(actions, "accept_terms")
				break
			}
		}
	}
	return info, actions, nil
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	info, actions, err := s.describe(r.Context(), a.acct, a.sess)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Me{Account: info, Session: sessionInfo(a.sess), RequiredActions: actions})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := noBody(r); err != nil {
		return err
	}
	ctx := r.Context()
	err := s.st.Tx(ctx, func(q store.Q) error {
		if err := q.RevokeSession(ctx, a.sess.ID, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "logout", a.acct.UserID, a.sess.ID, "")
	})
	s.sessions.drop(a.sess.TokenHash)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionCache keeps recently used live sessions in memory for a few seconds, so that a burst of
// requests costs one database read. Every revocation in this process drops the entries it
// affects at once; only magd itself ends sessions.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

type cachedSession struct {
	sess  store.Session
	acct  store.Account
	until time.Time
}

const sessionCacheTTL = 5 * time.Second

func (c *sessionCache) get(hash string) (store.Session, store.Account, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || time.Now().After(e.until) {
		return store.Session{}, store.Account{}, false
	}
	return e.sess, e.acct, true
}

func (c *sessionCache) put(hash string, sess store.Session, acct store.Account) {
	if !sess.RevokedAt.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedSession{}
	}
	c.m[hash] = cachedSession{sess: sess, acct: acct, until: time.Now().Add(sessionCacheTTL)}
}

func (c *sessionCache) drop(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}

// dropAccount forgets every cached session of an account (all its sessions were revoked).
func (c *sessionCache) dropAccount(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.acct.ID == accountID {
			delete(c.m, h)
		}
	}
}
