//go:build windows

package instance

import (
	"net"
	"os"
	"path/filepath"
)

// listen uses an AF_UNIX socket, which Windows 10 1803+ supports; the file lives in the
// user's profile folder (MAGDESK_HOME), whose ACL already limits it to this user.
func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return net.Listen("unix", path)
}

// removeStale deletes a socket file nobody answers on. Windows reports AF_UNIX socket files
// as irregular reparse points, so any non-directory at our own path is removed.
func removeStale(path string) {
	if fi, err := os.Lstat(path); err == nil && !fi.IsDir() {
		_ = os.Remove(path)
	}
}
