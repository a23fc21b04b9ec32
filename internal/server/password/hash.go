// Package password hashes secrets with Argon2id, checks new passwords against the NIST
// SP 800-63B-4 policy (length and blocklist, no composition rules) and normalises
// security-question answers.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are the Argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default is the OWASP Password Storage Cheat Sheet's Argon2id setting (19 MiB, 2 passes, 1 lane).
var Default = Params{Memory: 19456, Time: 2, Threads: 1}

// Fast is for tests only: it keeps the real code path at a fraction of the cost.
var Fast = Params{Memory: 64, Time: 1, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// Limits on what Verify accepts from a stored PHC string, so that a corrupt or hostile
	// row cannot make one verification allocate gigabytes or spin for minutes.
	maxMemory  = 1 << 20 // KiB = 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// ErrMalformed is wrapped by every error about an unreadable PHC string.
var ErrMalformed = errors.New("password: malformed argon2id PHC string")

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of secret under p with a fresh 16-byte salt and a 32-byte key.
// The secret is NFKC-normalised first (NIST SP 800-63B-4 §3.1.1.2), so that the same
// password typed on different keyboards or systems verifies.
func Hash(secret string, p Params) (string, error) {
	if err := p.valid(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(norm.NFKC.String(secret)), salt, p.Time, p.Memory, p.Threads, keyLen)
	return encode(p, salt, key), nil
}

// Verify reports whether secret matches the PHC string phc, comparing in constant time.
// A malformed PHC string is an error wrapping ErrMalformed, never a panic.
func Verify(phc, secret string) (bool, error) {
	d, err := decode(phc)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(norm.NFKC.String(secret)), d.salt, d.p.Time, d.p.Memory, d.p.Threads, uint32(len(d.key)))
	return subtle.ConstantTimeCompare(key, d.key) == 1, nil
}

// NeedsRehash reports whether phc was made with parameters other than p (or cannot be read),
// so the server can re-hash the password it just verified.
func NeedsRehash(phc string, p Params) bool {
	d, err := decode(phc)
	return err != nil || d.p != p || len(d.salt) != saltLen || len(d.key) != keyLen
}

var dummies sync.Map // Params -> string

// Dummy returns a valid PHC string of an unguessable secret under p. Verifying against it
// costs the same as a real verification, so a login for an unknown user id takes as long
// as one for a known id (no enumeration by timing, ASVS 6.3.8).
func Dummy(p Params) (string, error) {
	if v, ok := dummies.Load(p); ok {
		return v.(string), nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("password: reading random secret: %w", err)
	}
	phc, err := Hash(string(secret), p)
	if err != nil {
		return "", err
	}
	v, _ := dummies.LoadOrStore(p, phc)
	return v.(string), nil
}

func (p Params) valid() error {
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 {
		return fmt.Errorf("password: argon2id parameters m=%d t=%d p=%d out of range", p.Memory, p.Time, p.Threads)
	}
	return nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

type decoded struct {
	p         Params
	salt, key []byte
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$SALT$KEY" strictly.
func decode(phc string) (decoded, error) {
	var d decoded
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return d, fmt.Errorf("%w: want 5 '$'-separated fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return d, fmt.Errorf("%w: algorithm %q is not argon2id", ErrMalformed, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return d, fmt.Errorf("%w: version %q is not v=%d", ErrMalformed, parts[2], argon2.Version)
	}
	if err := parseParams(parts[3], &d.p); err != nil {
		return d, err
	}
	var ok bool
	if d.salt, ok = decodeB64(parts[4], minSaltLen, maxSaltLen); !ok {
		return d, fmt.Errorf("%w: bad salt", ErrMalformed)
	}
	if d.key, ok = decodeB64(parts[5], minKeyLen, maxKeyLen); !ok {
		return d, fmt.Errorf("%w: bad key", ErrMalformed)
	}
	return d, nil
}

// decodeB64 accepts only the canonical spelling (the decoder alone would skip newlines).
func decodeB64(s string, minLen, maxLen int) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	return b, err == nil && len(b) >= minLen && len(b) <= maxLen && b64.EncodeToString(b) == s
}

func parseParams(s string, p *Params) error {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return fmt.Errorf("%w: want m=,t=,p= parameters", ErrMalformed)
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return fmt.Errorf("%w: parameter %d is not %s=", ErrMalformed, i+1, name)
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || (v != "0" && strings.HasPrefix(v, "0")) {
			return fmt.Errorf("%w: parameter %s=%q", ErrMalformed, name, v)
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		default:
			p.Threads = uint8(n)
		}
	}
	if err := p.valid(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}
