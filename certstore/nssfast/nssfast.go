// Package nssfast reads NSS databases (cert9.db, key4.db) directly and read-only with the
// pure-Go SQLite engine, so that listing a browser's certificates costs less than one certutil
// run. Import it for its side effect: certstore then lists NSS databases through it and keeps
// certutil for changes and for verifying them.
package nssfast

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"

	"github.com/mag-desktop/magdesk/certstore"
	_ "modernc.org/sqlite" // pure-Go SQLite
)

func init() { certstore.RegisterNSSReader(Read) }

// NSS softoken keeps PKCS#11 objects in tables whose columns are attribute types ("a0" =
// CKA_CLASS, "a3" = CKA_LABEL, "a11" = CKA_VALUE, "a102" = CKA_ID); CK_ULONG values are 4
// bytes big-endian.
var (
	classCert       = []byte{0, 0, 0, 1}
	classPrivateKey = []byte{0, 0, 0, 3}
)

// Read returns the certificates of the database in dir and the CKA_IDs of its private keys.
func Read(ctx context.Context, dir string) ([]certstore.NSSRawCert, [][]byte, error) {
	var keys [][]byte
	if _, err := os.Stat(filepath.Join(dir, "key4.db")); err == nil {
		err := query(ctx, filepath.Join(dir, "key4.db"), "SELECT a102 FROM nssPrivate WHERE a0 = ?", classPrivateKey, func(r *sql.Rows) error {
			var id []byte
			if err := r.Scan(&id); err != nil {
				return err
			}
			keys = append(keys, id)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	var certs []certstore.NSSRawCert
	err := query(ctx, filepath.Join(dir, "cert9.db"), "SELECT a3, a11, a102 FROM nssPublic WHERE a0 = ?", classCert, func(r *sql.Rows) error {
		var c certstore.NSSRawCert
		if err := r.Scan(&c.Label, &c.DER, &c.ID); err != nil {
			return err
		}
		certs = append(certs, c)
		return nil
	})
	return certs, keys, err
}

func query(ctx context.Context, path, q string, arg []byte, each func(*sql.Rows) error) error {
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
