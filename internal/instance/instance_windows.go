//go:build windows

package instance

import (
	"errors"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// listen uses an AF_UNIX socket (Windows 10 1803+) and gives it a protected security
// descriptor that lets only this user in: connecting needs write access to the socket file.
func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(path, false); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return ln, nil
}

// ownerOnly replaces the DACL of path with one entry, full access for this user, not inherited
// from the parent (inherit: passed on to what is created inside a folder).
func ownerOnly(path string, inherit bool) error {
	sid, err := currentUser()
	if err != nil {
		return err
	}
	flags := ""
	if inherit {
		flags = "OICI"
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;" + flags + ";GA;;;" + sid.String() + ")")
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

func currentUser() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, err
	}
	return u.User.Sid, nil
}

// removeStale deletes a socket file nobody answers on. Windows reports AF_UNIX socket files
// as irregular reparse points, so any non-directory at our own path is removed.
func removeStale(path string) {
	if fi, err := os.Lstat(path); err == nil && !fi.IsDir() {
		_ = os.Remove(path)
	}
}

// privateDir is a folder of this user's local application data with an owner-only DACL.
func privateDir() (string, error) {
	base := os.Getenv("LOCALAPPDATA")
	if base == "" {
		return "", errors.New("LOCALAPPDATA is not set")
	}
	d := filepath.Join(base, "MAG Desktop", "run")
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	return d, ownerOnly(d, true)
}

// ownSocket checks, before connecting, that this user owns the socket file.
func ownSocket(path string) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return err
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return err
	}
	me, err := currentUser()
	if err != nil {
		return err
	}
	if !owner.Equals(me) {
		return errForeign
	}
	return nil
}

// samePeer: Windows records no peer credentials on AF_UNIX sockets that Go can read; the
// owner-only DACL of the socket (listen) and its owner check (ownSocket) keep other users out.
func samePeer(net.Conn) bool { return true }
