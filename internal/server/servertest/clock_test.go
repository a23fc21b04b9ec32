package servertest

import (
	"sync"
	"testing"
	"time"
)

func TestClockAdvance(t *testing.T) {
	c := NewClock()
	before := time.Now()
	c.Advance(time.Hour)
	got := c.Now()
	if got.Before(before.Add(time.Hour)) || got.After(time.Now().Add(time.Hour)) {
		t.Fatalf("Now after Advance(1h) = %v, want real time + 1h (around %v)", got, before.Add(time.Hour))
	}
	c.Advance(-2 * time.Hour)
	if got := c.Now(); !got.Before(time.Now().Add(-59 * time.Minute)) {
		t.Fatalf("Now after net -1h = %v, want about an hour before %v", got, time.Now())
	}
}

func TestClockConcurrent(t *testing.T) {
	var c Clock
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got := time.Until(c.Now()); got < 799*time.Second {
		t.Fatalf("offset after 800 Advance(1s) = %v, want >= 800s", got)
	}
}

func TestFrozenClockMovesOnlyByAdvance(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewFrozenClock(at)
	time.Sleep(5 * time.Millisecond)
	if got := c.Now(); !got.Equal(at) {
		t.Fatalf("frozen Now = %v, want %v", got, at)
	}
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(at.Add(90 * time.Second)) {
		t.Fatalf("Now after Advance(90s) = %v, want %v", got, at.Add(90*time.Second))
	}
}
