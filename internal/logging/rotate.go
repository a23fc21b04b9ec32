package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// RotatingFile is an io.Writer that appends to a file and rotates it by size: name, name.1, ...,
// name.<keep>; the oldest is dropped. Files are 0600. The GUI and the CLI may write at once:
// appends are atomic per write and rotation re-checks the size on disk first.
type RotatingFile struct {
	path    string
	maxSize int64
	keep    int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenRotating opens (creating) path for appending. maxSize is the size that triggers a
// rotation; keep is how many old files are kept.
func OpenRotating(path string, maxSize int64, keep int) (*RotatingFile, error) {
	if maxSize <= 0 || keep < 0 {
		return nil, fmt.Errorf("logging: bad rotation limits %d/%d", maxSize, keep)
	}
	r := &RotatingFile{path: path, maxSize: maxSize, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open the log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot open the log file: %w", err)
	}
	r.f, r.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past the size limit.
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	if r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

// rotate shifts name.(i) to name.(i+1), name to name.1, and opens a fresh name.
func (r *RotatingFile) rotate() error {
	cur, err1 := r.f.Stat()
	onDisk, err2 := os.Stat(r.path)
	r.f.Close()
	if err1 == nil && err2 == nil && !os.SameFile(cur, onDisk) {
		return r.open() // another process rotated already
	}
	if r.keep == 0 {
		os.Remove(r.path)
	} else {
		os.Remove(r.backup(r.keep))
		for i := r.keep - 1; i >= 1; i-- {
			os.Rename(r.backup(i), r.backup(i+1)) // missing ones are fine
		}
		if err := os.Rename(r.path, r.backup(1)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("cannot rotate the log file: %w", err)
		}
	}
	return r.open()
}

func (r *RotatingFile) backup(i int) string { return fmt.Sprintf("%s.%d", r.path, i) }

// Files lists the current file and its backups, newest first, as far as they exist.
func (r *RotatingFile) Files() []string { return LogFiles(filepath.Dir(r.path)) }

// Close closes the file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
