// Package keyring keeps magd's federation signing keys in the store, encrypted with a key of
// the server's (AES-256-GCM), and rotates them: a purpose's newest key signs until it is older
// than the rotation period, then a new one is made; every unexpired key stays published so that
// what the older one signed still verifies.
package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/store"
)

// Key is a decrypted key with its self-signed certificate (SAML metadata carries one).
type Key struct {
	ID        string
	Private   *rsa.PrivateKey
	Cert      *x509.Certificate
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Ring reads and creates keys.
type Ring struct {
	st   *store.Store
	aead cipher.AEAD
	now  func() time.Time

	mu     sync.Mutex
	parsed map[string]Key
	create sync.Mutex // one key creation at a time in this process
}

// New returns a ring over st; aead encrypts the private keys at rest.
func New(st *store.Store, aead cipher.AEAD, now func() time.Time) *Ring {
	return &Ring{st: st, aead: aead, now: now, parsed: map[string]Key{}}
}

// Current is the key that signs for purpose now, creating one when the newest is older than
// rotate (or there is none). A created key is published for two rotation periods.
func (r *Ring) Current(ctx context.Context, purpose string, rotate time.Duration) (Key, error) {
	keys, err := r.All(ctx, purpose)
	if err != nil {
		return Key{}, err
	}
	now := r.now()
	if len(keys) > 0 && now.Sub(keys[0].CreatedAt) < rotate {
		return keys[0], nil
	}
	r.create.Lock()
	defer r.create.Unlock()
	if keys, err = r.All(ctx, purpose); err != nil { // made meanwhile?
		return Key{}, err
	}
	if len(keys) > 0 && now.Sub(keys[0].CreatedAt) < rotate {
		return keys[0], nil
	}
	return r.make(ctx, purpose, now, now.Add(2*rotate))
}

// All lists purpose's unexpired keys, newest first.
func (r *Ring) All(ctx context.Context, purpose string) ([]Key, error) {
	rows, err := r.st.SigningKeys(ctx, purpose, r.now())
	if err != nil {
		return nil, err
	}
	out := make([]Key, 0, len(rows))
	for _, row := range rows {
		k, err := r.decode(row)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func (r *Ring) decode(row store.SigningKey) (Key, error) {
	r.mu.Lock()
	k, ok := r.parsed[row.ID]
	r.mu.Unlock()
	if ok {
		return k, nil
	}
	ns := r.aead.NonceSize()
	if len(row.PrivateEnc) < ns {
		return Key{}, fmt.Errorf("signing key %s is damaged", row.ID)
	}
	der, err := r.aead.Open(nil, row.PrivateEnc[:ns], row.PrivateEnc[ns:], []byte(row.ID))
	if err != nil {
		return Key{}, fmt.Errorf("signing key %s cannot be decrypted with this data folder's secret.key: %w", row.ID, err)
	}
	priv, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return Key{}, fmt.Errorf("signing key %s: %w", row.ID, err)
	}
	cert, err := x509.ParseCertificate(row.CertDER)
	if err != nil {
		return Key{}, fmt.Errorf("signing key %s certificate: %w", row.ID, err)
	}
	k = Key{ID: row.ID, Private: priv, Cert: cert, CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt}
	r.mu.Lock()
	r.parsed[row.ID] = k
	r.mu.Unlock()
	return k, nil
}

func (r *Ring) make(ctx context.Context, purpose string, now, expires time.Time) (Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Key{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return Key{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "magd " + purpose},
		NotBefore: now.Add(-time.Hour), NotAfter: expires, KeyUsage: x509.KeyUsageDigitalSignature}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256(certDER)
	id := hex.EncodeToString(sum[:12])
	nonce := make([]byte, r.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return Key{}, err
	}
	enc := r.aead.Seal(nonce, nonce, x509.MarshalPKCS1PrivateKey(priv), []byte(id))
	if err := r.st.CreateSigningKey(ctx, store.SigningKey{ID: id, Purpose: purpose, PrivateEnc: enc, CertDER: certDER,
		CreatedAt: now, ExpiresAt: expires}); err != nil {
		return Key{}, errors.Join(errors.New("save the new signing key"), err)
	}
	return r.decode(store.SigningKey{ID: id, PrivateEnc: enc, CertDER: certDER, CreatedAt: now, ExpiresAt: expires})
}
