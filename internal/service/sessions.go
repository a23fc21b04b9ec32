package service

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// currentFile records which account is current on each server: the one a login, a switch or
// a start continues as. It holds user ids, no secret (the tokens are in the keyring).
const currentFile = "current-accounts.json"

// CurrentAccount is the account the service acts as on the configured server ("" if none).
func (s *Service) CurrentAccount() string {
	server, err := s.serverKey()
	if err != nil {
		return ""
	}
	return s.loadCurrent()[server]
}

// serverKey is the configured server, normalised as the session cache files it.
func (s *Service) serverKey() (string, error) {
	o, err := s.clientOptions()
	if err != nil {
		return "", err
	}
	return client.NormalizeServerURL(o.ServerURL)
}

func (s *Service) loadCurrent() map[string]string {
	s.curMu.Lock()
	defer s.curMu.Unlock()
	return s.loadCurrentLocked()
}

// inMemory says the current accounts are not written down: no home, or the demo (whose
// server lives for this run only).
func (s *Service) inMemory() bool { return s.o.Home == "" || s.demoServer() != nil }

func (s *Service) loadCurrentLocked() map[string]string {
	cur := map[string]string{}
	if s.inMemory() {
		maps.Copy(cur, s.cur)
		return cur
	}
	data, err := os.ReadFile(filepath.Join(s.o.Home, currentFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.o.Log.Warn("current accounts not read", "err", err)
	}
	// A damaged file only loses which account is current: the next login sets it again.
	_ = json.Unmarshal(data, &cur)
	return cur
}

// setCurrent makes user current on server ("" for none; every server when server is "").
func (s *Service) setCurrent(server, user string) {
	s.curMu.Lock()
	defer s.curMu.Unlock()
	cur := s.loadCurrentLocked()
	switch {
	case server == "":
		clear(cur)
	case user == "":
		delete(cur, server)
	default:
		cur[server] = user
	}
	if s.inMemory() {
		s.cur = cur
		return
	}
	if err := writeFileAtomic(filepath.Join(s.o.Home, currentFile), cur); err != nil {
		s.o.Log.Warn("current account not recorded", "err", err)
	}
}

// writeFileAtomic writes v as JSON through a temporary file, mode 0600, so that the command
// line and the window writing at once leave one whole file.
func writeFileAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cachedClient is a client of the configured server acting as user with the session cached
// for them (and the certificate that session was opened with), without asking the server.
// A session past its lifetime is forgotten.
func (s *Service) cachedClient(ctx context.Context, user string) (*client.Client, client.Session, error) {
	c, err := s.anon()
	if err != nil {
		return nil, client.Session{}, err
	}
	sess, err := s.sessions().Load(c.Server(), user)
	if errors.Is(err, client.ErrNoSession) {
		return nil, sess, newError(CodeNoSavedSession, user, err)
	}
	if err != nil {
		return nil, sess, err
	}
	if sess.Ref().Expired(time.Now()) {
		if derr := s.sessions().Delete(c.Server(), user); derr != nil {
			s.o.Log.Warn("expired session not forgotten", "err", derr)
		}
		return nil, sess, newError(CodeSessionExpired, user, nil)
	}
	if sess.CertSHA256 != "" {
		if cert, cerr := s.o.Certs.TLSCertificate(ctx, sess.CertSHA256); cerr == nil {
			c = c.WithCertificate(cert)
		}
	}
	c.SetSession(sess.UserID, sess.Token)
	return c, sess, nil
}

// ActAsCurrent makes the current account of the configured server, with its cached session,
// the logged-in client, without asking the server (the first call tells whether the session
// still holds; ForgetIfEnded then forgets it).
func (s *Service) ActAsCurrent(ctx context.Context) (*client.Client, error) {
	user := s.CurrentAccount()
	if user == "" {
		return nil, newError(CodeNotLoggedIn, "", nil)
	}
	c, _, err := s.cachedClient(ctx, user)
	if err != nil {
		return nil, err
	}
	s.UseSession(c)
	return c, nil
}

// ForgetIfEnded forgets the logged-in account's cached session when err says the server no
// longer knows it, so that the next attempt asks to log in straight away.
func (s *Service) ForgetIfEnded(err error) {
	if !client.IsUnauthenticated(err) {
		return
	}
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	if c == nil {
		return
	}
	if derr := s.sessions().Delete(c.Server(), c.UserID()); derr != nil {
		s.o.Log.Warn("ended session not forgotten", "err", derr)
	}
}

// resume continues user's cached session on the configured server once the server has
// confirmed it, and makes the account current; a session the server ended is forgotten.
func (s *Service) resume(ctx context.Context, user string) (api.Me, error) {
	c, sess, err := s.cachedClient(ctx, user)
	if err != nil {
		return api.Me{}, err
	}
	me, err := c.Resume(ctx, user, sess.Token)
	if err != nil {
		if client.IsUnauthenticated(err) {
			if derr := s.sessions().Delete(c.Server(), user); derr != nil {
				s.o.Log.Warn("ended session not forgotten", "err", derr)
			}
		}
		return api.Me{}, err
	}
	s.UseSession(c)
	s.setCurrent(c.Server(), user)
	s.revokePending(ctx, c)
	return *me, nil
}

// SwitchSession makes userID's cached session on the configured server the current one,
// after the server has confirmed it: switching between accounts without logging in again.
func (s *Service) SwitchSession(ctx context.Context, userID string) (api.Me, error) {
	return s.resume(ctx, userID)
}

// ResumeSession implements Backend: at start, the current account continues where it was,
// when the settings remember the user (a shared computer starts at the login).
func (s *Service) ResumeSession(ctx context.Context) (api.Me, error) {
	s.mu.Lock()
	remember := s.settings.RememberUserID
	s.mu.Unlock()
	user := s.CurrentAccount()
	if !remember || user == "" {
		return api.Me{}, ErrNoCachedSession
	}
	me, err := s.resume(ctx, user)
	switch CodeOf(err) {
	case CodeNoSavedSession, CodeSessionExpired:
		return me, ErrNoCachedSession
	}
	if client.IsUnauthenticated(err) {
		return me, ErrNoCachedSession
	}
	return me, err
}

// revokePending ends on c's server the sessions logged out here while it could not be told.
func (s *Service) revokePending(ctx context.Context, c *client.Client) {
	n, err := s.sessions().RevokePending(ctx, c)
	if n > 0 {
		s.o.Log.Info("sessions logged out earlier ended on the server", "server", c.Server(), "count", n)
	}
	if err != nil {
		s.o.Log.Warn("sessions logged out earlier not ended on the server yet", "server", c.Server(), "err", err)
	}
}

// keepForRevocation keeps a session that the server could not be told to end, to end it at
// the next contact; if even that fails, the session stays cached (never silently lost).
func (s *Service) keepForRevocation(sess client.Session) error {
	err := s.sessions().AddPending(client.Pending{Server: sess.Server, UserID: sess.UserID, Token: sess.Token, ExpiresAt: sess.ExpiresAt})
	if err != nil {
		s.o.Log.Warn("session to end later not kept", "user", sess.UserID, "err", err)
	}
	return err
}

// LogoutReport says what Logout did.
type LogoutReport struct {
	// UserID is the account logged out here ("" when none was logged in).
	UserID string `json:"logged_out,omitempty"`
	// RevokePending is set when the server could not be told: the session is ended there at
	// the next contact.
	RevokePending bool `json:"revoke_pending,omitempty"`
	// EndedEarlier counts sessions logged out earlier that the server was told about now.
	EndedEarlier int `json:"ended_earlier,omitempty"`
}

// Logout implements Backend. The account is logged out on this computer at once: its session
// is no longer current and is never resumed. When the server can't be told, the token stays
// in the keyring, marked to be ended at the next contact with that server (the next login,
// start, logout or clearing of the cached sessions), and the error (CodeLogoutPending) says so.
// Without a logged-in account, the sessions logged out earlier are offered to the server again.
func (s *Service) Logout(ctx context.Context) (LogoutReport, error) {
	s.mu.Lock()
	c := s.c
	s.dropSessionLocked()
	s.mu.Unlock()
	if c == nil {
		return s.retryPending(ctx)
	}
	server, user := c.Server(), c.UserID()
	rep := LogoutReport{UserID: user}
	s.setCurrent(server, "")
	sess, lerr := s.sessions().Load(server, user)
	err := c.Logout(ctx)
	if err != nil && lerr == nil {
		if kerr := s.keepForRevocation(sess); kerr != nil {
			return rep, errors.Join(newError(CodeLogoutPending, user, err), kerr)
		}
		rep.RevokePending = true
	}
	if derr := s.sessions().Delete(server, user); derr != nil && err == nil {
		return rep, derr
	}
	if err != nil {
		return rep, newError(CodeLogoutPending, user, err)
	}
	rep.EndedEarlier, _ = s.sessions().RevokePending(ctx, c)
	s.o.Log.Info("logged out", "user", user)
	return rep, nil
}

// retryPending offers the configured server the sessions logged out earlier.
func (s *Service) retryPending(ctx context.Context) (LogoutReport, error) {
	c, err := s.anon()
	if err != nil {
		return LogoutReport{}, err
	}
	defer c.CloseIdleConnections()
	list, err := s.sessions().PendingFor(c.Server())
	if err != nil || len(list) == 0 {
		return LogoutReport{}, err
	}
	n, err := s.sessions().RevokePending(ctx, c)
	rep := LogoutReport{EndedEarlier: n, RevokePending: n < len(list)}
	if err != nil {
		return rep, newError(CodeLogoutPending, list[0].UserID, err)
	}
	return rep, nil
}

// CachedSession is one session kept in the keyring.
type CachedSession struct {
	client.SessionRef
	// Current is set on the account current on its server.
	Current bool `json:"current"`
	Expired bool `json:"expired"`
	// RevokePending marks a session logged out here that its server is still to be told of.
	RevokePending bool `json:"revoke_pending,omitempty"`
}

// CachedSessions implements Backend: the cached sessions, oldest first, then those logged
// out here but still to be ended on their server.
func (s *Service) CachedSessions(context.Context) ([]CachedSession, error) {
	refs, err := s.sessions().List()
	if err != nil {
		return nil, err
	}
	pending, err := s.sessions().PendingFor("")
	cur, now := s.loadCurrent(), time.Now()
	out := make([]CachedSession, 0, len(refs)+len(pending))
	for _, r := range refs {
		out = append(out, CachedSession{SessionRef: r, Current: cur[r.Server] == r.UserID, Expired: r.Expired(now)})
	}
	for _, p := range pending {
		out = append(out, CachedSession{SessionRef: p.Ref(), RevokePending: true})
	}
	return out, err
}

// ClearReport tells what ClearSessions did, session by session.
type ClearReport struct {
	client.ClearReport
	// Message sums it up for the user.
	Message string `json:"message"`
}

// ClearSessions implements Backend: every cached session, and every one logged out but still
// to be ended, is revoked where its server answers and deleted from the keyring; no account
// is current any more, and this window is logged out.
func (s *Service) ClearSessions(ctx context.Context) (ClearReport, error) {
	s.mu.Lock()
	s.dropSessionLocked()
	s.mu.Unlock()
	rep, err := s.sessions().ClearSessions(ctx, func(server string) (*client.Client, error) {
		o, err := s.connectTo(server)
		if err != nil {
			return nil, err
		}
		return client.New(o)
	})
	s.setCurrent("", "")
	var notes []string
	for _, c := range rep.Sessions {
		if !c.Revoked && c.Note != "" {
			notes = append(notes, c.UserID+": "+c.Note)
		}
	}
	out := ClearReport{ClearReport: rep, Message: clearMessage(len(rep.Sessions), rep.Revoked(), rep.LocalOnly(), notes)}
	if err != nil {
		return out, err
	}
	s.o.Log.Info("cached sessions cleared", "revoked", rep.Revoked(), "local_only", rep.LocalOnly())
	return out, nil
}
