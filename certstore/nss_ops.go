package certstore

import (
	"context"

	"software.sslmate.com/src/go-pkcs12"
)

// Import implements Store with pk12util, then lists again to prove the identity arrived.
func (s *NSSStore) Import(ctx context.Context, b *Bundle) (Identity, error) {
	const op = "nss import"
	if err := s.checkWritable(op); err != nil {
		return Identity{}, err
	}
	fp := FingerprintOf(b.Cert)
	before, err := s.snapshot(ctx)
	if err != nil {
		return Identity{}, err
	}
	if id, ok := find(before, fp); ok && id.Key.Present {
		return Identity{}, newErr(CodeAlreadyPresent, op, nil, "certificate %s is already in %s", fp.Short(), s.dir)
	}
	sd, p12, pw, err := transientPKCS12(op, pkcs12.Modern, b)
	if err != nil {
		return Identity{}, err
	}
	defer sd.close()
	pwFile, err := sd.write("file.pw", []byte(pw))
	if err != nil {
		return Identity{}, newErr(CodeStoreUnavailable, op, err, "cannot write a temporary file")
	}
	ta, err := s.tokenArgs(sd, "-k")
	if err != nil {
		return Identity{}, err
	}
	if _, err := s.tool(ctx, op, "pk12util", append([]string{"-i", p12, "-d", s.db(), "-w", pwFile}, ta...)...); err != nil {
		return Identity{}, err
	}
	after, err := s.snapshot(ctx)
	if err != nil {
		return Identity{}, err
	}
	id, ok := find(after, fp)
	if !ok || !id.Key.Present {
		return Identity{}, newErr(CodeVerifyFailed, op, nil, "pk12util reported success but the identity is not listed with its key in %s", s.dir)
	}
	return id, nil
}

// Export implements Store with pk12util -o, reading the result back with go-pkcs12.
func (s *NSSStore) Export(ctx context.Context, fp Fingerprint) (b *Bundle, err error) {
	const op = "nss export"
	all, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	target, ok := find(all, fp)
	if !ok || !target.Key.Present {
		return nil, notFound(op, fp, s.Location())
	}
	nick, renames, err := s.uniqueNickname(ctx, op, target)
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := s.restoreNicknames(ctx, op, renames, ""); rerr != nil && err == nil {
			b, err = nil, rerr
		}
	}()
	sd, err := newSecretDir()
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, op, err, "cannot create a private temporary folder")
	}
	defer sd.close()
	pw := randomPassword()
	pwFile, err := sd.write("file.pw", []byte(pw))
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, op, err, "cannot write a temporary file")
	}
	ta, err := s.tokenArgs(sd, "-k")
	if err != nil {
		return nil, err
	}
	outFile := sd.path + "/export.p12"
	if _, err := s.tool(ctx, op, "pk12util", append([]string{"-o", outFile, "-n", nick, "-d", s.db(), "-w", pwFile}, ta...)...); err != nil {
		return nil, err
	}
	// pk12util writes BER (indefinite lengths, also inside the MAC'd content), which
	// go-pkcs12 cannot read; OpenSSL decodes it to PEM on stdout, so the key never lands in
	// a file unencrypted.
	pemOut, err := s.tool(ctx, op, "openssl", "pkcs12", "-in", outFile, "-passin", "file:"+pwFile, "-nodes")
	if err != nil {
		return nil, err
	}
	b, err = bundleFromPEM(pemOut)
	if err != nil {
		return nil, err
	}
	if FingerprintOf(b.Cert) != fp {
		return nil, newErr(CodeVerifyFailed, op, nil, "pk12util exported another certificate than %s", fp.Short())
	}
	return b, nil
}

// Remove implements Store: certutil -F (certificate and key) on a nickname made unique first,
// or -D (certificate only) when another certificate uses the same key. It then lists again:
// the certificate must be gone, its key must be gone (unless shared), and every other
// identity must still be there with its key.
func (s *NSSStore) Remove(ctx context.Context, fp Fingerprint) (RemoveResult, error) {
	const op = "nss remove"
	res := RemoveResult{Fingerprint: fp, Location: s.Location()}
	if err := s.checkWritable(op); err != nil {
		return res, err
	}
	before, err := s.snapshot(ctx)
	if err != nil {
		return res, err
	}
	target, ok := find(before, fp)
	if !ok {
		return res, notFound(op, fp, s.Location())
	}
	nick, renames, err := s.uniqueNickname(ctx, op, target)
	if err != nil {
		return res, err
	}
	sd, err := newSecretDir()
	if err != nil {
		return res, newErr(CodeStoreUnavailable, op, err, "cannot create a private temporary folder")
	}
	defer sd.close()
	ta, err := s.tokenArgs(sd, "-f")
	if err != nil {
		return res, err
	}
	shared := len(target.Key.SharedWith) > 0
	switch {
	case shared:
		res.KeySkippedReason = "shared"
		res.Warnings = append(res.Warnings, "the private key is kept because another certificate uses it")
		_, err = s.tool(ctx, op, "certutil", append([]string{"-D", "-d", s.db(), "-n", nick}, ta...)...)
	case !target.Key.Present:
		res.KeySkippedReason = "absent"
		_, err = s.tool(ctx, op, "certutil", append([]string{"-D", "-d", s.db(), "-n", nick}, ta...)...)
	default:
		_, err = s.tool(ctx, op, "certutil", append([]string{"-F", "-d", s.db(), "-n", nick}, ta...)...)
	}
	if rerr := s.restoreNicknames(ctx, op, renames, target.SHA256); err == nil {
		err = rerr
	}
	if err != nil {
		return res, err
	}
	return s.verifyRemoved(ctx, op, res, before, target, ta)
}

func (s *NSSStore) verifyRemoved(ctx context.Context, op string, res RemoveResult, before []Identity, target Identity, ta []string) (RemoveResult, error) {
	after, err := s.snapshot(ctx)
	if err != nil {
		return res, err
	}
	if _, still := find(after, target.SHA256); still {
		return res, newErr(CodeVerifyFailed, op, nil, "certificate %s is still in %s after certutil ran", target.SHA256.Short(), s.dir)
	}
	res.CertRemoved = true
	keys, err := s.keyIDs(ctx)
	if err != nil {
		return res, err
	}
	if target.Key.Present && res.KeySkippedReason == "" {
		if keys[target.Key.Container] {
			// The certificate went but its key stayed: remove the key by its id.
			if _, err := s.tool(ctx, op, "certutil", append([]string{"-F", "-d", s.db(), "-k", target.Key.Container}, ta...)...); err != nil {
				return res, err
			}
			if keys, err = s.keyIDs(ctx); err != nil {
				return res, err
			}
			if keys[target.Key.Container] {
				return res, newErr(CodeVerifyFailed, op, nil, "the private key %s is still in %s", target.Key.Container, s.dir)
			}
		}
		res.KeyRemoved = true
	}
	for _, o := range before {
		if o.SHA256 == target.SHA256 || !o.Key.Present {
			continue
		}
		a, ok := find(after, o.SHA256)
		if !ok || !a.Key.Present {
			return res, newErr(CodeVerifyFailed, op, nil, "identity %s (%s) is missing after the removal: restore it from your backup", o.SHA256.Short(), o.SubjectCN)
		}
	}
	res.Verified = true
	return res, nil
}
