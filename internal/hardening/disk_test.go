package hardening

import (
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite" // the driver magd uses, to check the database from outside

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// TestFullDisk runs magd on a 2 MB tmpfs, fills it, and checks that every write answers a
// clear catalogued problem (no 500), that reads keep working, that writes work again once space
// is freed, and that the database is intact afterwards.
func TestFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mountTmpfs(t, dir, "2m")
	// Registered after the mount, so it runs before the unmount.
	w := newWorld(t, servertest.WithSQLite(), servertest.WithConfig(func(c *server.Config) { c.DataDir = dir }))
	c := w.rawClient(t)
	login := func() answer {
		t.Helper()
		a, err := w.send(c, rawReq{method: "POST", path: api.PathLogin, ctype: "application/json",
			body: mustJSON(api.LoginRequest{UserID: w.admin, Password: pwAdmin})})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return a
	}
	writes := []struct {
		name string
		do   func() answer
	}{
		{"login", login},
		{"wrong password (counts a failure)", func() answer {
			a, _ := w.send(c, rawReq{method: "POST", path: api.PathLogin, ctype: "application/json",
				body: mustJSON(api.LoginRequest{UserID: w.other, Password: "wrong password here"})})
			return a
		}},
		{"TOTP enrolment", func() answer {
			a, _ := w.send(c, rawReq{method: "POST", path: api.PathTOTP, ctype: "application/json", body: []byte("{}"), authz: "Bearer " + w.otherTok})
			return a
		}},
		{"certificate request", func() answer {
			a, _ := w.send(c, rawReq{method: "POST", path: api.PathCertificates, ctype: "application/json", authz: "Bearer " + w.userTok,
				body: mustJSON(api.CSRRequest{CSRPEM: csrPEM(t, newP256(t))})})
			return a
		}},
		{"launch", func() answer {
			a, _ := w.send(c, rawReq{method: "POST", path: fill(api.PathLaunch, map[string]string{"app": appGranted}), ctype: "application/json",
				body: []byte("{}"), authz: "Bearer " + w.userTok})
			return a
		}},
	}
	filler := filepath.Join(dir, "filler")
	n := fillDisk(t, filler, 4<<20)
	t.Logf("filled the data folder with %d bytes", n)
	full := 0
	for round := range 20 {
		for _, wr := range writes {
			a := wr.do()
			if round == 0 {
				t.Logf("full disk, %s: %d %.120s", wr.name, a.status, a.body)
			}
			if a.status/100 == 2 {
				continue
			}
			p, err := problemIn(a, 400, 599)
			if err != nil {
				t.Fatalf("round %d, %s on a full disk: %v", round, wr.name, err)
			}
			if p.Code == api.CodeStorageFull {
				full++
			} else if p.Code != api.CodeInvalidCredentials {
				t.Fatalf("round %d, %s on a full disk: %s %q, want STORAGE_FULL", round, wr.name, p.Code, p.Detail)
			}
		}
		if full >= 5 {
			break
		}
	}
	if full == 0 {
		t.Fatal("no write was refused with STORAGE_FULL on a full disk")
	}
	// Reads still work.
	if a, err := w.send(c, rawReq{method: "GET", path: api.PathMyApplications, authz: "Bearer " + w.userTok}); err != nil || a.status != http.StatusOK {
		t.Fatalf("reading on a full disk: %d %v %.200q", a.status, err, a.body)
	}
	w.metaUp(t, c)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if a := login(); a.status != http.StatusOK {
		t.Fatalf("login after freeing space: %d %.300q", a.status, a.body)
	}
	if err := w.env.Server.Close(); err != nil {
		t.Fatalf("close magd: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "magd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check after the full disk: %q %v", res, err)
	}
	var accounts int
	if err := db.QueryRow("SELECT COUNT(*) FROM accounts WHERE status = 'active'").Scan(&accounts); err != nil || accounts != 4 {
		t.Fatalf("active accounts after the full disk: %d %v", accounts, err)
	}
	t.Logf("%d writes refused with STORAGE_FULL; database intact", full)
}
