package server

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/mag-desktop/magdesk/api"
)

// TestHashSlotsBounded: with every hashing slot and queue place taken, a login is refused
// with SERVER_BUSY at once instead of queueing without bound.
func TestHashSlotsBounded(t *testing.T) {
	s := &Server{hashSem: make(chan struct{}, 1), hashQueue: make(chan struct{}, 2)}
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = s.withHashSlot(context.Background(), func() error { close(started); <-release; return nil })
	}()
	<-started
	waiting := make(chan error, 1)
	go func() { waiting <- s.withHashSlot(context.Background(), func() error { return nil }) }()
	for len(s.hashQueue) < 2 { // until the second caller holds its queue place
		runtime.Gosched()
	}
	err := s.withHashSlot(context.Background(), func() error { t.Error("ran beyond the bound"); return nil })
	var p *api.Problem
	if !errors.As(err, &p) || p.Code != api.CodeServerBusy || p.RetryAfter < 1 {
		t.Fatalf("third caller: %v", err)
	}
	close(release)
	if err := <-waiting; err != nil {
		t.Fatalf("queued caller: %v", err)
	}
}

// TestTuneGC: the collector's target is raised only when GOGC does not say otherwise.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	TuneGC()
	if got := debug.SetGCPercent(100); got != 400 {
		t.Fatalf("GOGC unset: target %d, want 400", got)
	}
	t.Setenv("GOGC", "100")
	TuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC=100 in the environment: target %d, want it kept", got)
	}
}
