package service

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

func TestExplainKinds(t *testing.T) {
	locked := api.NewProblem(api.CodeAccountLocked, "locked")
	locked.RetryAfter = 90
	mfa := api.NewProblem(api.CodeMFARequired, "code")
	mfa.MFATicket = "t1"
	wrong := api.NewProblem(api.CodeCertWrongAccount, "2035")
	wrong.CertSHA256 = "abc"
	cases := []struct {
		name string
		err  error
		kind Kind
		chk  func(Explanation) bool
	}{
		{"locked", &client.Error{Kind: client.KindProblem, Problem: locked}, KindLocked, func(e Explanation) bool { return e.RetryAfter == 90*time.Second }},
		{"mfa", &client.Error{Kind: client.KindProblem, Problem: mfa}, KindMFARequired, func(e Explanation) bool { return e.MFATicket == "t1" }},
		{"2035", &client.Error{Kind: client.KindProblem, Problem: wrong}, KindWrongCertificate, func(e Explanation) bool { return e.CertSHA256 == "abc" }},
		{"mismatch", &client.Error{Kind: client.KindAccountMismatch, ExpectedUser: "a", ActualUser: "b"}, KindAccountMismatch, nil},
		{"offline", &client.Error{Kind: client.KindOffline, Server: "h:1", Err: fmt.Errorf("refused")}, KindOffline, nil},
		{"untrusted", &client.Error{Kind: client.KindUntrustedServer, Server: "h:1", Err: fmt.Errorf("x509")}, KindUntrustedServer, nil},
		{"expired", &client.Error{Kind: client.KindProblem, Problem: api.NewProblem(api.CodeSessionExpired, "")}, KindUnauthenticated, nil},
		{"link", &client.Error{Kind: client.KindProblem, Problem: api.NewProblem(api.CodeActivationTokenUsed, "used")}, KindActivationLink, nil},
		{"local", userError(KindValidation, "Say this."), KindValidation, func(e Explanation) bool { return e.Message == "Say this." }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Explain(fmt.Errorf("wrapped: %w", c.err))
			if e.Kind != c.kind || e.Message == "" {
				t.Fatalf("Explain = %+v, want kind %v", e, c.kind)
			}
			if c.chk != nil && !c.chk(e) {
				t.Fatalf("Explain = %+v", e)
			}
		})
	}
	if e := Explain(nil); e.Kind != KindOther || e.Message != "" {
		t.Fatal("nil error explained")
	}
}

func TestMemoryKeyringBehavesLikeTheOSKeyring(t *testing.T) {
	k := NewMemoryKeyring()
	if _, err := k.Get("s", "u"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("missing secret: %v", err)
	}
	if err := k.Set("s", "u", "v"); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get("s", "u"); err != nil || v != "v" {
		t.Fatalf("got %q %v", v, err)
	}
	if _, err := k.Get("other", "u"); err == nil {
		t.Fatal("services are not kept apart")
	}
	if err := k.Delete("s", "u"); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete("s", "u"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// The session store accepts it as its keyring (the demo's sessions stay in memory).
	store := client.NewSessionStore(k)
	if store.InMemory() || store.Warning() != "" {
		t.Fatal("the memory keyring was refused by the session store")
	}
	sec := k.SetupSecrets()
	if err := sec.Set("tok", "x"); err != nil {
		t.Fatal(err)
	}
	if v, _ := sec.Get("tok"); v != "x" {
		t.Fatal("setup secrets lost")
	}
}
