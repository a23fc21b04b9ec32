package password

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// Reference vectors: the phc-winner-argon2 test suite (src/test.c) and x/crypto's own KAT
// (password "password", salt "somesalt"), written as PHC strings.
var referenceVectors = []string{
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
	"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$ZVrRXqxlLcWfcXCnMyv0m4Rpvh/bnCi7",
}

func TestVerifyReferenceVectors(t *testing.T) {
	for _, phc := range referenceVectors {
		if ok, err := Verify(phc, "password"); err != nil || !ok {
			t.Errorf("Verify(%s, password) = %v, %v; want true", phc, ok, err)
		}
		if ok, err := Verify(phc, "passwore"); err != nil || ok {
			t.Errorf("Verify(%s, passwore) = %v, %v; want false", phc, ok, err)
		}
	}
}

var phcShape = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	tests := []struct {
		name, secret, same, other string
	}{
		{"ascii", "correct horse battery", "correct horse battery", "correct horse batterY"},
		{"composed vs decomposed é (NFKC)", "caf\u00e9 au lait sans sucre", "cafe\u0301 au lait sans sucre", "cafe au lait sans sucre"},
		{"ligature fi (NFKC)", "\ufb01sh and chips please", "fish and chips please", "fish and chip please"},
		{"full-width digits (NFKC)", "pin \uff11\uff12\uff13", "pin 123", "pin 124"},
		{"empty", "", "", " "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			phc, err := Hash(tc.secret, Fast)
			if err != nil {
				t.Fatal(err)
			}
			if !phcShape.MatchString(phc) {
				t.Fatalf("PHC %q does not have the expected shape", phc)
			}
			if ok, err := Verify(phc, tc.same); err != nil || !ok {
				t.Errorf("Verify(same) = %v, %v", ok, err)
			}
			if ok, err := Verify(phc, tc.other); err != nil || ok {
				t.Errorf("Verify(other) = %v, %v", ok, err)
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	a, _ := Hash("same secret", Fast)
	b, _ := Hash("same secret", Fast)
	if a == b {
		t.Fatal("two hashes of one secret are equal: the salt is not random")
	}
}

func TestHashRejectsBadParams(t *testing.T) {
	for _, p := range []Params{{0, 1, 1}, {64, 0, 1}, {64, 1, 0}, {maxMemory + 1, 1, 1}, {64, maxTime + 1, 1}, {16, 1, 4}} {
		if _, err := Hash("x", p); err == nil {
			t.Errorf("Hash with %+v: want an error", p)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := referenceVectors[1]
	tests := []string{
		"",
		"$",
		"plain text",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "v=19$", "", 1),
		strings.Replace(good, "m=64", "m=99999999999", 1),
		strings.Replace(good, "m=64", "m=2000000", 1), // over the 1 GiB cap
		strings.Replace(good, "m=64", "m=064", 1),
		strings.Replace(good, "m=64", "m=-64", 1),
		strings.Replace(good, "m=64", "m=", 1),
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "t=1", "t=1000", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Replace(good, "p=1", "p=256", 1),
		strings.Replace(good, "m=64,t=1,p=1", "t=1,m=64,p=1", 1),
		strings.Replace(good, "m=64,t=1,p=1", "m=64,t=1", 1),
		strings.Replace(good, "c29tZXNhbHQ", "c29tZX!hbHQ", 1),
		strings.Replace(good, "c29tZXNhbHQ", "c29tZQ", 1), // 4-byte salt
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1),
		good[:len(good)-20], // 9-byte key
		good + "$extra",
		good + "\n",
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHR", 1), // non-zero unused bits: a second spelling of the salt
		good[1:],
	}
	for _, phc := range tests {
		ok, err := Verify(phc, "password")
		if ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformed", phc, ok, err)
		}
		if !NeedsRehash(phc, Fast) {
			t.Errorf("NeedsRehash(%q) = false for an unreadable string", phc)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	phc, err := Hash("secret", Fast)
	if err != nil {
		t.Fatal(err)
	}
	if NeedsRehash(phc, Fast) {
		t.Error("a hash made with Fast needs no rehash under Fast")
	}
	if !NeedsRehash(phc, Default) {
		t.Error("a hash made with Fast needs a rehash under Default")
	}
	if !NeedsRehash(referenceVectors[1], Fast) { // Fast params but an 8-byte salt and 24-byte key
		t.Error("a hash with a short salt and key needs a rehash")
	}
}

func TestDummy(t *testing.T) {
	a, err := Dummy(Fast)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Dummy(Fast)
	if a != b || NeedsRehash(a, Fast) {
		t.Fatalf("Dummy is not a stable Fast hash: %q %q", a, b)
	}
	if ok, err := Verify(a, ""); ok || err != nil {
		t.Fatalf("Verify(dummy, \"\") = %v, %v", ok, err)
	}
}

// FuzzDecodePHC: whatever the parser accepts is in range for argon2 and re-encodes to the
// same string; nothing panics.
func FuzzDecodePHC(f *testing.F) {
	for _, s := range referenceVectors {
		f.Add(s)
	}
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, phc string) {
		d, err := decode(phc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if d.p.valid() != nil {
			t.Fatalf("accepted out-of-range params %+v", d.p)
		}
		if got := encode(d.p, d.salt, d.key); got != phc {
			t.Fatalf("re-encoded %q, parsed %q", got, phc)
		}
	})
}

// BenchmarkArgon2idDefault is the raw cost of one Default hash: the bound on login throughput
// that the server's login benchmark is compared against.
func BenchmarkArgon2idDefault(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), make([]byte, saltLen)
	for b.Loop() {
		argon2.IDKey(pw, salt, Default.Time, Default.Memory, Default.Threads, keyLen)
	}
}

// BenchmarkVerifyDefault is Verify with Default params: parsing and NFKC on top of the raw
// hash (compare with BenchmarkArgon2idDefault; the ratio should be ~1).
func BenchmarkVerifyDefault(b *testing.B) {
	phc, err := Hash("correct horse battery staple", Default)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := Verify(phc, "correct horse battery staple"); !ok {
			b.Fatal("no match")
		}
	}
}
