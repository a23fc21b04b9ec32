package server

import (
	"context"
	"errors"
	"runtime"
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
