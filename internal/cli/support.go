package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/logging"
	"github.com/mag-desktop/magdesk/internal/support"
	"github.com/mag-desktop/magdesk/internal/version"
)

// runSupportBundle is magdesk support-bundle FILE: a zip for the help desk with versions, the
// settings and their sources, the last log lines and the certificate inventory — no secrets.
func runSupportBundle(e *Env, args []string) int {
	fs := e.Flags("support-bundle")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 1, "FILE (the zip to write)")
	}
	if err != nil {
		return e.Fail(err)
	}
	path, err := filepath.Abs(pos[0])
	if err != nil {
		return e.Fail(err)
	}
	_, settingsErr := config.Load(e.Home) // the problems, for the bundle; e.Settings has the values
	certs, problems := support.CertsFromStores(e.Context(), supportStores(e))
	in := support.Inputs{
		AppVersion: version.Version, Settings: e.Settings, SettingsErr: settingsErr,
		LogDir: logging.Dir(e.Home), Certs: certs, CertErrors: problems,
		Doctor: e.doctor(""),
	}
	if err := support.WriteFile(path, in); err != nil {
		return e.Fail(err)
	}
	e.Log.Info("support bundle written", "file", path, "certificates", len(certs))
	return e.Output(map[string]any{"file": path, "certificates": len(certs), "store_problems": problems}, func(w io.Writer) {
		fmt.Fprintf(w, "Support bundle written to %s (%d certificates listed", path, len(certs))
		if len(problems) > 0 {
			fmt.Fprintf(w, "; %d stores could not be read", len(problems))
		}
		fmt.Fprintln(w, "). It contains no password, token or private key.")
	})
}

// supportStores opens the stores the settings ask for that exist on this system. The
// certificate commands own store discovery; this should become their shared function.
func supportStores(e *Env) []certstore.Store {
	var stores []certstore.Store
	want := e.Settings.CertStores
	if slices.Contains(want, "file") {
		if fs, err := certstore.OpenFileStore(e.Home); err == nil {
			stores = append(stores, fs)
		} else {
			e.Log.Warn("file store not available for the support bundle", "err", err)
		}
	}
	if slices.Contains(want, "nss") {
		for _, db := range certstore.DiscoverNSS(certstore.DiscoverOptions{}) {
			stores = append(stores, certstore.NewNSSStore(db.Dir, db.Label, nil))
		}
	}
	return stores
}
