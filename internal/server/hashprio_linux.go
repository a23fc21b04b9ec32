package server

import "golang.org/x/sys/unix"

// lowerThreadPriority raises the nice value of the calling OS thread by 10 (to at most 19), so
// that the kernel runs magd's other threads first when both want a CPU. Linux keeps a nice
// value per thread; the caller has locked its goroutine to this thread for good.
func lowerThreadPriority() error {
	tid := unix.Gettid()
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid) // the system call answers 20 - nice
	if err != nil {
		return err
	}
	return unix.Setpriority(unix.PRIO_PROCESS, tid, min(19, 20-raw+10))
}
