package mail

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Maildir is an Outbox that stores each message as a file in dir/new, the way a mail
// delivery agent does: written to dir/tmp, synced, then renamed into dir/new, so a reader
// never sees half a message and a crash loses none that Send reported as sent.
type Maildir struct {
	dir  string
	from *netmail.Address
}

var _ Outbox = (*Maildir)(nil)

// NewMaildir opens (creating, 0700) the Maildir dir with its new, cur and tmp folders.
func NewMaildir(dir string) (*Maildir, error) {
	return newMaildir(dir, defaultFrom)
}

func newMaildir(dir, from string) (*Maildir, error) {
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q is not an email address: %w", from, err)
	}
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("mail: cannot create the mail folder %s: %w (check that the data directory is writable)", dir, err)
		}
	}
	return &Maildir{dir: dir, from: addr}, nil
}

// Send stores m in dir/new.
func (d *Maildir) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := render(m, d.from)
	if err != nil {
		return err
	}
	name := uniqueName(time.Now())
	tmp := filepath.Join(d.dir, "tmp", name)
	if err := writeSynced(tmp, data); err != nil {
		return fmt.Errorf("mail: cannot store the message in %s: %w (check free space and permissions)", d.dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(d.dir, "new", name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mail: cannot store the message in %s: %w", d.dir, err)
	}
	syncDir(filepath.Join(d.dir, "new"))
	return nil
}

// Close releases nothing: every Send is complete when it returns.
func (d *Maildir) Close() error { return nil }

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// syncDir makes a rename durable; systems that cannot sync a directory skip it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

var deliveries atomic.Uint64

// uniqueName follows the Maildir convention time.MusecPpidQn.host, plus random bits so that
// processes in different PID namespaces sharing the folder cannot collide. Q is zero-padded
// so that names sort in sending order.
func uniqueName(now time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%d.M%06dP%dQ%08dR%x.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(), deliveries.Add(1), r, host)
}

var host = func() string {
	h, _ := os.Hostname()
	h = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return -1
	}, h)
	return cmp.Or(h, "localhost")
}()

// ReadMaildir returns every message in dir/new and dir/cur, oldest first (by Date, then file
// name). Tests use it to read links and codes out of the emails magd sent.
func ReadMaildir(dir string) ([]Message, error) {
	type entry struct {
		name string
		m    Message
	}
	var all []entry
	for _, sub := range []string{"new", "cur"} {
		names, err := listFiles(filepath.Join(dir, sub))
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			path := filepath.Join(dir, sub, name)
			data, err := os.ReadFile(path)
			if errors.Is(err, os.ErrNotExist) {
				continue // moved from new to cur meanwhile: read it there
			}
			if err != nil {
				return nil, fmt.Errorf("mail: cannot read %s: %w", path, err)
			}
			m, err := parse(data)
			if err != nil {
				return nil, fmt.Errorf("mail: %s is not a readable message: %w", path, err)
			}
			all = append(all, entry{name, m})
		}
	}
	slices.SortFunc(all, func(a, b entry) int {
		return cmp.Or(a.m.Date.Compare(b.m.Date), strings.Compare(a.name, b.name))
	})
	out := make([]Message, len(all))
	for i, e := range all {
		out[i] = e.m
	}
	return out, nil
}

// listFiles lists the message files of one Maildir folder by name, skipping dot files.
func listFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mail: cannot list %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
