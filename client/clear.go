package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Connector gives a client for a server (with the CA and proxy settings of the app), used to
// revoke sessions while clearing them.
type Connector func(server string) (*Client, error)

// ClearedSession is one account's outcome in a ClearReport.
type ClearedSession struct {
	SessionRef
	// Revoked is true when the server confirmed that the session ended.
	Revoked bool `json:"revoked"`
	// Deleted is true when the secret is gone from this computer.
	Deleted bool `json:"deleted"`
	// Note says why the session was only deleted locally, or why it could not be deleted.
	Note string `json:"note,omitempty"`
	// RevokePending marks a session already logged out here whose server was still to be told.
	RevokePending bool `json:"revoke_pending,omitempty"`
}

// ClearReport says what ClearSessions did, account by account.
type ClearReport struct {
	Sessions []ClearedSession `json:"sessions"`
}

// Revoked counts the sessions the server ended.
func (r ClearReport) Revoked() int { return r.count(func(c ClearedSession) bool { return c.Revoked }) }

// LocalOnly counts the sessions deleted here without the server confirming their end.
func (r ClearReport) LocalOnly() int {
	return r.count(func(c ClearedSession) bool { return c.Deleted && !c.Revoked })
}

// Failed counts the sessions still on this computer.
func (r ClearReport) Failed() int { return r.count(func(c ClearedSession) bool { return !c.Deleted }) }

func (r ClearReport) count(f func(ClearedSession) bool) int {
	n := 0
	for _, c := range r.Sessions {
		if f(c) {
			n++
		}
	}
	return n
}

// revokeTimeout bounds the revocation of one session: clearing must finish even when a
// server is unreachable.
const revokeTimeout = 10 * time.Second

// ClearSessions revokes every cached session whose server answers, then deletes every cached
// session from the keyring (or memory), revoked or not, and reports what it did. The error is
// non-nil only when something could not be deleted from this computer.
func (s *SessionStore) ClearSessions(ctx context.Context, connect Connector) (ClearReport, error) {
	refs, err := s.List()
	if err != nil {
		return ClearReport{}, err
	}
	pending, err := s.PendingFor("")
	if err != nil {
		return ClearReport{}, err
	}
	report := ClearReport{Sessions: make([]ClearedSession, len(refs)+len(pending))}
	var wg sync.WaitGroup
	for i, ref := range refs {
		report.Sessions[i].SessionRef = ref
		wg.Go(func() {
			sess, err := s.Load(ref.Server, ref.UserID)
			switch {
			case errors.Is(err, ErrNoSession):
				report.Sessions[i].Note = "no secret was stored for it (nothing to revoke)"
			case err != nil:
				report.Sessions[i].Note = "could not read it: " + err.Error()
			default:
				report.Sessions[i].Revoked, report.Sessions[i].Note = revoke(ctx, connect, ref.Server, sess.Token)
			}
		})
	}
	for j, p := range pending {
		out := &report.Sessions[len(refs)+j]
		out.SessionRef, out.RevokePending = p.Ref(), true
		wg.Go(func() { out.Revoked, out.Note = revoke(ctx, connect, p.Server, p.Token) })
	}
	wg.Wait()
	var errs []error
	for i := range report.Sessions {
		c := &report.Sessions[i]
		var err error
		if i < len(refs) {
			err = s.Delete(c.Server, c.UserID)
		} else {
			err = s.DropPending(pending[i-len(refs)].Token)
		}
		if err != nil {
			c.Note = joinNote(c.Note, "could not delete it from this computer: "+err.Error())
			errs = append(errs, fmt.Errorf("%s at %s: %w", c.UserID, c.Server, err))
			continue
		}
		c.Deleted = true
	}
	return report, errors.Join(errs...)
}

// revoke ends one session on its server; note says why not when it could not.
func revoke(ctx context.Context, connect Connector, server, token string) (bool, string) {
	if connect == nil {
		return false, "not revoked: no connection to the server was offered"
	}
	c, err := connect(server)
	if err != nil {
		return false, "not revoked on the server: " + err.Error()
	}
	defer c.CloseIdleConnections()
	rctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	err = c.RevokeToken(rctx, token)
	switch {
	case err == nil:
		return true, ""
	case IsUnauthenticated(err):
		return false, "the server had already ended it (expired or logged out)"
	default:
		return false, "not revoked on the server (deleted here only): " + err.Error()
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
