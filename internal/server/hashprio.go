package server

import (
	"runtime"
	"sync"

	"github.com/mag-desktop/magdesk/internal/server/password"
)

// With Config.HashLowPriority (`magd serve --hash-low-priority`), Argon2id runs below the
// priority of everything else where the OS allows it: each hash on an OS thread of its own with
// a raised nice value. Go cannot prioritise goroutines, but the kernel can prioritise threads,
// provided the other goroutines have processors (Ps) of their own while every hashing slot is
// busy: so GOMAXPROCS is raised by the number of slots, and the slots default to one per CPU.
// Mixed load (magload) gains flows per second from it, but login-only throughput
// (BenchmarkLoginThroughput) loses: every wake-up of a normal-priority thread (the client's,
// the runtime's, other processes') preempts a hash and its memory in cache. So it is a choice
// for a dedicated Linux host, not the default.

// onLowPriorityThread runs fn on a new OS thread whose priority it first lowers, and reports
// whether the lowering worked (fn runs either way). The goroutine never unlocks the thread, so
// the thread ends with it and never serves other goroutines at the lowered priority.
func onLowPriorityThread(fn func() error) (lowered bool, err error) {
	type result struct {
		lowered bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		lowered := lowerThreadPriority() == nil
		done <- result{lowered, fn()}
	}()
	r := <-done
	return r.lowered, r.err
}

// lowPriorityHashing reports whether hashes can run below the other requests here.
var lowPriorityHashing = sync.OnceValue(func() bool {
	ok, _ := onLowPriorityThread(func() error { return nil })
	return ok
})

// baseProcs is GOMAXPROCS as the process started (the CPUs Go may use), before any raise.
var baseProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

// cheapHashCost is the cost (KiB of memory times passes) below which a hash takes well under a
// millisecond (the test parameters): it holds no CPU long enough to matter, and a thread of its
// own would cost more than it saves.
const cheapHashCost = 1024

func cheapHash(p password.Params) bool { return uint64(p.Memory)*uint64(p.Time) < cheapHashCost }

// hashesAtLowPriority reports whether hashes with these parameters can run on low-priority
// threads here.
func hashesAtLowPriority(p password.Params) bool { return !cheapHash(p) && lowPriorityHashing() }

// defaultHashConcurrency is a slot per CPU when hashes run at low priority or cost next to
// nothing; else one CPU is left to the other requests.
func defaultHashConcurrency(p password.Params, lowPriority bool) int {
	if cheapHash(p) || lowPriority {
		return baseProcs()
	}
	return max(1, baseProcs()-1)
}

var procsMu sync.Mutex

// makeRoomForHashing raises GOMAXPROCS (never lowers it) so that n busy low-priority hashing
// slots leave every CPU's P to the other goroutines.
func makeRoomForHashing(n int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	if want := baseProcs() + n; runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}
