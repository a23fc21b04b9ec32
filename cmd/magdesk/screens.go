package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/mag-desktop/magdesk/app"
	"github.com/mag-desktop/magdesk/internal/demo"
)

// recordScreens is `make screens` (MAGDESK_SCREENS=dir with --demo): the window at 800x600
// walks through every screen and dialog, ImageMagick's import takes a PNG of the window from
// the X server for each, in both themes, then the app quits.
func recordScreens(u *app.UI, a fyne.App, w fyne.Window, c demo.Credentials, dir string, log *slog.Logger) {
	w.Resize(fyne.NewSize(800, 600))
	scratch, err := os.MkdirTemp("", "magdesk-screens-")
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		log.Error("screens", "err", err)
		return
	}
	acc := app.GalleryAccounts{UserID: c.UserUserID, UserPassword: c.UserPassword, AdminID: c.AdminUserID,
		AdminPassword: c.AdminPassword, ActivationLink: c.ActivationLink, Scratch: scratch}
	snap := func(name string) error {
		win, err := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+app.Title).Output()
		if err != nil {
			return fmt.Errorf("find the window: %w", err)
		}
		ids := strings.Fields(string(win))
		if len(ids) == 0 {
			return fmt.Errorf("no %s window is visible", app.Title)
		}
		out, err := exec.Command("import", "-window", ids[0], filepath.Join(dir, name+".png")).CombinedOutput()
		if err != nil {
			return fmt.Errorf("import %s: %v %s", name, err, out)
		}
		return nil
	}
	u.RecordGallery(acc, snap, func(err error) {
		os.RemoveAll(scratch)
		if err != nil {
			log.Error("screens", "err", err)
			fmt.Fprintln(os.Stderr, "magdesk: screens:", err)
		} else {
			log.Info("screens written", "dir", dir)
		}
		fyne.Do(a.Quit)
	})
}
