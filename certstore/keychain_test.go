package certstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordedSecurity replays `security` output recorded on macOS (testdata/keychain) and
// applies delete-identity to it, so that the backend's loop and verification run for real.
type recordedSecurity struct {
	t       *testing.T
	deleted map[string]map[string]bool // keychain -> upper-case SHA-1 -> gone
	calls   []string
	stuck   bool // delete-identity succeeds but removes nothing
}

const (
	kcLogin = "/Users/jane/Library/Keychains/login.keychain-db"
	kcWork  = "/Users/jane/Library/Keychains/work.keychain-db"
	sha1OK  = "E9A8CCA723FF653F820150FF05B3F7FE3D3E340C"
	sha1Old = "040D9911D2694BF13ACB7FE9573A509FD3720D29"
)

func (r *recordedSecurity) file(name string) string {
	data, err := os.ReadFile(filepath.Join("testdata", "keychain", name))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(data)
}

// without drops the lines (find-identity) or blocks (find-certificate) of deleted SHA-1s.
func (r *recordedSecurity) without(text, kc string) string {
	var out []string
	skip := false
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(line, "SHA-256 hash:") {
			skip = false
		}
		for sha := range r.deleted[kc] {
			if strings.Contains(line, sha) {
				skip = skip || strings.HasPrefix(line, "SHA-1 hash:")
				if !strings.HasPrefix(line, "SHA-1 hash:") {
					line = ""
				}
			}
		}
		if !skip {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

func (r *recordedSecurity) Run(_ context.Context, name string, args []string) ([]byte, []byte, error) {
	r.calls = append(r.calls, strings.Join(args, " "))
	kcName := map[string]string{kcLogin: "login", kcWork: "work"}
	switch {
	case args[0] == "list-keychains":
		return []byte(r.file("list-keychains.txt")), nil, nil
	case args[0] == "find-identity" && len(args) == 1:
		text := r.file("find-identity.txt")
		for _, kc := range []string{kcLogin, kcWork} {
			for sha := range r.deleted[kc] {
				// The search-list view loses one line per keychain deletion.
				text = strings.Replace(text, sha, "gone", 2)
			}
		}
		return []byte(text), nil, nil
	case args[0] == "find-identity":
		return []byte(r.without(r.file("find-identity-"+kcName[args[1]]+".txt"), args[1])), nil, nil
	case args[0] == "find-certificate":
		return []byte(r.without(r.file("find-certificate-"+kcName[args[4]]+".txt"), args[4])), nil, nil
	case args[0] == "delete-identity":
		if !r.stuck {
			if r.deleted[args[3]] == nil {
				r.deleted[args[3]] = map[string]bool{}
			}
			r.deleted[args[3]][args[2]] = true
		}
		return nil, nil, nil
	}
	return nil, []byte("unexpected command"), errors.New("exit status 1")
}

func TestKeychainList(t *testing.T) {
	r := &recordedSecurity{t: t, deleted: map[string]map[string]bool{}}
	ids, err := NewKeychainStore(r).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var login, work, token int
	for _, id := range ids {
		switch id.Location.Store {
		case kcLogin:
			login++
		case kcWork:
			work++
		case "smart card":
			token++
			if !id.Key.Hardware || !id.Location.ReadOnly {
				t.Fatal("token identity must be hardware and read-only")
			}
		}
	}
	if login != 2 || work != 1 || token != 1 {
		t.Fatalf("login=%d work=%d token=%d", login, work, token)
	}
}

func TestKeychainRemoveEveryKeychain(t *testing.T) {
	r := &recordedSecurity{t: t, deleted: map[string]map[string]bool{}}
	s := NewKeychainStore(r)
	fp := Fingerprint(strings.ToLower("E3D13AE02C5EB66DE91BC16A6A13102829D0CDC8033F12A89BE7F5663D2BD59C"))
	res, err := s.Remove(context.Background(), fp)
	if err != nil || !res.Verified {
		t.Fatalf("remove: %+v %v", res, err)
	}
	var deletes []string
	for _, c := range r.calls {
		if strings.HasPrefix(c, "delete-identity") {
			deletes = append(deletes, c)
		}
	}
	want := []string{"delete-identity -Z " + sha1OK + " " + kcLogin, "delete-identity -Z " + sha1OK + " " + kcWork}
	if strings.Join(deletes, "|") != strings.Join(want, "|") {
		t.Fatalf("deletes = %q", deletes)
	}
	// The expired identity in the login keychain is untouched.
	ids, _ := s.List(context.Background())
	if len(ids) != 2 || ids[0].SHA1 != strings.ToLower(sha1Old) {
		t.Fatalf("left: %+v", ids)
	}
}

func TestKeychainRemoveStuckIsReported(t *testing.T) {
	r := &recordedSecurity{t: t, deleted: map[string]map[string]bool{}, stuck: true}
	fp := Fingerprint(strings.ToLower("E3D13AE02C5EB66DE91BC16A6A13102829D0CDC8033F12A89BE7F5663D2BD59C"))
	_, err := NewKeychainStore(r).Remove(context.Background(), fp)
	if !errors.Is(err, ErrVerifyFailed) {
		t.Fatalf("err = %v", err)
	}
}

func TestPickFromMultiPKCS12(t *testing.T) {
	ca := newTestCA(t, "CA")
	b := ca.issue(t, "Jane", "c", issueOpt{})
	data, _ := EncodePKCS12(b, "pw")
	got, err := pickFromMultiPKCS12(data, "pw", FingerprintOf(b.Cert))
	if err != nil || !got.Equal(b) {
		t.Fatalf("pick: %v", err)
	}
	if _, err := pickFromMultiPKCS12(data, "pw", FingerprintOf(ca.cert)); !errors.Is(err, ErrNotExportable) {
		t.Fatalf("pick other: %v", err)
	}
}
