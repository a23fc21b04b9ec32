package service

import (
	"context"
	"errors"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
)

// RememberedUserID implements Backend.
func (s *Service) RememberedUserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.settings.RememberUserID {
		return ""
	}
	return s.settings.LastUserID
}

// Login implements Backend. Unless NoCertificate, the certificate known to belong to this
// user is presented; a certificate of another account is never chosen here.
func (s *Service) Login(ctx context.Context, req LoginRequest) (api.Me, error) {
	c, err := s.anon()
	if err != nil {
		return api.Me{}, err
	}
	if !req.NoCertificate {
		cert, err := s.o.Certs.ForLogin(ctx, c.Server(), req.UserID)
		if err != nil {
			// A store that can't be read must not stop the login: go on without a certificate.
			s.o.Log.Warn("no certificate for login", "user", req.UserID, "err", err)
		} else if cert != nil {
			c = c.WithCertificate(cert)
		}
	}
	resp, err := c.Login(ctx, req.UserID, req.Password, req.OTP)
	if _, ok := client.IsMFARequired(err); ok {
		s.mu.Lock()
		s.mfa = c
		s.mu.Unlock()
	}
	if err != nil {
		return api.Me{}, err
	}
	return s.adopt(c, resp)
}

// LoginMFA implements Backend.
func (s *Service) LoginMFA(ctx context.Context, ticket, otp string) (api.Me, error) {
	s.mu.Lock()
	c := s.mfa
	s.mu.Unlock()
	if c == nil {
		return api.Me{}, newError(CodeLoginAttemptExpired, "", nil)
	}
	resp, err := c.LoginMFA(ctx, ticket, otp)
	if err != nil {
		return api.Me{}, err
	}
	return s.adopt(c, resp)
}

// adopt keeps the session of a login in the keyring and remembers the user id.
func (s *Service) adopt(c *client.Client, resp *api.LoginResponse) (api.Me, error) {
	a := resp.Account
	sess := client.Session{Server: c.Server(), UserID: a.UserID, Token: resp.SessionToken, ExpiresAt: resp.ExpiresAt,
		DisplayName: a.DisplayName, OrgName: a.Org.Name, CertSHA256: c.CertificateSHA256()}
	if err := s.sessions().Save(sess); err != nil {
		s.o.Log.Warn("session not cached", "err", err)
	}
	s.mu.Lock()
	s.c, s.mfa = c, nil
	remember := s.settings.RememberUserID && s.settings.LastUserID != a.UserID
	s.mu.Unlock()
	if remember {
		s.rememberUser(a.UserID)
	}
	s.o.Log.Info("logged in", "user", a.UserID, "aal", resp.Session.AAL, "first_login", resp.FirstLogin)
	return api.Me{Account: a, Session: resp.Session, RequiredActions: resp.RequiredActions}, nil
}

func (s *Service) rememberUser(userID string) {
	demo := s.demoServer() != nil
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.settings.Settings
	u.LastUserID = userID
	s.settings.Settings = u
	if demo {
		return
	}
	if err := config.SaveUser(s.o.Home, u); err != nil {
		s.o.Log.Warn("user id not remembered", "err", err)
	}
}

// ErrNoCachedSession means there is no session to resume: show Login.
var ErrNoCachedSession = errors.New("no cached session")

// ResumeSession implements Backend. The server checks the token against the expected user
// (Expected-User-Id), so a session of another account comes back as an account mismatch.
func (s *Service) ResumeSession(ctx context.Context) (api.Me, error) {
	user := s.RememberedUserID()
	if user == "" {
		return api.Me{}, ErrNoCachedSession
	}
	c, err := s.anon()
	if err != nil {
		return api.Me{}, err
	}
	sess, err := s.sessions().Load(c.Server(), user)
	if err != nil {
		return api.Me{}, ErrNoCachedSession
	}
	if sess.CertSHA256 != "" {
		if cert, cerr := s.o.Certs.TLSCertificate(ctx, sess.CertSHA256); cerr == nil {
			c = c.WithCertificate(cert)
		}
	}
	me, err := c.Resume(ctx, user, sess.Token)
	if err != nil {
		if client.IsUnauthenticated(err) {
			_ = s.sessions().Delete(c.Server(), user)
			return api.Me{}, ErrNoCachedSession
		}
		return api.Me{}, err
	}
	s.mu.Lock()
	s.c = c
	s.mu.Unlock()
	return *me, nil
}

// Logout implements Backend: the server ends the session, the keyring forgets it.
func (s *Service) Logout(ctx context.Context) error {
	s.mu.Lock()
	c := s.c
	s.dropSessionLocked()
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	user := c.UserID()
	err := c.Logout(ctx)
	if derr := s.sessions().Delete(c.Server(), user); derr != nil && err == nil {
		err = derr
	}
	return err
}

// Me implements Backend.
func (s *Service) Me(ctx context.Context) (api.Me, error) {
	c, err := s.current()
	if err != nil {
		return api.Me{}, err
	}
	return deref(c.Me(ctx))
}

// CachedSessions implements Backend.
func (s *Service) CachedSessions(context.Context) ([]CachedSession, error) {
	refs, err := s.sessions().List()
	out := make([]CachedSession, 0, len(refs))
	for _, r := range refs {
		out = append(out, CachedSession{ServerURL: r.Server, UserID: r.UserID})
	}
	return out, err
}

// ClearSessions implements Backend: every cached session is revoked where the server answers
// and deleted from the keyring; this window is logged out.
func (s *Service) ClearSessions(ctx context.Context) (ClearReport, error) {
	s.mu.Lock()
	s.dropSessionLocked()
	s.mu.Unlock()
	opts, oerr := s.clientOptions()
	if oerr != nil {
		return ClearReport{}, oerr
	}
	rep, err := s.sessions().ClearSessions(ctx, func(server string) (*client.Client, error) {
		o := opts
		o.ServerURL = server
		return client.New(o)
	})
	var out ClearReport
	var notes []string
	for _, c := range rep.Sessions {
		if c.Revoked {
			out.Revoked = append(out.Revoked, c.UserID)
		} else {
			out.LocalOnly = append(out.LocalOnly, c.UserID)
			if c.Note != "" {
				notes = append(notes, c.UserID+": "+c.Note)
			}
		}
	}
	out.Message = clearMessage(len(rep.Sessions), out, notes)
	if err != nil {
		out.KeyringError = Message(err)
		return out, err
	}
	s.o.Log.Info("cached sessions cleared", "revoked", len(out.Revoked), "local_only", len(out.LocalOnly))
	return out, nil
}
