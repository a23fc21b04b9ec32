package certstore

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"

	_ "modernc.org/sqlite" // pure-Go SQLite: read-only access to cert9.db and key4.db
)

// NSS softoken keeps PKCS#11 objects in SQLite tables whose columns are attribute types
// ("a0" = CKA_CLASS, "a3" = CKA_LABEL, "a11" = CKA_VALUE, "a102" = CKA_ID); CK_ULONG values are
// 4 bytes big-endian and an empty value is the marker A5 00 5A. Reading them directly costs less
// than one certutil run, and it is the only exact answer to "which certificate carries this
// nickname" (certutil -L -n prints every certificate of the subject, in its own order).
var (
	nssClassCert       = []byte{0, 0, 0, 1}
	nssClassPrivateKey = []byte{0, 0, 0, 3}
	nssEmptyValue      = []byte{0xa5, 0x00, 0x5a}
)

var errNotSQL = errors.New("not an SQLite (cert9.db) database")

// listDirect lists every certificate of the database by reading it, read-only.
func (s *NSSStore) listDirect(ctx context.Context) ([]Identity, error) {
	if s.prefix != "sql:" {
		return nil, errNotSQL
	}
	keys := map[string]bool{}
	if exists(filepath.Join(s.dir, "key4.db")) {
		err := querySQLite(ctx, filepath.Join(s.dir, "key4.db"), "SELECT a102 FROM nssPrivate WHERE a0 = ?", nssClassPrivateKey, func(r *sql.Rows) error {
			var id []byte
			if err := r.Scan(&id); err != nil {
				return err
			}
			keys[hex.EncodeToString(id)] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var ids []Identity
	err := querySQLite(ctx, filepath.Join(s.dir, "cert9.db"), "SELECT a3, a11, a102 FROM nssPublic WHERE a0 = ?", nssClassCert, func(r *sql.Rows) error {
		var label, der, ckaID []byte
		if err := r.Scan(&label, &der, &ckaID); err != nil {
			return err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil // certutil would not show it as an identity either
		}
		if bytes.Equal(label, nssEmptyValue) {
			label = nil
		}
		keyID := nssKeyID(c.PublicKey)
		if len(ckaID) > 0 && !bytes.Equal(ckaID, nssEmptyValue) {
			keyID = hex.EncodeToString(ckaID)
		}
		ids = append(ids, s.identity(c, string(label), keyID, keys))
		return nil
	})
	if err != nil {
		return nil, err
	}
	markShared(ids)
	return ids, nil
}

func querySQLite(ctx context.Context, path, q string, arg []byte, each func(*sql.Rows) error) error {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(2000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
