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

// Login implements Backend. The certificate presented is CertSHA256 when it is set, none with
// NoCertificate, else the one known to belong to this user (never another account's).
func (s *Service) Login(ctx context.Context, req LoginRequest) (api.Me, error) {
	c, err := s.anon()
	if err != nil {
		return api.Me{}, err
	}
	switch {
	case req.CertSHA256 != "":
		cert, err := s.o.Certs.TLSCertificate(ctx, req.CertSHA256)
		if err != nil {
			return api.Me{}, err
		}
		c = c.WithCertificate(cert)
	case !req.NoCertificate:
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
	return s.adopt(ctx, c, resp)
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
	return s.adopt(ctx, c, resp)
}

// adopt makes a fresh login the current account of its server: its session replaces the one
// cached for that account, which is ended on the server (or kept to be ended at the next
// contact), and the sessions logged out earlier while the server could not be told are ended
// now. A session the keyring can't keep is ended again, so that no token is left unknown.
func (s *Service) adopt(ctx context.Context, c *client.Client, resp *api.LoginResponse) (api.Me, error) {
	a := resp.Account
	server := c.Server()
	sess := client.Session{Server: server, UserID: a.UserID, Token: resp.SessionToken, ExpiresAt: resp.ExpiresAt,
		DisplayName: a.DisplayName, OrgName: a.Org.Name, CertSHA256: c.CertificateSHA256()}
	// The replaced session is ended with those logged out earlier; it is kept aside before
	// the new one takes its place, so that its token is never lost while still valid.
	if old, err := s.sessions().Load(server, a.UserID); err == nil && old.Token != sess.Token {
		if s.keepForRevocation(old) != nil {
			if err := c.RevokeToken(ctx, old.Token); err != nil {
				s.o.Log.Warn("replaced session not ended", "err", err)
			}
		}
	}
	if err := s.sessions().Save(sess); err != nil {
		if rerr := c.RevokeToken(ctx, sess.Token); rerr != nil {
			s.o.Log.Warn("unsaved session not ended", "err", rerr)
		}
		return api.Me{}, newError(CodeSessionNotSaved, a.UserID, err)
	}
	s.revokePending(ctx, c)
	s.mu.Lock()
	s.c, s.mfa = c, nil
	remember := s.settings.RememberUserID && s.settings.LastUserID != a.UserID
	s.mu.Unlock()
	s.setCurrent(server, a.UserID)
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

// Me implements Backend.
func (s *Service) Me(ctx context.Context) (api.Me, error) {
	c, err := s.current()
	if err != nil {
		return api.Me{}, err
	}
	return deref(c.Me(ctx))
}
