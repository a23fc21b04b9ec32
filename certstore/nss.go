package certstore

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// NSSStore is one NSS database (a browser profile or the shared ~/.pki/nssdb). Changes go
// through certutil and pk12util; passwords reach them only through 0600 files in a private
// temporary folder that is removed afterwards, never through argv.
type NSSStore struct {
	dir      string // the database directory (never the cert9.db file: SEC_ERROR_BAD_DATABASE)
	prefix   string // "sql:" or "dbm:"
	label    string
	readOnly bool // a system database we never change
	run      Runner
	// TokenPassword unlocks a database protected by a Primary Password ("" = none).
	TokenPassword string
}

// NewNSSStore opens the database in dir. label names it for people ("Firefox profile x").
func NewNSSStore(dir, label string, run Runner) *NSSStore {
	if run == nil {
		run = ExecRunner{}
	}
	prefix := "sql:"
	if !exists(filepath.Join(dir, "cert9.db")) && exists(filepath.Join(dir, "cert8.db")) {
		prefix = "dbm:"
	}
	return &NSSStore{dir: dir, prefix: prefix, label: label, run: run}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Location implements Store.
func (s *NSSStore) Location() Location {
	return Location{Backend: "nss", Store: s.prefix + s.dir, Label: s.label, ReadOnly: s.readOnly}
}

func (s *NSSStore) db() string { return s.prefix + s.dir }

// toolInstallHint says which package provides certutil and pk12util on this OS.
func toolInstallHint(name string) string {
	if name == "openssl" {
		return "install OpenSSL: `sudo apt install openssl` (Debian/Ubuntu) or `sudo dnf install openssl`"
	}
	switch runtime.GOOS {
	case "darwin":
		return "install NSS with `brew install nss`"
	case "linux":
		return "install the NSS tools: `sudo apt install libnss3-tools` (Debian/Ubuntu) or `sudo dnf install nss-tools` (Fedora)"
	default:
		return "install the NSS command-line tools (certutil, pk12util)"
	}
}

// tool runs certutil or pk12util and turns its failures into clear errors.
func (s *NSSStore) tool(ctx context.Context, op, name string, args ...string) ([]byte, error) {
	out, errOut, err := s.run.Run(ctx, name, args)
	if err == nil {
		return out, nil
	}
	return nil, s.toolError(op, name, out, errOut, err)
}

func (s *NSSStore) toolError(op, name string, out, errOut []byte, err error) error {
	if errors.Is(err, errNoTool) {
		return newErr(CodeToolMissing, op, nil, "%s is not installed, so browser certificate databases can't be read or changed: %s", name, toolInstallHint(name))
	}
	msg := strings.TrimSpace(string(errOut) + " " + string(out))
	switch {
	case strings.Contains(msg, "SEC_ERROR_READ_ONLY"):
		return newErr(CodeReadOnly, op, nil, "the database %s is read-only: close the browser, check the folder's permissions and try again", s.dir)
	case strings.Contains(msg, "SEC_ERROR_BAD_PASSWORD"), strings.Contains(msg, "could not authenticate"), strings.Contains(msg, "Incorrect password"):
		return newErr(CodeNeedsInteraction, op, nil, "the database %s is protected by a Primary Password: give it, or remove the certificate in the browser's certificate manager", s.dir)
	case strings.Contains(msg, "SEC_ERROR_BAD_DATABASE"), strings.Contains(msg, "SEC_ERROR_LEGACY_DATABASE"):
		return newErr(CodeStoreUnavailable, op, nil, "%s is not a usable NSS database: start the browser once for this profile, or check the folder", s.dir)
	}
	return newErr(CodeToolFailed, op, errors.New(firstLine(msg)), "%s failed on %s", name, s.dir)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// secretDir is a private (0700) temporary folder for password and PKCS#12 files.
type secretDir struct{ path string }

func newSecretDir() (*secretDir, error) {
	p, err := os.MkdirTemp("", "magdesk-nss-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(p, 0o700); err != nil {
		os.RemoveAll(p)
		return nil, err
	}
	return &secretDir{path: p}, nil
}

func (d *secretDir) write(name string, data []byte) (string, error) {
	p := filepath.Join(d.path, name)
	return p, os.WriteFile(p, data, 0o600)
}

func (d *secretDir) close() { os.RemoveAll(d.path) }

// transientPKCS12 writes b, under a one-time password, into a new private folder for a tool
// to import; the caller closes the folder (which deletes both) when the tool is done.
func transientPKCS12(op string, enc *pkcs12.Encoder, b *Bundle) (sd *secretDir, p12, pw string, err error) {
	if sd, err = newSecretDir(); err != nil {
		return nil, "", "", newErr(CodeStoreUnavailable, op, err, "cannot create a private temporary folder")
	}
	pw = randomPassword()
	data, err := encodeWith(enc, b, pw)
	if err == nil {
		p12, err = sd.write("identity.p12", data)
	}
	if err != nil {
		sd.close()
		return nil, "", "", newErr(CodeStoreUnavailable, op, err, "cannot write a temporary file")
	}
	return sd, p12, pw, nil
}

// tokenArgs adds the Primary Password file for certutil (-f) or pk12util (-k).
func (s *NSSStore) tokenArgs(sd *secretDir, flag string) ([]string, error) {
	if s.TokenPassword == "" {
		return nil, nil
	}
	p, err := sd.write("token.pw", []byte(s.TokenPassword))
	if err != nil {
		return nil, err
	}
	return []string{flag, p}, nil
}

// checkWritable refuses before any change when the database is marked read-only: a system
// database, or files/folder without write permission for the owner. Mode bits are honoured
// even when running as root, because they say the owner does not want it changed.
func (s *NSSStore) checkWritable(op string) error {
	if s.readOnly {
		return newErr(CodeReadOnly, op, nil, "%s is a system database that MAG Desktop does not change", s.dir)
	}
	paths := []string{s.dir}
	for _, f := range []string{"cert9.db", "key4.db", "cert8.db", "key3.db"} {
		if p := filepath.Join(s.dir, f); exists(p) {
			paths = append(paths, p)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return newErr(CodeStoreUnavailable, op, err, "cannot open the database %s", s.dir)
		}
		if st.Mode().Perm()&0o200 == 0 {
			return newErr(CodeReadOnly, op, nil, "the database %s is read-only (%s has no write permission): nothing was changed; make it writable (chmod u+w) and try again", s.dir, filepath.Base(p))
		}
	}
	return nil
}

// listAll lists every certificate of the database, with or without a key, with certutil alone
// (-L, -K, and -L -n NICK -a for each nickname). It is the authoritative view used to verify
// every change.
func (s *NSSStore) listAll(ctx context.Context) ([]Identity, error) {
	const op = "nss list"
	out, err := s.tool(ctx, op, "certutil", "-L", "-d", s.db())
	if err != nil {
		return nil, err
	}
	rows := parseCertutilL(out)
	keys, err := s.keyIDs(ctx)
	if err != nil {
		return nil, err
	}
	// `certutil -L -n NICK -a` prints every certificate with the subject of the one NICK
	// names, in its own order. The nickname is exact when the query prints one certificate or
	// when every certificate it prints carries NICK (NSS gives one subject one nickname); a
	// subject whose certificates were given several nicknames gets the first that printed it
	// (display only: changes read the database directly, or refuse such a subject).
	count := nicknameCounts(rows)
	byFP := map[Fingerprint]int{}
	exact := map[Fingerprint]bool{}
	var ids []Identity
	for nick := range count {
		if strings.Contains(nick, ":") && !strings.HasPrefix(nick, "NSS Certificate DB:") {
			continue // other tokens (smart cards) are not ours to change
		}
		certs, err := s.certsOf(ctx, op, nick)
		if err != nil {
			return nil, err
		}
		sure := len(certs) == 1 || len(certs) == count[nick]
		for _, c := range certs {
			fp := FingerprintOf(c)
			j, seen := byFP[fp]
			if !seen {
				j = len(ids)
				byFP[fp] = j
				ids = append(ids, s.identity(c, nick, nssKeyID(c.PublicKey), keys))
			}
			if sure && !exact[fp] {
				ids[j].Nickname, exact[fp] = nick, true
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].SHA256 < ids[j].SHA256 })
	markShared(ids)
	return ids, nil
}

// keyIDs returns the CKA_IDs of the private keys (`certutil -K`).
func (s *NSSStore) keyIDs(ctx context.Context) (map[string]bool, error) {
	sd, err := newSecretDir()
	if err != nil {
		return nil, err
	}
	defer sd.close()
	ta, err := s.tokenArgs(sd, "-f")
	if err != nil {
		return nil, err
	}
	out, errOut, runErr := s.run.Run(ctx, "certutil", append([]string{"-K", "-d", s.db()}, ta...))
	if runErr != nil && strings.Contains(string(errOut)+string(out), "no keys found") {
		return map[string]bool{}, nil
	}
	if runErr != nil {
		return nil, s.toolError("nss list keys", "certutil", out, errOut, runErr)
	}
	keys := map[string]bool{}
	for _, k := range parseCertutilK(out) {
		keys[k.ID] = true
	}
	return keys, nil
}

func (s *NSSStore) identity(c *x509.Certificate, nick, keyID string, keys map[string]bool) Identity {
	id := newIdentity(c, s.Location())
	id.Nickname = nick
	id.Key = KeyInfo{Present: keyID != "" && keys[keyID], Exportable: Yes, Provider: "NSS Certificate DB", Container: keyID}
	return id
}

func nicknameCounts(rows []nssCertLine) map[string]int {
	count := map[string]int{}
	for _, r := range rows {
		count[r.Nickname]++
	}
	return count
}

// certsOf returns the certificates `certutil -L -n NICK -a` prints: all of NICK's subject.
func (s *NSSStore) certsOf(ctx context.Context, op, nick string) ([]*x509.Certificate, error) {
	out, err := s.tool(ctx, op, "certutil", "-L", "-d", s.db(), "-n", nick, "-a")
	if err != nil {
		return nil, err
	}
	return parsePEMCerts(out), nil
}

// markShared notes keys used by several certificates (a renewal that kept its key).
func markShared(ids []Identity) {
	byKey := map[string][]int{}
	for i, id := range ids {
		if id.Key.Present {
			byKey[id.Key.Container] = append(byKey[id.Key.Container], i)
		}
	}
	for _, group := range byKey {
		for _, i := range group {
			for _, j := range group {
				if i != j {
					ids[i].Key.SharedWith = append(ids[i].Key.SharedWith, string(ids[j].SHA256))
				}
			}
		}
	}
}

// identitiesOnly keeps the certificates that have a private key.
func identitiesOnly(all []Identity) []Identity {
	var out []Identity
	for _, id := range all {
		if id.Key.Present {
			out = append(out, id)
		}
	}
	return out
}

// snapshot is every certificate of the database, read directly when a reader is registered
// (the same files certutil reads, without a process per nickname), else with certutil.
func (s *NSSStore) snapshot(ctx context.Context) ([]Identity, error) {
	if s.prefix == "sql:" {
		if ids, err := s.listDirect(ctx); err == nil {
			return ids, nil
		}
	}
	return s.listAll(ctx)
}

// List implements Store: it reads the SQLite database directly (fast, read-only) and falls
// back to certutil for legacy dbm databases or when the direct read fails.
func (s *NSSStore) List(ctx context.Context) ([]Identity, error) {
	all, err := s.snapshot(ctx)
	return identitiesOnly(all), err
}

// nickRename records a temporary nickname given to tell same-subject certificates apart.
type nickRename struct {
	fp         Fingerprint
	temp, orig string
}

// uniqueNickname makes the target's nickname unique so that certutil and pk12util, which
// address certificates by nickname, act on exactly this certificate. NSS gives every
// certificate of one subject the same nickname (two accounts of one person!), and
// `certutil -D/-F -n` then picks one by its own rules. certutil --rename renames that pick, and
// the database itself (read directly: certutil cannot say which certificate a nickname names)
// tells which one it was; each pass renames one certificate to "nickname [sha256 prefix]"
// until the target has its own name. restoreNicknames undoes the renames afterwards.
func (s *NSSStore) uniqueNickname(ctx context.Context, op string, target Identity) (string, []nickRename, error) {
	var renames []nickRename
	fail := func(err error) (string, []nickRename, error) {
		if rerr := s.restoreNicknames(ctx, op, renames, ""); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return "", nil, err
	}
	labels := func() (map[string][]Fingerprint, error) {
		ids, err := s.listDirect(ctx)
		if err != nil {
			return nil, err
		}
		out := map[string][]Fingerprint{}
		for _, id := range ids {
			out[id.Nickname] = append(out[id.Nickname], id.SHA256)
		}
		return out, nil
	}
	nick := target.Nickname
	for pass := 0; pass < 64; pass++ {
		byLabel, err := labels()
		if err != nil {
			// Without the direct read (a legacy dbm: database) only a subject with a single
			// certificate is addressed by nickname with certainty.
			certs, cerr := s.certsOf(ctx, op, nick)
			if cerr != nil {
				return fail(cerr)
			}
			if len(certs) == 1 && FingerprintOf(certs[0]) == target.SHA256 {
				return nick, renames, nil
			}
			return fail(newErr(CodeUnsupported, op, err, "%s is a legacy database holding several certificates of %q: remove the certificate in the browser's certificate manager", s.dir, target.SubjectCN))
		}
		named := byLabel[nick]
		if len(named) == 1 && named[0] == target.SHA256 {
			return nick, renames, nil
		}
		if !slices.Contains(named, target.SHA256) {
			return fail(newErr(CodeVerifyFailed, op, nil, "certificate %s is no longer named %q; nothing was changed", target.SHA256.Short(), nick))
		}
		if err := s.checkWritable(op); err != nil {
			return fail(err)
		}
		tmp := fmt.Sprintf("%s [magdesk-%d]", nick, pass)
		if _, err := s.tool(ctx, op, "certutil", "--rename", "-d", s.db(), "-n", nick, "--new-n", tmp); err != nil {
			return fail(err)
		}
		byLabel, err = labels()
		if err != nil {
			return fail(err)
		}
		if len(byLabel[tmp]) != 1 {
			return fail(newErr(CodeVerifyFailed, op, nil, "renaming %q did not name exactly one certificate", nick))
		}
		fp := byLabel[tmp][0]
		final := fmt.Sprintf("%s [%s]", nick, fp[:8])
		renames = append(renames, nickRename{fp: fp, temp: tmp, orig: nick})
		if _, err := s.tool(ctx, op, "certutil", "--rename", "-d", s.db(), "-n", tmp, "--new-n", final); err != nil {
			return fail(err)
		}
		renames[len(renames)-1].temp = final
		if fp == target.SHA256 {
			return final, renames, nil
		}
	}
	return fail(newErr(CodeVerifyFailed, op, nil, "could not give %q a unique nickname", nick))
}

// restoreNicknames gives renamed certificates their nickname back (except skip, which was
// removed), so that the database ends with the names the user had.
func (s *NSSStore) restoreNicknames(ctx context.Context, op string, renames []nickRename, skip Fingerprint) error {
	var errs []error
	for _, r := range renames {
		if r.fp == skip {
			continue
		}
		if _, err := s.tool(ctx, op, "certutil", "--rename", "-d", s.db(), "-n", r.temp, "--new-n", r.orig); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
