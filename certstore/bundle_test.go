package certstore

import (
	"bytes"
	"crypto/x509"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

func TestParsePKCS12(t *testing.T) {
	ca := newTestCA(t, "MAG Test CA")
	b := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	good, err := EncodePKCS12(b, "pw")
	if err != nil {
		t.Fatal(err)
	}
	// The CA first, the leaf second: the leaf is found by its key, not its position.
	reordered, err := pkcs12.Modern.Encode(b.Key, ca.cert, []*x509.Certificate{b.Cert}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := pkcs12.LegacyDES.Encode(b.Key, b.Cert, nil, "pw")
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	cases := []struct {
		name string
		data []byte
		pw   string
		code Code
	}{
		{"modern", good, "pw", ""},
		{"leaf second", reordered, "pw", ""},
		{"legacy 3DES", legacy, "pw", ""},
		{"wrong password", good, "nope", CodeWrongPassword},
		{"truncated", good[:len(good)/3], "pw", CodeCorrupt},
		{"flipped byte", flipped, "pw", CodeWrongPassword},
		{"empty", nil, "pw", CodeCorrupt},
		{"PEM text", CertPEM(b.Cert), "pw", CodeCorrupt},
		{"huge", make([]byte, maxPKCS12+1), "pw", CodeCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParsePKCS12(c.data, c.pw)
			if CodeOf(err) != c.code {
				t.Fatalf("err = %v, want code %q", err, c.code)
			}
			if c.code == "" && !got.Equal(b) {
				t.Fatal("decoded identity differs")
			}
			if err != nil && err.Error() == "" {
				t.Fatal("empty message")
			}
		})
	}
}

func TestParseFingerprint(t *testing.T) {
	want := Fingerprint("0abcdd59316478f2bf5a3d65faa75c898f977f759f3576a6a0a160d36f508b57")
	for _, in := range []string{
		string(want),
		"0A:BC:DD:59:31:64:78:F2:BF:5A:3D:65:FA:A7:5C:89:8F:97:7F:75:9F:35:76:A6:A0:A1:60:D3:6F:50:8B:57",
		" sha256:" + string(want) + "\n",
	} {
		if got, err := ParseFingerprint(in); err != nil || got != want {
			t.Errorf("ParseFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "abc", string(want) + "00", "zz" + string(want[2:])} {
		if _, err := ParseFingerprint(bad); CodeOf(err) != CodeInvalidInput {
			t.Errorf("ParseFingerprint(%q) err = %v", bad, err)
		}
	}
}

func TestMetadata(t *testing.T) {
	ca := newTestCA(t, "MAG Test CA")
	b := ca.issue(t, "Jane Doe", "c-42", issueOpt{rsa: true})
	m := MetadataOf(b.Cert)
	if m.KeyAlgorithm != "RSA" || m.KeyBits != 2048 || m.MagCertID != "c-42" || m.SubjectCN != "Jane Doe" ||
		m.IssuerCN != "MAG Test CA" || len(m.SHA1) != 40 || !m.ClientAuth() || m.KeyUsage[0] != "digitalSignature" {
		t.Fatalf("metadata = %+v", m)
	}
}
