package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

func busy() *api.Problem {
	p := api.NewProblem(api.CodeServerBusy, "The server is handling many logins right now. Try again in a moment.")
	p.RetryAfter = 1
	return p
}

// withHashSlot bounds Argon2id work: Config.HashConcurrency hashes at a time and a short queue
// behind them; anything beyond gets SERVER_BUSY instead of piling up memory and latency. Only
// hashing waits here, and it runs at a lower OS priority where it can (hashprio.go), so every
// other request runs first.
func (s *Server) withHashSlot(ctx context.Context, fn func() error) error {
	select {
	case s.hashQueue <- struct{}{}:
	default:
		return busy()
	}
	defer func() { <-s.hashQueue }()
	select {
	case s.hashSem <- struct{}{}:
	case <-ctx.Done():
		return busy()
	}
	defer func() { <-s.hashSem }()
	if !s.hashLowPrio {
		return fn()
	}
	_, err := onLowPriorityThread(fn)
	return err
}

func (s *Server) hash(ctx context.Context, secret string) (phc string, err error) {
	err = s.withHashSlot(ctx, func() error {
		phc, err = password.Hash(secret, s.cfg.Argon2)
		return err
	})
	return phc, err
}

// verify checks a secret; an empty or damaged phc is checked against the dummy hash so that the
// time taken does not tell whether the account exists.
func (s *Server) verify(ctx context.Context, phc, secret string) (ok bool, err error) {
	known := phc != ""
	if !known {
		phc = s.dummyPHC
	}
	err = s.withHashSlot(ctx, func() error {
		ok, err = password.Verify(phc, secret)
		if err != nil {
			s.log.Error("stored password hash is damaged", "err", err)
			ok, err = false, nil
		}
		return nil
	})
	return ok && known, err
}

// limitIP applies the per-IP budget of one kind of request.
func (s *Server) limitIP(r *http.Request, kind string) error {
	ok, wait := s.ipLimiter.allow(kind+":"+clientIP(r), time.Now())
	if ok {
		return nil
	}
	p := api.NewProblem(api.CodeRateLimited, "Too many attempts from this computer. Wait a moment and try again.")
	p.RetryAfter = max(1, int(wait.Seconds()+0.999))
	return p
}

// decodeLimited decodes a public endpoint's body, then applies the per-IP budget of kind.
func (s *Server) decodeLimited(r *http.Request, v any, kind string) error {
	if err := decode(r, v); err != nil {
		return err
	}
	return s.limitIP(r, kind)
}

// normUserID is the form user ids are stored and throttled in.
func normUserID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) > 128 {
		id = id[:128]
	}
	return id
}

// notifyLockout tells the owner of a user id, if it exists, that guesses at its password are
// being slowed down (NIST SP 800-63B-4 §4.6-style notice). It runs in the background so that the
// failing request takes as long for an unknown user id as for a known one; Close waits for it.
func (s *Server) notifyLockout(uid, ip string, at time.Time) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		acct, err := s.st.AccountByUserID(ctx, uid)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err == nil {
			body := fmt.Sprintf(`Hello %s,

There were %d failed attempts to log in to your MAG account %s (the latest from IP address %s, %s UTC).
Further attempts from the addresses that failed now have to wait, up to %s each.

If this was you, wait and try again, or use "Forgot password?" in MAG Desktop: it always works.
MAG Desktop on a computer that holds a certificate of this account logs in without waiting.
If it was not you, nobody got in: your account stays safe as long as your password is not known to others.
Consider changing your password, and tell your organisation administrator.
`, acct.DisplayName(), userPolicy.free, acct.UserID, ip, at.Format("2006-01-02 15:04"), humanDuration(int(userPolicy.max.Seconds())))
			err = s.outbox.Send(ctx, mail.Message{To: acct.Email, Subject: "Failed attempts to log in to your MAG account",
				Body: body, Template: "lockout_notice", Date: at})
		}
		if err != nil {
			s.log.Error("lockout notice not sent", "user_id", uid, "err", err)
		}
	}()
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req api.LoginRequest
	if err := s.decodeLimited(r, &req, "login"); err != nil {
		return err
	}
	ctx := r.Context()
	g, err := s.guardFor(ctx, r, req.UserID)
	if err != nil {
		return err
	}
	if err := s.check(ctx, g); err != nil {
		return err
	}
	acct, err := s.st.AccountByUserID(ctx, g.uid)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	phc := ""
	if err == nil && acct.Status != store.AccountPending {
		phc = acct.PasswordPHC
	}
	ok, err := s.verify(ctx, phc, req.Password)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordFailure(ctx, r, g); err != nil {
			return err
		}
		if err := s.audit(ctx, s.st.Q, r, "login.failed", "", g.uid, "password"); err != nil {
			return err
		}
		return api.NewProblem(api.CodeInvalidCredentials,
			"The user ID or password is wrong. Check both and try again; after several failures you will have to wait.")
	}
	if acct.Status == store.AccountDisabled {
		return api.NewProblem(api.CodeAccountDisabled, "This account is disabled. Contact your organisation administrator.")
	}
	// The password is right; only now is a client certificate looked at (research §5.4).
	if cert := peerCert(r); cert != nil {
		sha, err := s.checkLoginCert(ctx, r, acct, cert)
		if err != nil {
			return err
		}
		return s.finishLogin(w, r, acct, []string{"pwd", "x509"}, sha, &req)
	}
	totp, err := s.st.ActiveTOTP(ctx, acct.ID)
	if errors.Is(err, store.ErrNotFound) {
		return s.finishLogin(w, r, acct, []string{"pwd"}, "", &req)
	}
	if err != nil {
		return err
	}
	if req.OTP != "" {
		if err := s.checkTOTP(ctx, r, g, totp, req.OTP); err != nil {
			return err
		}
		return s.finishLogin(w, r, acct, []string{"pwd", "otp"}, "", &req)
	}
	ticket := randomToken()
	if err := s.st.CreateMFATicket(ctx, store.MFATicket{Hash: tokenHash(ticket), AccountID: acct.ID, AMR: "pwd",
		ExpiresAt: s.now().Add(mfaTicketTTL)}); err != nil {
		return err
	}
	p := api.NewProblem(api.CodeMFARequired, "Enter the 6-digit code from your authenticator app.")
	p.MFATicket, p.Methods = ticket, []string{"totp"}
	return p
}

