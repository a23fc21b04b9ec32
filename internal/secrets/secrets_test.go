package secrets

import (
	"errors"
	"os"
	"testing"

	"github.com/zalando/go-keyring"
)

func TestMain(m *testing.M) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

// Every Keyring behaves as the OS keyring does: services apart, ErrNotFound for what is not
// there, a profile that really moves each service it is given.
func TestKeyringsBehaveAlike(t *testing.T) {
	const profile = "secrets tests"
	cases := []struct {
		name string
		k    Keyring
		// raw is where the entry of service "svc" must be found, or nil.
		raw     Keyring
		rawName string
	}{
		{"memory", NewMemory(), nil, ""},
		{"system", System{}, nil, ""},
		{"profile over memory", nil, NewMemory(), "svc [" + profile + "]"},
		{"profile over system", Profile(System{}, profile), System{}, "svc [" + profile + "]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := c.k
			if k == nil {
				k = Profile(c.raw, profile)
			}
			if _, err := k.Get("svc", "u"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("missing secret: %v", err)
			}
			if err := k.Set("svc", "u", "v"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = k.Delete("svc", "u") })
			if v, err := k.Get("svc", "u"); err != nil || v != "v" {
				t.Fatalf("got %q %v", v, err)
			}
			if _, err := k.Get("other", "u"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("services are not kept apart: %v", err)
			}
			if c.raw != nil {
				if v, err := c.raw.Get(c.rawName, "u"); err != nil || v != "v" {
					t.Fatalf("under %q: %q %v (the profile ignores the service name)", c.rawName, v, err)
				}
				if _, err := c.raw.Get("svc", "u"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("the profile's secret is visible outside it: %v", err)
				}
			}
			if err := k.Delete("svc", "u"); err != nil {
				t.Fatal(err)
			}
			if err := k.Delete("svc", "u"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second delete: %v", err)
			}
		})
	}
}

func TestStoreIsOneService(t *testing.T) {
	k := NewMemory()
	a, b := In(k, "a"), In(k, "b")
	if err := a.Set("key", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get("key"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("b sees a's secret: %v", err)
	}
	if v, err := k.Get("a", "key"); err != nil || v != "1" {
		t.Fatalf("not under its service: %q %v", v, err)
	}
	// Deleting what is not there is done already.
	if err := b.Delete("key"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete("key"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get("key"); !errors.Is(err, ErrNotFound) {
		t.Fatal("not deleted")
	}
}

func TestOSHonoursTheProfileVariable(t *testing.T) {
	t.Setenv(ProfileEnv, "env profile")
	if err := OS().Set("svc", "k", "x"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = OS().Delete("svc", "k") }()
	if v, err := (System{}).Get("svc [env profile]", "k"); err != nil || v != "x" {
		t.Fatalf("%q %v", v, err)
	}
}
