package app

import (
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/userdirs"
)

// The file dialogs are Fyne's on every system, not the desktop portal (rymdport/portal) on
// Linux: the portal is there only when xdg-desktop-portal and a desktop backend run, which
// many managed Linux images and every headless test lack, so Fyne's dialog would be needed
// anyway; one dialog everywhere is also the one the keyboard tests and the screen gallery
// cover. Each path keeps its entry, so a user (or IT's instructions) can still type one.

// pathField is a path entry with a Browse… button that opens the file dialog where the entry
// points (else at dir), with the entry's file name filled in when saving.
type pathField struct {
	u      *UI
	entry  *escEntry
	browse *widget.Button
	dir    string
	save   bool
	exts   []string
	box    fyne.CanvasObject
}

// savePath is a field for a file to write, filled in with dir/name.
func (u *UI) savePath(dir, name string, exts ...string) *pathField {
	p := u.newPathField(dir, true, exts)
	p.entry.SetText(filepath.Join(dir, name))
	return p
}

// openPath is a field for a file to read; Browse starts in dir.
func (u *UI) openPath(dir, placeholder string, exts ...string) *pathField {
	p := u.newPathField(dir, false, exts)
	p.entry.SetPlaceHolder(placeholder)
	return p
}

func (u *UI) newPathField(dir string, save bool, exts []string) *pathField {
	p := &pathField{u: u, entry: u.dialogEntry(false), dir: dir, save: save, exts: exts}
	p.browse = widget.NewButtonWithIcon("Browse…", theme.FolderOpenIcon(), p.choose)
	p.box = container.NewBorder(nil, nil, nil, p.browse, p.entry)
	return p
}

// documentsDir is where files are saved by default.
func documentsDir() string { return userdirs.Documents() }

// Path is the path as typed or chosen.
func (p *pathField) Path() string { return strings.TrimSpace(p.entry.Text) }

// start is the folder the dialog opens at: the entry's folder when it exists.
func (p *pathField) start() (dir, name string) {
	dir, name = p.dir, ""
	if cur := p.Path(); cur != "" {
		if st, err := os.Stat(filepath.Dir(cur)); err == nil && st.IsDir() {
			dir = filepath.Dir(cur)
		}
		name = filepath.Base(cur)
	}
	return dir, name
}

func (p *pathField) choose() {
	dir, name := p.start()
	var d *dialog.FileDialog
	if p.save {
		d = dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			p.chosenForSave(w)
		}, p.u.Win)
		d.SetFileName(name)
		d.SetConfirmText("Choose")
	} else {
		d = dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			_ = r.Close()
			p.entry.SetText(r.URI().Path())
		}, p.u.Win)
	}
	if l, err := storage.ListerForURI(storage.NewFileURI(dir)); err == nil {
		d.SetLocation(l)
	}
	if len(p.exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(p.exts))
	}
	d.Resize(fileDialogSize(p.u.Win))
	p.u.showDialog(d)
}

// chosenForSave takes the path from Fyne's save dialog, which has already created the file
// (empty) or, after the user agreed to replace it, emptied it. The app writes the file only
// when the user confirms the form, and the writers refuse to replace a file, so the empty file
// is removed again now.
func (p *pathField) chosenForSave(w fyne.URIWriteCloser) {
	path := w.URI().Path()
	_ = w.Close()
	if st, err := os.Stat(path); err == nil && st.Size() == 0 {
		_ = os.Remove(path)
	}
	p.entry.SetText(path)
	p.u.focus(p.entry)
}

// fileDialogSize fits the file dialog in the window, down to 800x600.
func fileDialogSize(w fyne.Window) fyne.Size {
	s := w.Canvas().Size()
	return fyne.NewSize(max(s.Width-40, 360), max(s.Height-40, 300))
}

// datedName is base-<account>-<date>.ext, safe as a file name.
func datedName(base, account string, day string, ext string) string {
	parts := []string{base}
	if account != "" {
		parts = append(parts, account)
	}
	return fileName(strings.Join(append(parts, day), "-")) + ext
}

// Disable locks the field (a setting fixed by policy).
func (p *pathField) Disable() { p.entry.Disable(); p.browse.Disable() }

// Enable unlocks the field.
func (p *pathField) Enable() { p.entry.Enable(); p.browse.Enable() }

// Disabled reports whether the field is locked.
func (p *pathField) Disabled() bool { return p.entry.Disabled() }