func (s *Server) handleLoginMFA(w http.ResponseWriter, r *http.Request) error {
	var req api.MFARequest
	if err := s.decodeLimited(r, &req, "login"); err != nil {
		return err
	}
	ctx := r.Context()
	expired := api.NewProblem(api.CodeMFATicketInvalid, "This login attempt has expired. Log in again with your user ID and password.")
	if len(req.MFATicket) != 43 {
		return expired
	}
	t, err := s.st.MFATicketByHash(ctx, tokenHash(req.MFATicket))
	if errors.Is(err, store.ErrNotFound) {
		return expired
	}
	if err != nil {
		return err
	}
	if !t.Consumed.IsZero() || !s.now().Before(t.ExpiresAt) || t.Attempts > mfaMaxAttempts {
		return expired
	}
	acct, err := s.st.AccountByID(ctx, t.AccountID)
	if err != nil {
		return err
	}
	g, err := s.guardFor(ctx, r, acct.UserID)
	if err != nil {
		return err
	}
	if err := s.check(ctx, g); err != nil {
		return err
	}
	totp, err := s.st.ActiveTOTP(ctx, acct.ID)
	if err != nil {
		return err
	}
	if err := s.checkTOTP(ctx, r, g, totp, req.OTP); err != nil {
		return err
	}
	if err := s.st.ConsumeMFATicket(ctx, t.Hash, s.now()); errors.Is(err, store.ErrNotFound) {
		return expired
	} else if err != nil {
		return err
	}
	return s.finishLogin(w, r, acct, []string{"pwd", "otp"}, "", nil)
}

// finishLogin creates the session, resets the failure counters and sends the first-login email.
func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request, acct store.Account, amr []string, certSHA string, req *api.LoginRequest) error {
	ctx := r.Context()
	now := s.now()
	token := "mst_" + randomToken()
	sess := store.Session{ID: newID("ses"), TokenHash: tokenHash(token), AccountID: acct.ID, AAL: aalOf(amr),
		AMR: strings.Join(amr, " "), CertSHA256: certSHA, AuthenticatedAt: now, LastSeenAt: now,
		IdleExpiresAt: now.Add(sessionIdle), AbsoluteExpiresAt: now.Add(sessionAbsolute), IP: clientIP(r)}
	if req != nil && req.Client != nil {
		sess.ClientName, sess.ClientVersion = trunc(req.Client.Name, 100), trunc(req.Client.Version, 50)
	}
	first := false
	err := s.st.Tx(ctx, func(q store.Q) error {
		if err := q.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := s.addEvent(ctx, q, acct.ID, api.Event{Type: api.EventLogin, SessionID: sess.ID, IP: sess.IP,
			ClientName: sess.ClientName, AMR: amr}); err != nil {
			return err
		}
		if certSHA != "" {
			if err := s.completeRenewal(ctx, q, r, acct, certSHA); err != nil {
				return err
			}
		}
		if err := s.clearGuard(ctx, q, r, acct.UserID, certSHA); err != nil {
			return err
		}
		var err error
		if first, err = q.MarkFirstLogin(ctx, acct.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "login.succeeded", acct.UserID, acct.UserID, "amr="+sess.AMR)
	})
	if err != nil {
		return err
	}
	s.hub.notify(acct.ID)
	if first {
		base, err := s.publicURL(ctx)
		if err != nil {
			return err
		}
		body := fmt.Sprintf(`Hello %s,

You have logged in to MAG for the first time as %s (%s).

Next, register a second credential so that your account is protected by more than a password:
open MAG Desktop > My Account > Credentials, or this link:
magdesk://my-account/credentials

Server: %s
If this was not you, contact your organisation administrator at once.
`, acct.DisplayName(), acct.UserID, acct.OrgName, base)
		if err := s.outbox.Send(ctx, mail.Message{To: acct.Email, Subject: "Login Success", Body: body,
			Template: "login_success", Date: now}); err != nil {
			return err
		}
	}
	info, actions, err := s.describe(ctx, acct, sess)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.LoginResponse{SessionToken: token, TokenType: "Bearer", ExpiresAt: sess.AbsoluteExpiresAt,
		IdleTimeoutSeconds: int(sessionIdle.Seconds()), Session: sessionInfo(sess), Account: info, RequiredActions: actions, FirstLogin: first})
}

func aalOf(amr []string) int {
	if len(amr) > 1 {
		return 2
	}
	return 1
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
