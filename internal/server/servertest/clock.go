package servertest

import (
	"sync"
	"time"
)

// Clock is a server clock a test can move forward: real time plus an offset, so a fresh TOTP
// step or an expiry is reached without sleeping while time still passes normally between steps.
// The zero value is real time. Pass c.Now to WithNow. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	off    time.Duration
	frozen bool
	at     time.Time
}

// NewClock returns a clock that starts at real time.
func NewClock() *Clock { return &Clock{} }

// NewFrozenClock returns a clock stopped at t that moves only by Advance: lockout waits, token
// expiry and TOTP steps are then exact however slowly a loaded machine runs the test.
func NewFrozenClock(t time.Time) *Clock { return &Clock{frozen: true, at: t} }

// Now is real time (or the frozen instant) plus every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at.Add(c.off)
	}
	return time.Now().Add(c.off)
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}
