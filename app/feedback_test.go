package app

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// overlay is what the dialog on top shows (labels and buttons, as labels() gives them).
func (h *harness) overlay() fyne.CanvasObject {
	h.t.Helper()
	top := h.u.Win.Canvas().Overlays().Top()
	if top == nil {
		h.t.Fatal("no dialog shown")
	}
	return top
}

// find is the first object under o (renderers included) that match accepts.
func find(o fyne.CanvasObject, match func(fyne.CanvasObject) bool) fyne.CanvasObject {
	if o == nil || !o.Visible() {
		return nil
	}
	if match(o) {
		return o
	}
	var kids []fyne.CanvasObject
	switch w := o.(type) {
	case *fyne.Container:
		kids = w.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(w).Objects()
	}
	for _, k := range kids {
		if f := find(k, match); f != nil {
			return f
		}
	}
	return nil
}

// button is the visible button labelled text under o.
func (h *harness) button(o fyne.CanvasObject, text string) *widget.Button {
	h.t.Helper()
	b, _ := find(o, func(o fyne.CanvasObject) bool {
		b, ok := o.(*widget.Button)
		return ok && b.Text == text
	}).(*widget.Button)
	if b == nil {
		h.t.Fatalf("no %q button", text)
	}
	return b
}

// shownText is every text drawn under o, renderers included (what the user reads).
func shownText(o fyne.CanvasObject) string {
	var b strings.Builder
	find(o, func(o fyne.CanvasObject) bool {
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *widget.Button:
			b.WriteString("[" + w.Text + "]\n")
		}
		return false
	})
	return b.String()
}

func TestOpenApplicationSaysWhatTheBrowserDid(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	demo := h.env.Server.Demo()
	h.login(demo.UserUserID, demo.UserPassword)
	if h.u.LoggedIn() == nil {
		t.Fatalf("login: %q", h.u.login.err.Text)
	}
	var openB *widget.Button
	for k, b := range h.u.home.buttons {
		if strings.HasSuffix(k, "/"+api.ActionOpen) {
			openB = b
		}
	}
	// The browser started: Home says so.
	h.tap(openB)
	if len(h.opened) != 1 || !h.u.home.status.Visible() {
		t.Fatalf("opened %v, status shown %v", h.opened, h.u.home.status.Visible())
	}
	h.mustContain(h.u.home.status.Text, "in your browser")

	// No browser: the reason, the link and a Copy button.
	h.u.OpenURL = func(*url.URL) error { return errors.New("xdg-open failed (exit status 3): no method available") }
	h.tap(openB)
	d := h.overlay()
	text := shownText(d)
	for _, want := range []string{"Could not open your browser", "no method available", "don't send it to anyone", h.env.URL} {
		if want == "Could not open your browser" {
			h.mustContain(h.u.lastInfo, want)
			continue
		}
		h.mustContain(text, want)
	}
	copyB := h.button(d, "Copy link")
	test.Tap(copyB)
	got := h.u.App.Clipboard().Content()
	if !strings.HasPrefix(got, h.env.URL) || !strings.Contains(text, got) {
		t.Fatalf("clipboard %q is not the link shown", got)
	}
	if copyB.Text != "Copied" {
		t.Fatalf("Copy gave no feedback: %q", copyB.Text)
	}
	// Esc closes it.
	h.u.typedKey(&fyneKeyEscape)
	if h.u.TopDialog() != nil {
		t.Fatal("Esc did not close the dialog")
	}
}

func TestSaveDialogsStartInDocumentsWithANameAndShowTheFolder(t *testing.T) {
	docs := t.TempDir()
	t.Setenv("XDG_DOCUMENTS_DIR", docs)
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)

	h.u.ShowSupportBundle()
	form, ok := h.u.TopDialog().(*dialog.FormDialog)
	if !ok {
		t.Fatal("no support bundle dialog")
	}
	def := h.u.supportPath.Text
	if filepath.Dir(def) != docs || !strings.HasPrefix(filepath.Base(def), "magdesk-support-"+h.u.now().Format("2006-01-02")) {
		t.Fatalf("default path %q, want the documents folder and a dated name", def)
	}
	// Browse opens Fyne's save dialog in that folder with that name; choosing leaves no file.
	test.Tap(h.button(h.overlay(), "Browse…"))
	if _, ok := h.u.TopDialog().(*dialog.FileDialog); !ok {
		t.Fatalf("Browse opened %T", h.u.TopDialog())
	}
	name, _ := find(h.overlay(), func(o fyne.CanvasObject) bool {
		e, ok := o.(*widget.Entry)
		return ok && e.Text == filepath.Base(def)
	}).(*widget.Entry)
	if name == nil {
		t.Fatal("the save dialog does not offer the default name")
	}
	h.typeIn(name, "for-the-help-desk.zip")
	test.Tap(h.button(h.overlay(), "Choose"))
	chosen := filepath.Join(docs, "for-the-help-desk.zip")
	if h.u.supportPath.Text != chosen {
		t.Fatalf("chosen path %q, want %q", h.u.supportPath.Text, chosen)
	}
	if _, err := os.Stat(chosen); !os.IsNotExist(err) {
		t.Fatalf("choosing a name left a file behind: %v", err)
	}
	form.Submit()
	h.u.Wait()
	if _, err := os.Stat(chosen); err != nil {
		t.Fatalf("bundle not written: %v", err)
	}
	h.mustContain(h.u.lastInfo, "Support bundle written")
	h.mustContain(shownText(h.overlay()), chosen)
	h.tap(h.button(h.overlay(), "Show in folder"))
	if n := len(h.opened); n == 0 || h.opened[n-1] != "file://"+docs {
		t.Fatalf("Show in folder opened %v, want file://%s", h.opened, docs)
	}

	// A folder that can't be opened is said so, with where the file is.
	h.u.OpenURL = func(*url.URL) error { return errors.New("no file manager") }
	h.tap(h.button(h.overlay(), "Show in folder"))
	h.mustContain(shownText(h.overlay()), "could not be opened (no file manager)")
}
