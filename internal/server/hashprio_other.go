//go:build !linux

package server

import "errors"

// lowerThreadPriority needs a per-thread priority, which only Linux offers this way; elsewhere
// hashes run at normal priority and the default HashConcurrency leaves a CPU free instead.
func lowerThreadPriority() error { return errors.ErrUnsupported }
