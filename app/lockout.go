package app

import (
	"time"

	"fyne.io/fyne/v2"
)

// every calls f on the UI goroutine every d until f returns false or the window closes.
// Headless tests get the calls through their inbox while they Wait (and none otherwise).
func (u *UI) every(d time.Duration, f func() bool) {
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-u.ctx.Done():
				return
			case <-t.C:
			}
			more := make(chan bool, 1)
			g := func() { more <- f() }
			if u.inbox != nil {
				select {
				case u.inbox <- g:
				case <-u.ctx.Done():
					return
				}
			} else {
				fyne.Do(g)
			}
			select {
			case m := <-more:
				if !m {
					return
				}
			case <-u.ctx.Done():
				return
			}
		}
	}()
}

// startLockout shows how long the account stays locked and counts it down every second;
// at zero it says the user may try again. A new Login screen or a new answer stops it.
func (s *loginScreen) startLockout(msg func(left time.Duration) string, until time.Time) {
	s.lockUntil, s.lockMsg = until, msg
	if !s.lockoutTick() {
		return
	}
	s.lockGen++
	gen := s.lockGen
	s.u.every(time.Second, func() bool { return gen == s.lockGen && s.u.login == s && s.lockoutTick() })
}

// lockoutTick updates the lockout message; false once the lockout is over.
func (s *loginScreen) lockoutTick() bool {
	left := s.lockUntil.Sub(s.u.now()).Round(time.Second)
	if left <= 0 {
		setError(s.err, "")
		s.info.SetText("The lockout is over: log in again with the right password, or use \"Forgot password?\".")
		s.info.Show()
		return false
	}
	setError(s.err, s.lockMsg(left))
	return true
}

// stopLockout ends the countdown (another answer came).
func (s *loginScreen) stopLockout() {
	s.lockGen++
	s.info.Hide()
}
