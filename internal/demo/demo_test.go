package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/secrets"
)

func TestMain(m *testing.M) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

func TestDemoGatewayCredentialsAndPlantedCertificate(t *testing.T) {
	d, err := Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := d.dir
	c := d.Credentials()
	if !strings.HasPrefix(c.ServerURL, "https://127.0.0.1:") || c.UserUserID == "" || c.UserPassword == "" ||
		c.AdminUserID == "" || !strings.HasPrefix(c.ActivationLink, "magdesk://activate?token=") {
		t.Fatalf("credentials: %+v", c)
	}

	// The app trusts the demo CA and the demo user can log in.
	cl, err := client.New(client.Options{ServerURL: d.URL, CAPEM: d.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cl.Login(ctx, c.UserUserID, c.UserPassword, ""); err != nil {
		t.Fatalf("demo login: %v", err)
	}
	// The pending activation link is valid.
	tok, err := client.ParseActivationLink(c.ActivationLink)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := cl.InspectActivation(ctx, tok); err != nil || info.UserID != c.PendingUserID {
		t.Fatalf("inspect pending link: %+v %v", info, err)
	}

	// The second account's certificate lands in the app's store, noted as that account's.
	home := t.TempDir()
	// In memory, as `magdesk --demo` keeps it: the demo's secrets stay out of the keyring.
	kr := secrets.NewMemory()
	fp, err := d.PlantSecondCertificate(ctx, home, certstore.WithKeyring(kr))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := certstore.OpenFileStore(home, certstore.WithKeyring(kr))
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := fs.Records()
	if len(recs) != 1 || recs[0].SHA256 != fp || recs[0].UserID != c.SecondUserID {
		t.Fatalf("records: %+v", recs)
	}
	if b, err := fs.Export(ctx, fp); err != nil || b.Key == nil {
		t.Fatalf("the planted identity has no usable key: %v", err)
	}

	// Credentials for scripts: a 0600 file; printed for people.
	p := filepath.Join(home, "creds.json")
	if err := c.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	var back Credentials
	b, _ := os.ReadFile(p)
	if fi.Mode().Perm() != 0o600 || json.Unmarshal(b, &back) != nil || back != c {
		t.Fatalf("credentials file: mode %v %+v", fi.Mode().Perm(), back)
	}
	var out bytes.Buffer
	c.Print(&out)
	if !strings.Contains(out.String(), c.UserUserID+" / "+c.UserPassword) {
		t.Fatalf("printed: %s", out.String())
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("the demo data folder was left behind")
	}
}
