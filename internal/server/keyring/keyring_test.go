package keyring

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/store"
)

func newRing(t *testing.T, now *time.Time) (*Ring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "magd.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	block, _ := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	aead, _ := cipher.NewGCM(block)
	return New(st, aead, func() time.Time { return *now }), path
}

// TestRotation: the newest key signs until it is older than the rotation period; every
// unexpired key stays listed; an expired one goes.
func TestRotation(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, _ := newRing(t, &now)
	ctx := context.Background()
	const rotate = 30 * 24 * time.Hour
	first, err := r.Current(ctx, "oidc", rotate)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after    time.Duration
		wantSame bool // Current is still the first key
		wantKeys int
	}{
		{time.Hour, true, 1},
		{29 * 24 * time.Hour, true, 1},
		{2 * 24 * time.Hour, false, 2},  // day 31: rotated, both published
		{30 * 24 * time.Hour, false, 2}, // day 61: the first expired, a third signs
	}
	for i, s := range steps {
		now = now.Add(s.after)
		cur, err := r.Current(ctx, "oidc", rotate)
		if err != nil {
			t.Fatal(err)
		}
		all, err := r.All(ctx, "oidc")
		if err != nil {
			t.Fatal(err)
		}
		if (cur.ID == first.ID) != s.wantSame || len(all) != s.wantKeys || all[0].ID != cur.ID {
			t.Fatalf("step %d: current %s (first %s), %d keys, want same=%v and %d keys", i, cur.ID, first.ID, len(all), s.wantSame, s.wantKeys)
		}
	}
	if all, _ := r.All(ctx, "oidc"); all[len(all)-1].ID == first.ID {
		t.Fatal("the first key is still published after it expired")
	}
	if other, _ := r.All(ctx, "saml-idp"); len(other) != 0 {
		t.Fatalf("keys of another purpose: %d", len(other))
	}
}

// TestPrivateKeysEncryptedAtRest: the database file never holds a private key in the clear,
// and a ring with another encryption key cannot use it.
func TestPrivateKeysEncryptedAtRest(t *testing.T) {
	now := time.Now()
	r, path := newRing(t, &now)
	k, err := r.Current(context.Background(), "saml-idp", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.st.Close()
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if wal, err := os.ReadFile(path + "-wal"); err == nil {
		db = append(db, wal...)
	}
	if bytes.Contains(db, x509.MarshalPKCS1PrivateKey(k.Private)) || bytes.Contains(db, k.Private.D.Bytes()) {
		t.Fatal("the private key is stored in the clear")
	}
	if !bytes.Contains(db, k.Cert.Raw) {
		t.Fatal("the certificate is not where the test looks: the check above proves nothing")
	}
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	block, _ := aes.NewCipher(bytes.Repeat([]byte{8}, 32))
	aead, _ := cipher.NewGCM(block)
	if _, err := New(st, aead, time.Now).All(context.Background(), "saml-idp"); err == nil {
		t.Fatal("a key decrypted with the wrong secret")
	}
}
