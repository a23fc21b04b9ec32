package certstore

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// This file holds the decisions of the Windows backend (what to delete, in which order, what to
// refuse). It builds on every OS so that it is tested over fake system calls; the calls
// themselves are in wincert_windows.go.

// winCert is one certificate of CurrentUser\MY as the system layer reports it. The key facts
// come from CERT_KEY_PROV_INFO_PROP_ID, read without opening the key (no PIN prompt).
type winCert struct {
	DER          []byte
	FriendlyName string
	HasKey       bool   // a CERT_KEY_PROV_INFO property is present
	Provider     string // KSP (CNG) or CSP (CryptoAPI) name
	Container    string
	ProvType     uint32 // 0 = CNG key storage provider
	KeySpec      uint32
	Flags        uint32 // CRYPT_MACHINE_KEYSET etc.
}

// winSystem is the system layer: crypt32 and ncrypt on Windows, a fake in tests.
type winSystem interface {
	Enum() ([]winCert, error)
	DeleteKey(c winCert) error
	DeleteCert(der []byte) error
	ImportPFX(pfx []byte, password string) error
	ExportPFX(der []byte, password string) ([]byte, error)
}

// errWinNotExportable is what the system layer returns when the key refuses export
// (NTE_BAD_KEY_STATE / NTE_PERM).
var errWinNotExportable = errors.New("the private key is marked as not exportable")

// WindowsStore is CurrentUser\MY (Personal), the store Edge, Chrome and (through osclientcerts)
// Firefox offer client certificates from.
type WindowsStore struct{ sys winSystem }

// Location implements Store.
func (s *WindowsStore) Location() Location {
	return Location{Backend: "windows", Store: `CurrentUser\MY`, Label: "Windows: Current User / Personal"}
}

// hardwareProviders are substrings of key provider names that mean a smart card, token or TPM.
var hardwareProviders = []string{"smart card", "smartcard", "platform crypto", "etoken", "safenet", "yubi", "piv", "gemalto", "idprime", "activclient", "token", "luna", "cac "}

func isHardwareProvider(name string) bool {
	n := strings.ToLower(name)
	for _, h := range hardwareProviders {
		if strings.Contains(n, h) {
			return true
		}
	}
	return false
}

func (s *WindowsStore) identities() ([]Identity, []winCert, error) {
	certs, err := s.sys.Enum()
	if err != nil {
		return nil, nil, newErr(CodeStoreUnavailable, "windows list", err, `cannot open CurrentUser\MY`)
	}
	var ids []Identity
	var kept []winCert
	for _, wc := range certs {
		if !wc.HasKey {
			continue
		}
		c, err := x509.ParseCertificate(wc.DER)
		if err != nil {
			continue
		}
		id := newIdentity(c, s.Location())
		id.Nickname = wc.FriendlyName
		id.Key = KeyInfo{Present: true, Exportable: Unknown, Provider: wc.Provider, Container: wc.Container, Hardware: isHardwareProvider(wc.Provider)}
		ids = append(ids, id)
		kept = append(kept, wc)
	}
	// A key container used by two certificates (a renewal, a copy) must outlive either.
	for i := range ids {
		for j := range ids {
			if i != j && kept[i].Provider == kept[j].Provider && strings.EqualFold(kept[i].Container, kept[j].Container) {
				ids[i].Key.SharedWith = append(ids[i].Key.SharedWith, string(ids[j].SHA256))
			}
		}
	}
	return ids, kept, nil
}

// List implements Store.
func (s *WindowsStore) List(ctx context.Context) ([]Identity, error) {
	ids, _, err := s.identities()
	return ids, err
}

