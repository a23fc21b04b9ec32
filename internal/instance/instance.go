// Package instance keeps MAG Desktop to one running window per user: a second start hands its
// arguments (for example a magdesk://activate link, which carries a token) to the running one
// over a local socket and exits. The socket is in a folder only this user can enter
// (MAGDESK_HOME, or for a long home a private per-user folder), both ends check that the other
// runs as this user (the socket's owner before connecting, then the peer's credentials from the
// kernel), and nothing is sent to or taken from anyone else.
package instance

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrRunning is returned by Acquire when another instance took the arguments.
var ErrRunning = errors.New("MAG Desktop is already running; the request was handed to the open window")

// maxMessage bounds what a peer can make us read.
const maxMessage = 64 << 10

type message struct {
	Args []string `json:"args"`
}

// Instance is the running (primary) instance's listener.
type Instance struct {
	ln     net.Listener
	path   string
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

// SocketPath is where the instance of home listens: home/magdesk.sock, or, for a home too long
// for a socket path (about 100 bytes), a name derived from the home in this user's private
// runtime folder (privateDir).
func SocketPath(home string) (string, error) {
	p := filepath.Join(home, "magdesk.sock")
	if len(p) < 100 {
		return p, nil
	}
	dir, err := privateDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(home))
	return filepath.Join(dir, "magdesk-"+hex.EncodeToString(sum[:8])+".sock"), nil
}

// Acquire makes this process the primary instance for home, calling onArgs (on its own
// goroutine) whenever a later start hands over its arguments. If another instance is already
// running, args are sent to it and ErrRunning is returned: the caller should exit 0.
func Acquire(home string, args []string, onArgs func(args []string)) (*Instance, error) {
	path, err := SocketPath(home)
	if err != nil {
		return nil, fmt.Errorf("cannot make a private folder for the single-instance socket: %w; set XDG_RUNTIME_DIR or a shorter MAGDESK_HOME", err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		if err := send(path, args); err == nil {
			return nil, ErrRunning
		}
		removeStale(path)
		ln, err := listen(path)
		if err == nil {
			in := &Instance{ln: ln, path: path}
			in.wg.Add(1)
			go in.serve(onArgs)
			return in, nil
		}
		// Someone else won the race to listen: hand our args to them next time round.
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("could not check for another running MAG Desktop at %s; close other copies of the app and try again", path)
}

// Close stops listening and removes the socket.
func (in *Instance) Close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	in.mu.Unlock()
	err := in.ln.Close()
	in.wg.Wait()
	_ = os.Remove(in.path)
	return err
}

func (in *Instance) serve(onArgs func([]string)) {
	defer in.wg.Done()
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return
		}
		if !samePeer(c) {
			_ = c.Close()
			continue
		}
		m, err := receive(c)
		if err == nil && onArgs != nil {
			onArgs(m.Args)
		}
	}
}

func receive(c net.Conn) (message, error) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var m message
	line, err := bufio.NewReader(io.LimitReader(c, maxMessage)).ReadBytes('\n')
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return m, err
	}
	_, err = c.Write([]byte("ok\n"))
	return m, err
}

// errForeign is a socket or peer that is not this user's: nothing is sent to it.
var errForeign = errors.New("the single-instance socket is not this user's")

func send(path string, args []string) error {
	if err := ownSocket(path); err != nil {
		return err
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if !samePeer(c) {
		return errForeign
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := json.Marshal(message{Args: args})
	if err != nil {
		return err
	}
	if _, err := c.Write(append(b, '\n')); err != nil {
		return err
	}
	ack, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || ack != "ok\n" {
		return fmt.Errorf("the running instance did not confirm: %v", err)
	}
	return nil
}
