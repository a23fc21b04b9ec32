package certstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

// fakeWin records system calls against an in-memory CurrentUser\MY.
type fakeWin struct {
	certs      []winCert
	keys       map[string]*Bundle // container -> key material (exportable unless in locked)
	locked     map[string]bool
	calls      []string
	failKey    error
	failCert   error
	ignoreCert bool // DeleteCert reports success but does nothing
}

func (f *fakeWin) Enum() ([]winCert, error) { return append([]winCert(nil), f.certs...), nil }

func (f *fakeWin) DeleteKey(c winCert) error {
	f.calls = append(f.calls, "key:"+c.Container)
	if f.failKey != nil {
		return f.failKey
	}
	delete(f.keys, c.Container)
	return nil
}

func (f *fakeWin) DeleteCert(der []byte) error {
	f.calls = append(f.calls, "cert")
	if f.failCert != nil {
		return f.failCert
	}
	if f.ignoreCert {
		return nil
	}
	for i, c := range f.certs {
		if bytes.Equal(c.DER, der) {
			f.certs = append(f.certs[:i], f.certs[i+1:]...)
			return nil
		}
	}
	return errors.New("not found")
}

func (f *fakeWin) ImportPFX(pfx []byte, pw string) error {
	b, err := ParsePKCS12(pfx, pw)
	if err != nil {
		return err
	}
	name := "imported-" + FingerprintOf(b.Cert).Short()
	f.keys[name] = b
	f.certs = append(f.certs, winCert{DER: b.Cert.Raw, HasKey: true, Provider: "Microsoft Software Key Storage Provider", Container: name})
	return nil
}

func (f *fakeWin) ExportPFX(der []byte, pw string) ([]byte, error) {
	for _, c := range f.certs {
		if bytes.Equal(c.DER, der) {
			if f.locked[c.Container] {
				return nil, errWinNotExportable
			}
			b := f.keys[c.Container]
			return pkcs12.LegacyDES.Encode(b.Key, b.Cert, nil, pw)
		}
	}
	return nil, errors.New("not found")
}

func newFakeWin(t *testing.T) (*fakeWin, map[string]*Bundle) {
	ca := newTestCA(t, "MAG Test CA")
	soft := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	card := ca.issue(t, "Jane Doe (PIV)", "c-2", issueOpt{})
	old := ca.issue(t, "Jane Doe", "c-3", issueOpt{})
	renewed := ca.issue(t, "Jane Doe", "c-4", issueOpt{key: old.Key})
	caOnly := ca.cert
	f := &fakeWin{
		keys:   map[string]*Bundle{"soft": soft, "card": card, "shared": old},
		locked: map[string]bool{},
		certs: []winCert{
			{DER: soft.Cert.Raw, HasKey: true, Provider: "Microsoft Software Key Storage Provider", Container: "soft"},
			{DER: card.Cert.Raw, HasKey: true, Provider: "Microsoft Smart Card Key Storage Provider", Container: "card"},
			{DER: old.Cert.Raw, HasKey: true, Provider: "Microsoft Enhanced RSA and AES Cryptographic Provider", Container: "shared", ProvType: 24},
			{DER: renewed.Cert.Raw, HasKey: true, Provider: "Microsoft Enhanced RSA and AES Cryptographic Provider", Container: "SHARED", ProvType: 24},
			{DER: caOnly.Raw},
		},
	}
	return f, map[string]*Bundle{"soft": soft, "card": card, "old": old, "renewed": renewed}
}

func TestWindowsList(t *testing.T) {
	f, b := newFakeWin(t)
	s := &WindowsStore{sys: f}
	ids, err := s.List(context.Background())
	if err != nil || len(ids) != 4 {
		t.Fatalf("list = %d, %v (the CA without a key must not be listed)", len(ids), err)
	}
	byFP := map[Fingerprint]Identity{}
	for _, id := range ids {
		byFP[id.SHA256] = id
	}
	if !byFP[FingerprintOf(b["card"].Cert)].Key.Hardware || byFP[FingerprintOf(b["soft"].Cert)].Key.Hardware {
		t.Fatal("hardware detection wrong")
	}
	if len(byFP[FingerprintOf(b["old"].Cert)].Key.SharedWith) != 1 {
		t.Fatal("shared container not detected (case-insensitive)")
	}
}

func TestWindowsRemove(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		target    string
		setup     func(*fakeWin)
		code      Code
		calls     string
		keyGone   bool
		certsLeft int
	}{
		{name: "key first, then certificate", target: "soft", calls: "key:soft,cert", keyGone: true, certsLeft: 4},
		{name: "smart card refused", target: "card", code: CodeHardwareKey, calls: "", certsLeft: 5},
		{name: "shared key kept", target: "old", calls: "cert", certsLeft: 4},
		{name: "key deletion fails: nothing removed", target: "soft", setup: func(f *fakeWin) { f.failKey = errors.New("access denied") }, code: CodeToolFailed, calls: "key:soft", certsLeft: 5},
		{name: "certificate deletion fails after key", target: "soft", setup: func(f *fakeWin) { f.failCert = errors.New("busy") }, code: CodeToolFailed, calls: "key:soft,cert", keyGone: true, certsLeft: 5},
		{name: "store lies: verification catches it", target: "soft", setup: func(f *fakeWin) { f.ignoreCert = true }, code: CodeVerifyFailed, calls: "key:soft,cert", keyGone: true, certsLeft: 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, b := newFakeWin(t)
			if c.setup != nil {
				c.setup(f)
			}
			s := &WindowsStore{sys: f}
			res, err := s.Remove(ctx, FingerprintOf(b[c.target].Cert))
			if CodeOf(err) != c.code {
				t.Fatalf("err = %v, want %q", err, c.code)
			}
			if got := strings.Join(f.calls, ","); got != c.calls {
				t.Fatalf("calls = %q, want %q", got, c.calls)
			}
			if len(f.certs) != c.certsLeft {
				t.Fatalf("certs left = %d, want %d", len(f.certs), c.certsLeft)
			}
			if c.code == "" && (!res.Verified || !res.CertRemoved || res.KeyRemoved != c.keyGone) {
				t.Fatalf("result = %+v", res)
			}
			if c.target == "old" && (res.KeySkippedReason != "shared" || f.keys["shared"] == nil) {
				t.Fatalf("shared key: %+v", res)
			}
		})
	}
}

func TestWindowsExportImport(t *testing.T) {
	ctx := context.Background()
	f, b := newFakeWin(t)
	s := &WindowsStore{sys: f}
	got, err := s.Export(ctx, FingerprintOf(b["soft"].Cert))
	if err != nil || !got.Equal(b["soft"]) {
		t.Fatalf("export: %v", err)
	}
	f.locked["soft"] = true
	if _, err := s.Export(ctx, FingerprintOf(b["soft"].Cert)); !errors.Is(err, ErrNotExportable) {
		t.Fatalf("locked export: %v", err)
	}
	if _, err := s.Export(ctx, FingerprintOf(b["card"].Cert)); !errors.Is(err, ErrNotExportable) {
		t.Fatalf("card export: %v", err)
	}
	ca := newTestCA(t, "Other CA")
	n := ca.issue(t, "New", "c-9", issueOpt{})
	id, err := s.Import(ctx, n)
	if err != nil || id.SHA256 != FingerprintOf(n.Cert) || !id.Key.Present {
		t.Fatalf("import: %+v %v", id, err)
	}
}
