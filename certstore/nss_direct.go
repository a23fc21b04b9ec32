package certstore

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"sync"
)

// NSSRawCert is a certificate object as an NSS database stores it.
type NSSRawCert struct {
	Label []byte // CKA_LABEL: the nickname
	DER   []byte // CKA_VALUE
	ID    []byte // CKA_ID: links the certificate to its private key
}

// NSSReader reads an NSS database directly (package certstore/nssfast registers one that reads
// cert9.db and key4.db with SQLite). It returns the certificates and the CKA_IDs of the keys.
type NSSReader func(ctx context.Context, dir string) ([]NSSRawCert, [][]byte, error)

var (
	nssReaderMu sync.RWMutex
	nssReader   NSSReader
)

// RegisterNSSReader installs the fast reader; without one, listing uses certutil alone. It
// lives in its own package so that this one stays small (the SQLite engine is large).
func RegisterNSSReader(r NSSReader) {
	nssReaderMu.Lock()
	defer nssReaderMu.Unlock()
	nssReader = r
}

var errNoReader = errors.New("no direct NSS reader registered")

// nssEmptyValue is how NSS stores an empty attribute.
var nssEmptyValue = []byte{0xa5, 0x00, 0x5a}

// listDirect lists the database through the registered reader.
func (s *NSSStore) listDirect(ctx context.Context) ([]Identity, error) {
	nssReaderMu.RLock()
	r := nssReader
	nssReaderMu.RUnlock()
	if r == nil {
		return nil, errNoReader
	}
	raw, keyIDs, err := r(ctx, s.dir)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for _, k := range keyIDs {
		keys[hex.EncodeToString(k)] = true
	}
	var ids []Identity
	for _, rc := range raw {
		c, err := x509.ParseCertificate(rc.DER)
		if err != nil {
			continue // certutil would not show it as an identity either
		}
		label := rc.Label
		if bytes.Equal(label, nssEmptyValue) {
			label = nil
		}
		keyID := nssKeyID(c.PublicKey)
		if len(rc.ID) > 0 && !bytes.Equal(rc.ID, nssEmptyValue) {
			keyID = hex.EncodeToString(rc.ID)
		}
		ids = append(ids, s.identity(c, string(label), keyID, keys))
	}
	markShared(ids)
	return ids, nil
}
