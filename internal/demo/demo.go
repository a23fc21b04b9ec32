// Package demo runs the embedded reference gateway of `magdesk --demo`: magd with its demo
// data in a temporary folder on a free loopback port, trusted by the app through its CA.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/server"
)

// Demo is a running demo gateway.
type Demo struct {
	srv  *server.Server
	dir  string
	Info server.DemoInfo
	// URL and CAPEM are what the app connects with and trusts.
	URL   string
	CAPEM []byte
}

// Start opens magd with demo data in a new temporary folder and listens on 127.0.0.1:0.
func Start(log *slog.Logger) (*Demo, error) {
	dir, err := os.MkdirTemp("", "magdesk-demo-server-")
	if err != nil {
		return nil, fmt.Errorf("demo: temporary folder: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv, err := server.Open(server.Config{DataDir: dir, Addr: "127.0.0.1:0", Demo: true, SecurityQuestions: true, Logger: log})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: open the embedded gateway: %w", err)
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: start the embedded gateway: %w", err)
	}
	d := &Demo{srv: srv, dir: dir, URL: srv.URL(), CAPEM: srv.CACertPEM()}
	if info := srv.Demo(); info != nil {
		d.Info = *info
	} else {
		d.Close()
		return nil, fmt.Errorf("demo: the embedded gateway did not seed its demo data")
	}
	return d, nil
}

// Close stops the gateway and deletes its folder (all demo data is throwaway).
func (d *Demo) Close() error {
	err := d.srv.Close()
	if rerr := os.RemoveAll(d.dir); err == nil {
		err = rerr
	}
	return err
}

// MailDir is the gateway's Maildir (activation and other emails of the demo).
func (d *Demo) MailDir() string { return filepath.Join(d.dir, "mail") }

// Credentials are the demo accounts, as shown in the window and printed at start.
type Credentials struct {
	ServerURL      string `json:"server_url"`
	OrgName        string `json:"org_name"`
	AdminUserID    string `json:"admin_user_id"`
	AdminPassword  string `json:"admin_password"`
	UserUserID     string `json:"user_user_id"`
	UserPassword   string `json:"user_password"`
	SecondUserID   string `json:"second_user_id"`
	SecondPassword string `json:"second_password"`
	PendingUserID  string `json:"pending_user_id"`
	ActivationLink string `json:"activation_link"`
	MailDir        string `json:"mail_dir"`
}

// Credentials of this demo. They are throwaway: they die with the demo's temporary folder.
func (d *Demo) Credentials() Credentials {
	i := d.Info
	return Credentials{ServerURL: d.URL, OrgName: i.OrgName, AdminUserID: i.AdminUserID, AdminPassword: i.AdminPassword,
		UserUserID: i.UserUserID, UserPassword: i.UserPassword, SecondUserID: i.SecondUserID, SecondPassword: i.SecondPassword,
		PendingUserID: i.PendingUserID, ActivationLink: i.ActivationLink, MailDir: d.MailDir()}
}

// Lines is the credentials as text for people.
func (c Credentials) Lines() []string {
	return []string{
		"Demo gateway: " + c.ServerURL + " (" + c.OrgName + ")",
		"Organisation administrator: " + c.AdminUserID + " / " + c.AdminPassword,
		"User: " + c.UserUserID + " / " + c.UserPassword,
		"The user's second account: " + c.SecondUserID + " / " + c.SecondPassword,
		"Pending activation for " + c.PendingUserID + ": " + c.ActivationLink,
		"Emails of the demo: " + c.MailDir,
	}
}

// Print writes the credentials for the person who started the demo.
func (c Credentials) Print(w io.Writer) {
	fmt.Fprintln(w, "MAG Desktop demo — throwaway accounts, gone when the app closes:")
	fmt.Fprintln(w, "  "+strings.Join(c.Lines(), "\n  "))
}

// WriteFile writes the credentials as JSON (mode 0600) for scripts such as the GUI smoke
// test; the caller picks a file inside a temporary folder.
func (c Credentials) WriteFile(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// PlantSecondCertificate puts the certificate of the demo user's second account, with its
// key, into the app's own store under home, noted as belonging to that account, so the
// Error 2035 fix can be tried while logged in as the demo user.
func (d *Demo) PlantSecondCertificate(ctx context.Context, home string, opts ...certstore.FileOption) (certstore.Fingerprint, error) {
	b, err := certstore.ParsePEMIdentity(d.Info.SecondCertPEM, d.Info.SecondKeyPEM)
	if err != nil {
		return "", fmt.Errorf("demo: the second account's certificate: %w", err)
	}
	fs, err := certstore.OpenFileStore(home, opts...)
	if err != nil {
		return "", err
	}
	id, err := fs.ImportRecord(ctx, b, certstore.Record{ServerURL: d.URL, UserID: d.Info.SecondUserID,
		Source: certstore.SourceDemo, Label: "demo: certificate of the second account"})
	if err != nil {
		return "", fmt.Errorf("demo: plant the second account's certificate: %w", err)
	}
	return id.SHA256, nil
}
