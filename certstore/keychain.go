package certstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"regexp"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// KeychainStore is the macOS keychain search list (login keychain and any others), driven
// through the `security` command so that it needs no cgo. The logic builds on every OS and is
// tested over recorded output; Inventory uses it on macOS only.
type KeychainStore struct {
	run Runner
	// Keychains overrides the search list (`security list-keychains -d user`).
	Keychains []string
}

// NewKeychainStore uses run (ExecRunner when nil).
func NewKeychainStore(run Runner) *KeychainStore {
	if run == nil {
		run = ExecRunner{}
	}
	return &KeychainStore{run: run}
}

// Location implements Store.
func (s *KeychainStore) Location() Location {
	return Location{Backend: "keychain", Store: "keychain search list", Label: "macOS keychains"}
}

func (s *KeychainStore) security(ctx context.Context, op string, args ...string) ([]byte, error) {
	out, errOut, err := s.run.Run(ctx, "security", args)
	if err == nil {
		return out, nil
	}
	if errors.Is(err, errNoTool) {
		return nil, newErr(CodeToolMissing, op, nil, "the macOS `security` tool is missing: this backend works only on macOS")
	}
	msg := firstLine(string(errOut) + " " + string(out))
	if strings.Contains(msg, "User interaction is not allowed") || strings.Contains(msg, "authorization") {
		return nil, newErr(CodeNeedsInteraction, op, errors.New(msg), "the keychain is locked: unlock it in Keychain Access and try again")
	}
	return nil, newErr(CodeToolFailed, op, errors.New(msg), "security %s failed", args[0])
}

func (s *KeychainStore) keychains(ctx context.Context) ([]string, error) {
	if s.Keychains != nil {
		return s.Keychains, nil
	}
	out, err := s.security(ctx, "keychain list", "list-keychains", "-d", "user")
	if err != nil {
		return nil, err
	}
	var kcs []string
	for _, line := range strings.Split(string(out), "\n") {
		if p := strings.Trim(strings.TrimSpace(line), `"`); p != "" {
			kcs = append(kcs, p)
		}
	}
	return kcs, nil
}

var identityLine = regexp.MustCompile(`^\s*\d+\)\s+([0-9A-Fa-f]{40})\s+"(.*)"`)

// parseFindIdentity returns SHA-1 -> label from `security find-identity [-v]`. Without -v the
// output also has the expired and untrusted identities (which we must be able to clean up);
// both sections are read and merged.
func parseFindIdentity(out []byte) map[string]string {
	ids := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := identityLine.FindStringSubmatch(sc.Text()); m != nil {
			ids[strings.ToLower(m[1])] = m[2]
		}
	}
	return ids
}

func (s *KeychainStore) identitiesIn(ctx context.Context, kc string) (map[string]string, []*x509.Certificate, error) {
	out, err := s.security(ctx, "keychain list", "find-identity", kc)
	if err != nil {
		return nil, nil, err
	}
	ids := parseFindIdentity(out)
	pemOut, err := s.security(ctx, "keychain list", "find-certificate", "-a", "-Z", "-p", kc)
	if err != nil {
		return nil, nil, err
	}
	return ids, parsePEMCerts(pemOut), nil
}

// List implements Store: each keychain's identities (find-identity KC) joined by SHA-1 with its
// certificates (find-certificate -a -Z -p KC). Identities that the search list shows but no
// keychain holds come from smart cards (CryptoTokenKit) and are listed as hardware, read-only.
func (s *KeychainStore) List(ctx context.Context) ([]Identity, error) {
	kcs, err := s.keychains(ctx)
	if err != nil {
		return nil, err
	}
	var out []Identity
	inKeychain := map[string]bool{}
	for _, kc := range kcs {
		ids, certs, err := s.identitiesIn(ctx, kc)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			m := MetadataOf(c)
			label, ok := ids[m.SHA1]
			if !ok {
				continue
			}
			inKeychain[m.SHA1] = true
			id := newIdentity(c, Location{Backend: "keychain", Store: kc, Label: "Keychain " + baseName(kc), ReadOnly: strings.HasPrefix(kc, "/Library/") || strings.HasPrefix(kc, "/System/")})
			id.Nickname = label
			id.Key = KeyInfo{Present: true, Exportable: Unknown, Provider: "macOS keychain", Container: kc}
			out = append(out, id)
		}
	}
	all, err := s.security(ctx, "keychain list", "find-identity")
	if err != nil {
		return nil, err
	}
	for sha1, label := range parseFindIdentity(all) {
		if !inKeychain[sha1] {
			// No certificate bytes are available for token identities through `security`;
			// they are reported by name so that users see why they can't be removed here.
			out = append(out, Identity{Metadata: Metadata{SHA1: sha1, SubjectCN: label}, Nickname: label,
				Location: Location{Backend: "keychain", Store: "smart card", Label: "Smart card / token", ReadOnly: true},
				Key:      KeyInfo{Present: true, Hardware: true, Exportable: No, Provider: "CryptoTokenKit"}})
		}
	}
	return out, nil
}

