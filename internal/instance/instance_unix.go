//go:build !windows

package instance

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// listen creates the socket readable only by this user: the umask makes it 0600, so other
// users cannot connect to hand us links (and the folder is private, see SocketPath).
func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}

// removeStale deletes a socket file nobody answers on (left by a crash), or one that is not
// this user's, in this user's own folder.
func removeStale(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
}

// privateDir is $XDG_RUNTIME_DIR when it is this user's private folder, else a 0700 folder of
// this user's in the temp folder. A folder there that someone else made, or opened to others,
// is refused rather than used.
func privateDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) && ownPrivateDir(d) == nil {
		return d, nil
	}
	d := filepath.Join(os.TempDir(), fmt.Sprintf("magdesk-%d", os.Getuid()))
	if err := os.Mkdir(d, 0o700); err != nil && !os.IsExist(err) {
		return "", err
	}
	return d, ownPrivateDir(d)
}

// ownPrivateDir checks that d is a real folder (not a link) of this user that only it can use.
func ownPrivateDir(d string) error {
	fi, err := os.Lstat(d)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", d)
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("%s belongs to another user", d)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s is open to other users (mode %v)", d, fi.Mode().Perm())
	}
	return nil
}

// ownSocket checks, before connecting, that path is a socket owned by this user.
func ownSocket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || fi.Mode()&os.ModeSocket == 0 || int(st.Uid) != os.Getuid() {
		return errForeign
	}
	return nil
}

// samePeer says whether the process at the other end of c runs as this user, from the
// credentials the kernel recorded for it.
func samePeer(c net.Conn) bool {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	uid, perr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) { uid, perr = peerUID(int(fd)) }); err != nil || perr != nil {
		return false
	}
	return uid == os.Getuid()
}
