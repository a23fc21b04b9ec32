//go:build !windows

package instance

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// listen creates the socket readable only by this user: the folder is 0700 and the
// umask makes the socket 0600, so other users can't hand us links.
func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}

// removeStale deletes a socket file nobody answers on (left by a crash).
func removeStale(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
}