func baseName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Remove implements Store: `security delete-identity -Z SHA1 KEYCHAIN` (certificate and key)
// in every keychain of the search list that holds the identity, repeated until the SHA-1 is
// gone from every keychain — without naming a keychain, only the first match would go.
func (s *KeychainStore) Remove(ctx context.Context, fp Fingerprint) (RemoveResult, error) {
	const op = "keychain remove"
	res := RemoveResult{Fingerprint: fp, Location: s.Location()}
	before, err := s.List(ctx)
	if err != nil {
		return res, err
	}
	var targets []Identity
	for _, id := range before {
		if id.SHA256 == fp {
			if id.Location.ReadOnly {
				return res, newErr(CodeReadOnly, op, nil, "%s is in %s, which needs an administrator: remove it in Keychain Access", fp.Short(), id.Location.Store)
			}
			targets = append(targets, id)
		}
	}
	if len(targets) == 0 {
		return res, notFound(op, fp, s.Location())
	}
	sha1 := strings.ToUpper(targets[0].SHA1)
	for _, t := range targets {
		for attempt := 0; ; attempt++ {
			ids, _, err := s.identitiesIn(ctx, t.Location.Store)
			if err != nil {
				return res, err
			}
			if _, present := ids[t.SHA1]; !present {
				break
			}
			if attempt == 8 {
				return res, newErr(CodeVerifyFailed, op, nil, "%s stays in %s after %d deletions", fp.Short(), t.Location.Store, attempt)
			}
			if _, err := s.security(ctx, op, "delete-identity", "-Z", sha1, t.Location.Store); err != nil {
				return res, err
			}
		}
	}
	after, err := s.List(ctx)
	if err != nil {
		return res, err
	}
	if _, still := find(after, fp); still {
		return res, newErr(CodeVerifyFailed, op, nil, "%s is still listed after deletion", fp.Short())
	}
	res.CertRemoved, res.KeyRemoved, res.Verified = true, true, true
	return res, nil
}

// Import implements Store: `security import` into the first keychain of the search list (the
// login keychain). macOS reads only legacy PKCS#12 encryption, so the file is written with the
// 3DES encoder under a one-time password, in a private temporary folder removed afterwards.
// `security import` takes that password on argv; it protects nothing but this transient file.
func (s *KeychainStore) Import(ctx context.Context, b *Bundle) (Identity, error) {
	const op = "keychain import"
	kcs, err := s.keychains(ctx)
	if err != nil || len(kcs) == 0 {
		return Identity{}, newErr(CodeStoreUnavailable, op, err, "no keychain in the search list")
	}
	sd, p, pw, err := transientPKCS12(op, pkcs12.LegacyDES, b)
	if err != nil {
		return Identity{}, err
	}
	defer sd.close()
	if _, err := s.security(ctx, op, "import", p, "-k", kcs[0], "-f", "pkcs12", "-P", pw); err != nil {
		return Identity{}, err
	}
	list, err := s.List(ctx)
	if err != nil {
		return Identity{}, err
	}
	if id, ok := find(list, FingerprintOf(b.Cert)); ok {
		return id, nil
	}
	return Identity{}, newErr(CodeVerifyFailed, op, nil, "the identity is not listed after import")
}

// Export implements Store. `security export` writes every identity of a keychain; the one
// asked for is picked from that file by its certificate, and the file is removed at once.
func (s *KeychainStore) Export(ctx context.Context, fp Fingerprint) (*Bundle, error) {
	const op = "keychain export"
	list, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := find(list, fp)
	if !ok {
		return nil, notFound(op, fp, s.Location())
	}
	if id.Key.Hardware {
		return nil, newErr(CodeNotExportable, op, nil, "the key is on a smart card and cannot be copied")
	}
	sd, err := newSecretDir()
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, op, err, "cannot create a private temporary folder")
	}
	defer sd.close()
	pw := randomPassword()
	outFile := sd.path + "/export.p12"
	if _, err := s.security(ctx, op, "export", "-k", id.Location.Store, "-t", "identities", "-f", "pkcs12", "-P", pw, "-o", outFile); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		return nil, newErr(CodeToolFailed, op, err, "security wrote no file")
	}
	return pickFromMultiPKCS12(data, pw, fp)
}

// pickFromMultiPKCS12 finds the identity fp in a PKCS#12 file that holds several.
func pickFromMultiPKCS12(data []byte, pw string, fp Fingerprint) (*Bundle, error) {
	//lint:ignore SA1019 ToPEM is the only go-pkcs12 reader for files with several keys; its raw key blocks are parsed below.
	blocks, err := pkcs12.ToPEM(data, pw)
	if err != nil {
		return nil, newErr(CodeCorrupt, "keychain export", err, "the exported file could not be read")
	}
	var buf []byte
	for _, b := range blocks {
		buf = append(buf, pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})...)
	}
	var certs []*x509.Certificate
	for _, c := range parsePEMCerts(buf) {
		if FingerprintOf(c) == fp {
			certs = append(certs, c)
		}
	}
	for _, b := range blocks {
		if b.Type != "PRIVATE KEY" || len(certs) == 0 {
			continue
		}
		k, err := parsePrivateKey(b.Bytes)
		if err == nil && publicKeyEqual(certs[0].PublicKey, k.Public()) {
			return &Bundle{Key: k, Cert: certs[0]}, nil
		}
	}
	return nil, newErr(CodeNotExportable, "keychain export", nil, "the keychain did not export the private key of %s (it may be marked not exportable)", fp.Short())
}