// Remove implements Store: refuse hardware keys; delete the key first (so that a failure
// leaves the certificate, and a retry can finish), then the certificate; keep a key another
// certificate uses; list again to prove both are gone.
func (s *WindowsStore) Remove(ctx context.Context, fp Fingerprint) (RemoveResult, error) {
	const op = "windows remove"
	res := RemoveResult{Fingerprint: fp, Location: s.Location()}
	ids, certs, err := s.identities()
	if err != nil {
		return res, err
	}
	i := indexOf(ids, fp)
	if i < 0 {
		return res, notFound(op, fp, s.Location())
	}
	target, wc := ids[i], certs[i]
	if target.Key.Hardware {
		return res, newErr(CodeHardwareKey, op, nil, "the key of %s is on a smart card or token (%s): MAG Desktop does not delete it; remove the card, or use the card vendor's tool", fp.Short(), wc.Provider)
	}
	if len(target.Key.SharedWith) > 0 {
		res.KeySkippedReason = "shared"
		res.Warnings = append(res.Warnings, "the private key is kept because another certificate uses it")
	} else {
		if err := s.sys.DeleteKey(wc); err != nil {
			return res, newErr(CodeToolFailed, op, err, "Windows refused to delete the private key; nothing was removed (if it asks for a PIN or password, close other programs using the certificate and try again)")
		}
		res.KeyRemoved = true
	}
	if err := s.sys.DeleteCert(wc.DER); err != nil {
		return res, newErr(CodeToolFailed, op, err, "the private key was deleted but Windows refused to delete the certificate: run the removal again")
	}
	after, afterCerts, err := s.identities()
	if err != nil {
		return res, err
	}
	if indexOf(after, fp) >= 0 {
		return res, newErr(CodeVerifyFailed, op, nil, "certificate %s is still in the store after deletion", fp.Short())
	}
	res.CertRemoved = true
	if res.KeyRemoved {
		for _, o := range afterCerts {
			if o.Provider == wc.Provider && strings.EqualFold(o.Container, wc.Container) {
				return res, newErr(CodeVerifyFailed, op, nil, "another certificate still points at the deleted key container %s", wc.Container)
			}
		}
	}
	res.Verified = true
	return res, nil
}

// Import implements Store. The PFX handed to Windows exists only in memory, under a one-time
// password, with the 3DES encoder every Windows version reads.
func (s *WindowsStore) Import(ctx context.Context, b *Bundle) (Identity, error) {
	const op = "windows import"
	fp := FingerprintOf(b.Cert)
	pw := randomPassword()
	pfx, err := encodeWith(pkcs12.LegacyDES, b, pw)
	if err != nil {
		return Identity{}, err
	}
	if err := s.sys.ImportPFX(pfx, pw); err != nil {
		return Identity{}, newErr(CodeToolFailed, op, err, "Windows refused to import the identity")
	}
	ids, _, err := s.identities()
	if err != nil {
		return Identity{}, err
	}
	if i := indexOf(ids, fp); i >= 0 {
		return ids[i], nil
	}
	return Identity{}, newErr(CodeVerifyFailed, op, nil, "the identity is not listed with its key after import")
}

// Export implements Store.
func (s *WindowsStore) Export(ctx context.Context, fp Fingerprint) (*Bundle, error) {
	const op = "windows export"
	ids, certs, err := s.identities()
	if err != nil {
		return nil, err
	}
	i := indexOf(ids, fp)
	if i < 0 {
		return nil, notFound(op, fp, s.Location())
	}
	if ids[i].Key.Hardware {
		return nil, newErr(CodeNotExportable, op, nil, "the key is on a smart card or token and cannot be copied; only the certificate can be exported")
	}
	pw := randomPassword()
	pfx, err := s.sys.ExportPFX(certs[i].DER, pw)
	if errors.Is(err, errWinNotExportable) {
		return nil, newErr(CodeNotExportable, op, nil, "Windows marks the private key of %s as not exportable, so no backup can be made; you may still remove it without a backup if you choose so explicitly", fp.Short())
	}
	if err != nil {
		return nil, newErr(CodeToolFailed, op, err, "Windows refused to export the identity")
	}
	b, err := ParsePKCS12(pfx, pw)
	if err != nil {
		return nil, err
	}
	if FingerprintOf(b.Cert) != fp {
		return nil, newErr(CodeVerifyFailed, op, nil, "Windows exported another certificate than %s", fp.Short())
	}
	return b, nil
}
