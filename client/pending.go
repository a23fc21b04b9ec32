package client

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// pendingKey is the keyring item of the tokens still to be ended on their server: a user who
// logs out (or logs in again) while the server can't be reached is logged out here at once,
// and the token, still valid there, is kept in the keyring until the server is told.
const pendingKey = "sessions-revoke-pending"

// Pending is a session its user ended on this computer that the server has not ended yet.
type Pending struct {
	Server    string    `json:"server"`
	UserID    string    `json:"user_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Ref names the pending session without its token.
func (p Pending) Ref() SessionRef {
	return SessionRef{Server: p.Server, UserID: p.UserID, ExpiresAt: p.ExpiresAt}
}

// AddPending keeps a token to be ended on its server at the next contact.
func (s *SessionStore) AddPending(p Pending) error {
	if p.Server == "" || p.Token == "" {
		return errors.New("session store: server and token are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.pendingLocked()
	if err != nil {
		return err
	}
	if slices.ContainsFunc(list, func(q Pending) bool { return q.Token == p.Token }) {
		return nil
	}
	return s.writePendingLocked(append(list, p))
}

// PendingFor lists the tokens still to be ended on server ("" for every server), without
// those past their lifetime (the server refuses them anyway).
func (s *SessionStore) PendingFor(server string) ([]Pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.pendingLocked()
	return slices.DeleteFunc(list, func(p Pending) bool { return server != "" && p.Server != server }), err
}

// DropPending forgets a token once its server has ended it.
func (s *SessionStore) DropPending(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, err := s.pendingLocked()
	if err != nil {
		return err
	}
	return s.writePendingLocked(slices.DeleteFunc(list, func(p Pending) bool { return p.Token == token }))
}

// RevokePending ends on c's server every token kept for it; a token the server no longer
// knows is dropped too. It reports how many were ended or dropped, and the first failure
// (those tokens stay for the next contact).
func (s *SessionStore) RevokePending(ctx context.Context, c *Client) (int, error) {
	list, err := s.PendingFor(c.Server())
	if err != nil || len(list) == 0 {
		return 0, err
	}
	done := 0
	for _, p := range list {
		rctx, cancel := context.WithTimeout(ctx, revokeTimeout)
		err := c.RevokeToken(rctx, p.Token)
		cancel()
		if err != nil && !IsUnauthenticated(err) {
			return done, err
		}
		if err := s.DropPending(p.Token); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// pendingLocked reads the list; the expired entries are left out (and so dropped at the
// next write).
func (s *SessionStore) pendingLocked() ([]Pending, error) {
	blob, err := s.getLocked(pendingKey)
	if errors.Is(err, ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Pending
	if err := json.Unmarshal([]byte(blob), &list); err != nil {
		return nil, nil
	}
	now := time.Now()
	return slices.DeleteFunc(list, func(p Pending) bool { return p.Ref().Expired(now) }), nil
}

func (s *SessionStore) writePendingLocked(list []Pending) error {
	if len(list) == 0 {
		return s.deleteLocked(pendingKey)
	}
	blob, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return s.setLocked(pendingKey, string(blob))
}
