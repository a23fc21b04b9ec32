package service

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// A gateway that does not offer recovery is named as such before any recovery request is
// sent, for the window and the command line alike.
func TestRecoveryNeedsTheServersOffer(t *testing.T) {
	for _, offers := range []bool{false, true} {
		var posted int
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == api.PathMeta {
				_ = json.NewEncoder(w).Encode(api.Meta{APIVersion: api.Version, Features: api.Features{Recovery: offers}})
				return
			}
			posted++
			_ = json.NewEncoder(w).Encode(api.RecoveryAccepted{Message: "sent"})
		}))
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		s := NewService(Options{Home: t.TempDir(), Sessions: client.NewSessionStore(nil),
			Connect: func(string) (client.Options, error) { return client.Options{ServerURL: srv.URL, CAPEM: ca}, nil }})
		ctx := context.Background()
		calls := map[string]func() error{
			"activation": func() error { _, err := s.RecoverActivation(ctx, "u1", "a@example.org"); return err },
			"user ids":   func() error { _, err := s.RecoverUserIDs(ctx, "a@example.org"); return err },
		}
		for name, call := range calls {
			err := call()
			if offers {
				if err != nil {
					t.Errorf("%s on a server that offers recovery: %v", name, err)
				}
				continue
			}
			if CodeOf(err) != CodeNoRecovery {
				t.Errorf("%s on a server without recovery: got %v, want %s", name, err, CodeNoRecovery)
			}
		}
		if want := map[bool]int{false: 0, true: 2}[offers]; posted != want {
			t.Errorf("offers=%v: %d recovery requests reached the server, want %d", offers, posted, want)
		}
		srv.Close()
	}
}
