package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/mag-desktop/magdesk/app"
	"github.com/mag-desktop/magdesk/assets"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/demo"
	"github.com/mag-desktop/magdesk/internal/instance"
	"github.com/mag-desktop/magdesk/internal/logging"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/service"
	"github.com/mag-desktop/magdesk/internal/version"
)

// runGUI starts the window: settings, log, single instance, the demo gateway when asked,
// then the Fyne app. Arguments: [--demo] [--log-level L] [magdesk://activate?token=...].
// Nothing slow (keyring, demo gateway) runs before the first frame.
func runGUI(args []string) int {
	fs := flag.NewFlagSet("magdesk", flag.ContinueOnError)
	demoMode := fs.Bool("demo", false, "run against an embedded gateway with demo data")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default: settings)")
	autostart := fs.Bool(strings.TrimPrefix(service.AutostartFlag, "--"), false, "started at login (opens in the tray when start_minimised is set)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	links := fs.Args()

	home, tempHome, err := guiHome(*demoMode)
	if err != nil {
		fmt.Fprintln(os.Stderr, "magdesk:", err)
		return 1
	}
	if tempHome {
		defer os.RemoveAll(home) // the demo's throwaway home goes with it
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

	a := fyneapp.NewWithID(config.BundleID)
	// The packaged builds embed the icon through FyneApp.toml; a plain `go build` does not, and
	// without it the window and the tray have none (the tray logs "unknown format").
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow(app.Title)
	w.Resize(fyne.NewSize(960, 720))
	opts := service.Options{Home: home, Settings: eff, Log: log, Version: version.Version}
	var demoKeyring *secrets.Memory
	if *demoMode {
		// The demo's throwaway secrets stay in memory, out of the user's keyring.
		demoKeyring = secrets.NewMemory()
		opts.Keyring = demoKeyring
	}
	svc := service.NewService(opts)
	u := app.New(a, w, svc)
	u.OnScreen = func(name string) { log.Info("screen", "name", name) }
	u.InstallDaily()
	if !*demoMode { // the demo's throwaway home must not touch the user's start-at-login entry
		go func() {
			// A policy may have switched start at login on or off since the last run.
			if err := svc.ApplyAutostart(); err != nil {
				log.Warn("start at login", "err", err)
			}
		}()
	}
	ui.Store(u)
	var demoDone chan *demo.Demo
	if *demoMode {
		u.ShowWaiting("Starting the demo gateway…")
		demoDone = make(chan *demo.Demo, 1)
	} else {
		u.Start(links)
	}
	a.Lifecycle().SetOnStarted(func() {
		log.Info("window shown", "version", version.Version, "demo", *demoMode)
		// Building the first screens leaves garbage; hand it back once the window is idle.
		time.AfterFunc(2*time.Second, debug.FreeOSMemory)
		time.AfterFunc(menuDelay, func() { fyne.Do(u.InstallMenu) })
		if demoDone == nil {
			go func() {
				if warn := svc.KeyringWarning(); warn != "" {
					log.Warn("keyring", "warning", warn)
					fyne.Do(func() { u.Notice("Your login is not remembered", warn) })
				}
			}()
			return
		}
		// The gateway starts once the window has drawn its first frames, so its key
		// generation and password hashing don't compete with them for the CPU (Fyne has no
		// "frame drawn" event; started is before the first paint).
		time.AfterFunc(firstFrameGrace, func() {
			d := startDemo(home, log, certstore.WithKeyring(demoKeyring))
			demoDone <- d
			if d == nil {
				fyne.Do(func() { u.ShowConnect() })
				return
			}
			c := d.Credentials()
			fyne.Do(func() {
				svc.SetDemo(&service.DemoServer{URL: d.URL, CAPEM: d.CAPEM})
				u.SetDemo(&app.Demo{Lines: c.Lines(), ActivationLink: c.ActivationLink})
				u.Start(links)
				if dir := os.Getenv("MAGDESK_SCREENS"); dir != "" {
					recordScreens(u, a, w, c, dir, log)
				}
			})
			// Seeding hashed passwords with Argon2id; give that memory back now.
			debug.FreeOSMemory()
		})
	})
	// Ctrl+C in the terminal (make demo) or a logout's SIGTERM quits like the window's Quit,
	// so the demo's temporary gateway and home are removed.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sigs; ok {
			log.Info("quitting on a signal")
			fyne.Do(a.Quit)
		}
	}()
	if *autostart && svc.DailySettings().StartMinimised && u.TrayAvailable() {
		a.Run() // in the tray only, until "Open MAG Desktop"
	} else {
		w.ShowAndRun()
	}
	signal.Stop(sigs)
	close(sigs)
	u.Close()
	if demoDone != nil {
		if d := <-demoDone; d != nil {
			d.Close()
		}
	}
	return 0
}

// menuDelay is how long the main menu waits for the first frame (see app.UI.InstallMenu).
const menuDelay = 150 * time.Millisecond

// firstFrameGrace is how long background start-up work waits for the window to draw.
const firstFrameGrace = 300 * time.Millisecond

// startDemo starts the embedded gateway, plants the second account's certificate and prints
// the credentials (and writes them where MAGDESK_DEMO_CREDENTIALS says, for scripts).
func startDemo(home string, log *slog.Logger, opts ...certstore.FileOption) *demo.Demo {
	d, err := demo.Start(log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "magdesk:", err)
		log.Error("demo gateway", "err", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if fp, err := d.PlantSecondCertificate(ctx, home, opts...); err != nil {
		log.Warn("demo certificate not planted", "err", err)
	} else {
		log.Info("demo certificate of the second account planted", "sha256", string(fp))
	}
	c := d.Credentials()
	c.Print(os.Stdout)
	if p := os.Getenv("MAGDESK_DEMO_CREDENTIALS"); p != "" {
		if err := c.WriteFile(p); err != nil {
			log.Warn("demo credentials file not written", "err", err)
		}
	}
	log.Info("demo gateway ready", "url", d.URL)
	return d
}

// guiHome is MAGDESK_HOME; the demo without one uses a fresh temporary home (temp true) so
// the user's own settings and certificate store are not touched.
func guiHome(demoMode bool) (home string, temp bool, err error) {
	if demoMode && os.Getenv("MAGDESK_HOME") == "" {
		home, err = os.MkdirTemp("", "magdesk-demo-home-")
		return home, err == nil, err
	}
	home, err = config.Home()
	return home, false, err
}
