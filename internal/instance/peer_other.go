//go:build !windows && !linux && !darwin

package instance

import "errors"

// peerUID cannot be read here: every peer is refused, so the second start opens a window of its
// own rather than trust an unknown process with its arguments.
func peerUID(int) (int, error) {
	return -1, errors.New("peer credentials are not available on this system")
}
