package server

import (
	"context"
	"runtime"
	"testing"

	"github.com/mag-desktop/magdesk/internal/server/password"
	"golang.org/x/sys/unix"
)

func threadNice(t *testing.T) int {
	t.Helper()
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - raw
}

// TestHashRunsAtLowPriority: with HashLowPriority a hash runs on a thread whose nice value is
// higher than the caller's, and the caller's thread keeps its own; the default slots follow (a
// slot per CPU at low priority, else one CPU left free), and GOMAXPROCS is raised so that busy
// slots leave every CPU's P to the other requests.
func TestHashRunsAtLowPriority(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadNice(t)
	if !hashesAtLowPriority(password.Default) || hashesAtLowPriority(password.Fast) {
		t.Fatal("the production parameters should hash at low priority here, the test parameters not")
	}
	s := &Server{hashSem: make(chan struct{}, 1), hashQueue: make(chan struct{}, 1), hashLowPrio: true}
	var inHash int
	if err := s.withHashSlot(context.Background(), func() error { inHash = threadNice(t); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := min(19, before+10); inHash != want {
		t.Fatalf("hash ran at nice %d, want %d (the caller's is %d)", inHash, want, before)
	}
	if after := threadNice(t); after != before {
		t.Fatalf("the caller's thread changed from nice %d to %d", before, after)
	}
	for _, c := range []struct {
		p    password.Params
		low  bool
		want int
	}{
		{password.Default, true, baseProcs()}, {password.Default, false, max(1, baseProcs()-1)}, {password.Fast, false, baseProcs()},
	} {
		if d := defaultHashConcurrency(c.p, c.low); d != c.want {
			t.Errorf("default slots for %+v, low priority %t: %d, want %d", c.p, c.low, d, c.want)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	makeRoomForHashing(3)
	if got := runtime.GOMAXPROCS(0); got < baseProcs()+3 {
		t.Fatalf("GOMAXPROCS %d, want at least %d", got, baseProcs()+3)
	}
}
