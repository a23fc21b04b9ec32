package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/mag-desktop/magdesk/app"
	"github.com/mag-desktop/magdesk/config"
	"github.com/mag-desktop/magdesk/demo"
	"github.com/mag-desktop/magdesk/desk"
	"github.com/mag-desktop/magdesk/instance"
	"github.com/mag-desktop/magdesk/logging"
	"github.com/mag-desktop/magdesk/version"
)

// runGUI starts the window: settings, log, single instance, the demo gateway when asked,
// then the Fyne app. Arguments: [--demo] [--log-level L] [magdesk://activate?token=...].
func runGUI(args []string) int {
	fs := flag.NewFlagSet("magdesk", flag.ContinueOnError)
	demoMode := fs.Bool("demo", false, "run against an embedded gateway with demo data")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default: settings)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	links := fs.Args()

	home, err := guiHome(*demoMode)
	if err != nil {
		fmt.Fprintln(os.Stderr, "magdesk:", err)
		return 1
	}
	eff, err := config.Load(home)
	if err != nil {
		// A bad policy or settings file is reported; the app still starts with the rest.
		fmt.Fprintln(os.Stderr, "magdesk: settings:", err)
	}
	level := eff.LogLevel
	if *logLevel != "" {
		level = *logLevel
	}
	log, err := logging.Setup(home, level)
	if err != nil {
		fmt.Fprintln(os.Stderr, "magdesk: log:", err)
		log = slog.New(slog.DiscardHandler)
	}
	if *demoMode && eff.DisableDemo {
		fmt.Fprintln(os.Stderr, "magdesk: demo mode is switched off by your organisation's policy")
		return 1
	}

	var ui atomic.Pointer[app.UI]
	inst, err := instance.Acquire(home, links, func(a []string) {
		log.Info("arguments from a second start", "count", len(a))
		if u := ui.Load(); u != nil {
			u.HandleArgs(a)
		}
	})
	if errors.Is(err, instance.ErrRunning) {
		fmt.Fprintln(os.Stderr, "magdesk:", err)
		return 0
	}
	if err != nil {
		log.Warn("single-instance check failed", "err", err)
	} else {
		defer inst.Close()
	}

	opts := desk.Options{Home: home, Settings: eff, Log: log, Version: version.Version}
	var creds *demo.Credentials
	if *demoMode {
		d, err := demo.Start(log)
		if err != nil {
			fmt.Fprintln(os.Stderr, "magdesk:", err)
			return 1
		}
		defer d.Close()
		opts.Demo = &desk.DemoServer{URL: d.URL, CAPEM: d.CAPEM}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if fp, err := d.PlantSecondCertificate(ctx, home); err != nil {
			log.Warn("demo certificate not planted", "err", err)
		} else {
			log.Info("demo certificate of the second account planted", "sha256", string(fp))
		}
		cancel()
		c := d.Credentials()
		creds = &c
		c.Print(os.Stdout)
		if p := os.Getenv("MAGDESK_DEMO_CREDENTIALS"); p != "" {
			if err := c.WriteFile(p); err != nil {
				log.Warn("demo credentials file not written", "err", err)
			}
		}
	}

	a := fyneapp.NewWithID(config.BundleID)
	w := a.NewWindow(app.Title)
	w.Resize(fyne.NewSize(960, 720))
	svc := desk.NewService(opts)
	u := app.New(a, w, svc)
	u.OnScreen = func(name string) { log.Info("screen", "name", name) }
	if creds != nil {
		u.SetDemo(&app.Demo{Lines: creds.Lines(), ActivationLink: creds.ActivationLink})
	}
	ui.Store(u)
	a.Lifecycle().SetOnStarted(func() { log.Info("window shown", "version", version.Version, "demo", *demoMode) })
	u.Start(links)
	if warn := svc.KeyringWarning(); warn != "" {
		log.Warn("keyring", "warning", warn)
	}
	w.ShowAndRun()
	u.Close()
	return 0
}

// guiHome is MAGDESK_HOME; the demo without one uses a fresh temporary home so the user's own
// settings and certificate store are not touched.
func guiHome(demoMode bool) (string, error) {
	if demoMode && os.Getenv("MAGDESK_HOME") == "" {
		return os.MkdirTemp("", "magdesk-demo-home-")
	}
	return config.Home()
}
