package server

import (
	"context"
	"time"
)

// Housekeeping: expired sessions (desktop and browser), tickets, recoveries, OpenID Connect
// requests and tokens, and stale failure counters are deleted a day after they stopped mattering, so that a long-running magd (or one
// under a guessing attack) does not grow without bound. The audit log is kept.
const (
	janitorEvery = 10 * time.Minute
	janitorKeep  = 24 * time.Hour
)

// Purge runs one housekeeping pass now and returns how many rows it deleted.
func (s *Server) Purge(ctx context.Context) (int64, error) {
	now := s.now()
	n, err := s.st.Purge(ctx, now.Add(-janitorKeep), now)
	if err == nil && n > 0 {
		s.log.Info("housekeeping", "deleted_rows", n)
	}
	return n, err
}

// janitor purges every janitorEvery until stop is closed.
func (s *Server) janitor(stop <-chan struct{}) {
	t := time.NewTicker(janitorEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if _, err := s.Purge(ctx); err != nil {
				s.log.Error("housekeeping", "err", err)
			}
			if _, err := s.NoteExpiringCertificates(ctx); err != nil {
				s.log.Error("expiring certificates", "err", err)
			}
			cancel()
		}
	}
}
