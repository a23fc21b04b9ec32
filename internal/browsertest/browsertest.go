// Package browsertest drives a real headless Chromium (Debian's /usr/bin/chromium) through the
// DevTools protocol (chromedp) for tests of browser flows. Each Browser has a fresh profile and
// a HOME of its own whose NSS database trusts the test CA, so TLS is verified as a user's
// browser verifies it (no --ignore-certificate-errors).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mag-desktop/magdesk/internal/testenv"
)

// Browser is one running Chromium.
type Browser struct {
	ctx context.Context
	t   testing.TB
}

// Start runs Chromium trusting caPEM for the rest of the test (skips where Chromium or
// certutil is missing, fails under scripts/test.sh).
func Start(t testing.TB, caPEM []byte) *Browser {
	t.Helper()
	chromium := testenv.NeedTool(t, "chromium")
	certutil := testenv.NeedTool(t, "certutil")
	home := t.TempDir()
	nss := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nss, 0o700); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-d", "sql:" + nss, "-N", "--empty-password"},
		{"-d", "sql:" + nss, "-A", "-t", "C,,", "-n", "magd test CA", "-i", ca},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Env("HOME=" + home),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.WSURLReadTimeout(60 * time.Second),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser on ctx (a deadline on it would end the browser too),
	// so the wait for a browser that never comes up is bounded here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("chromium did not start within 90 s")
	}
	return &Browser{ctx: ctx, t: t}
}

// Page is what the browser shows after a navigation has settled.
type Page struct {
	URL, Text string
}

// Open navigates to url, waits until the page at the end of its redirects and auto-submitted
// forms shows an element matching the CSS selector until, and returns it.
func (b *Browser) Open(url, until string) Page {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(until)))
	var p Page
	if err == nil {
		p, err = b.page(ctx)
	}
	if err != nil {
		sctx, scancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer scancel()
		now, _ := b.page(sctx)
		b.t.Fatalf("open %s (waiting for %s): %v\nthe browser is at %s:\n%s", url, until, err, now.URL, now.Text)
	}
	return p
}

func (b *Browser) page(ctx context.Context) (Page, error) {
	var p Page
	var err error
	if p.URL, err = chromedp.Run(ctx, chromedp.Location()); err != nil {
		return p, err
	}
	p.Text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return p, err
}

// Text returns the text of the element matching the CSS selector sel on the current page.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}
