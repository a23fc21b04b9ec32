package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"html/template"
	"net"
	"net/http"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/demorp"
	"github.com/mag-desktop/magdesk/internal/server/oidcop"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>` + pageStyle + `</style></head>
<body><h1>{{.Title}}</h1>{{range .Lines}}<p>{{.}}</p>{{end}}</body></html>`))

var pagePolicy = pageCSP()

func (s *Server) page(w http.ResponseWriter, status int, title string, lines ...string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pagePolicy)
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct {
		Title string
		Lines []string
	}{title, lines})
}

// startDemoRPs registers the demo applications as relying parties of this magd (again at each
// start: the address may have changed) and builds them. The OIDC clients' secrets are derived
// from secret.key, so they survive a restart without being stored anywhere but hashed.
func (s *Server) startDemoRPs(ctx context.Context) error {
	cfg := demorp.Config{BaseURL: s.baseURL, Issuer: s.oidc.Issuer(), HTTPClient: s.selfClient(), IDPMetadata: s.saml.Metadata()}
	now := s.now()
	for _, a := range demoApps {
		if _, err := s.st.AppByID(ctx, a.id); err != nil {
			continue // not seeded in this data folder
		}
		switch a.protocol {
		case "saml":
			k, err := s.keys.Current(ctx, "demo-saml-sp:"+a.id, 10*365*24*time.Hour)
			if err != nil {
				return err
			}
			app := demorp.SAMLApp{ID: a.id, Name: a.name, Key: k.Private, Cert: k.Cert}
			entityID, md, err := demorp.SPMetadata(s.baseURL, app)
			if err != nil {
				return err
			}
			if err := s.st.PutSAMLProvider(ctx, store.SAMLProvider{EntityID: entityID, AppID: a.id, Metadata: string(md),
				CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			cfg.SAML = append(cfg.SAML, app)
		default:
			secret := base64.RawURLEncoding.EncodeToString(subKey(s.secret, "demo-oidc-client:"+a.id))
			if err := s.st.PutOIDCClient(ctx, store.OIDCClient{ClientID: a.id, AppID: a.id, SecretHash: oidcop.SecretHash(secret),
				RedirectURIs: []string{demorp.RedirectURI(s.baseURL, a.id)}, PostLogoutRedirectURIs: []string{demorp.Home(s.baseURL, a.id)},
				InitiateLoginURI: demorp.InitiateLoginURI(s.baseURL, a.id), CreatedAt: now}); err != nil {
				return err
			}
			cfg.OIDC = append(cfg.OIDC, demorp.OIDCApp{ID: a.id, Name: a.name, Secret: secret})
		}
	}
	var err error
	s.demoRPs, err = demorp.New(cfg)
	return err
}

// selfClient reaches this magd over TLS, trusting its CA, whatever host name the URL has.
func (s *Server) selfClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.ca.CACertPEM())
	addr := s.ln.Addr().String()
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func (s *Server) demoRoutes(mux *http.ServeMux) {
	if s.demoRPs != nil {
		// The demo applications are applications, not magd: they set their own policies
		// (samlsp's POST forms need theirs alone).
		mux.Handle(demorp.Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Del("Content-Security-Policy")
			s.demoRPs.ServeHTTP(w, r)
		}))
	}
}
