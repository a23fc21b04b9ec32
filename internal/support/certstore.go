package support

import (
	"context"
	"fmt"

	"github.com/mag-desktop/magdesk/certstore"
)

// CertsFromStores lists every store into inventory rows (fingerprints and names only). A store
// that cannot be listed adds a line to the second result instead of failing the bundle.
func CertsFromStores(ctx context.Context, stores []certstore.Store) ([]Cert, []string) {
	var certs []Cert
	var problems []string
	for _, s := range stores {
		loc := s.Location()
		name := loc.Backend + " " + loc.Store
		ids, err := s.List(ctx)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
		}
		for _, id := range ids {
			certs = append(certs, Cert{
				Store: name, SHA256: string(id.SHA256), Subject: id.Subject, Issuer: id.Issuer,
				NotBefore: id.NotBefore, NotAfter: id.NotAfter, HasKey: id.Key.Present, Hardware: id.Key.Hardware,
			})
		}
	}
	return certs, problems
}
