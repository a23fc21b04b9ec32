// Package samlidp is magd's SAML 2.0 identity provider on crewjam/saml: metadata, SP-initiated
// SSO (HTTP-Redirect and HTTP-POST bindings) and IdP-initiated SSO, with signed assertions.
// Service providers come from the store (their metadata as registered by `magd admin app add
// --protocol saml`); who the session is decided by the server's SessionProvider.
package samlidp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/mag-desktop/magdesk/internal/server/keyring"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// The IdP's key signs every assertion and is pinned by each service provider through magd's
// metadata, so it is not rotated on a timer: replacing it means giving every SP new metadata.
const (
	keyPurpose  = "saml-idp"
	keyLifetime = 10 * 365 * 24 * time.Hour
)

// Attribute names (urn:oid forms where one exists, so that stock SPs map them without setup).
const (
	AttrUserID = "urn:oid:0.9.2342.19200300.100.1.1" // uid
	AttrEmail  = "urn:oid:0.9.2342.19200300.100.1.3" // mail
	AttrName   = "urn:oid:2.16.840.1.113730.3.1.241" // displayName
	AttrOrg    = "urn:oid:2.5.4.10"                  // o
	AttrACR    = "acr"
)

// Config configures an IdP.
type Config struct {
	BaseURL  string // https://host:port; the IdP lives under /saml
	Store    *store.Store
	Keys     *keyring.Ring
	Sessions saml.SessionProvider
	// OnError answers a request the IdP refuses (malformed, unknown SP, ...) with a page.
	OnError func(w http.ResponseWriter, r *http.Request, status int, err error)
	Logger  *log.Logger
}

// IdP is the identity provider.
type IdP struct {
	idp *saml.IdentityProvider
	st  *store.Store
}

// New loads (or makes) the IdP's key and builds the provider.
func New(ctx context.Context, cfg Config) (*IdP, error) {
	k, err := cfg.Keys.Current(ctx, keyPurpose, keyLifetime)
	if err != nil {
		return nil, err
	}
	meta, err := url.Parse(cfg.BaseURL + "/saml/metadata")
	if err != nil {
		return nil, err
	}
	sso, _ := url.Parse(cfg.BaseURL + "/saml/sso") // same base as meta
	p := &IdP{st: cfg.Store}
	valid := 5 * time.Minute
	p.idp = &saml.IdentityProvider{Key: k.Private, Signer: k.Private, Certificate: k.Cert, MetadataURL: *meta, SSOURL: *sso,
		ServiceProviderProvider: p, SessionProvider: cfg.Sessions, ValidDuration: &valid, ResponseWriter: postWriter{},
		OnError: cfg.OnError, Logger: cfg.Logger}
	return p, nil
}

// submitScript posts the response form as soon as the page loads (HTTP-POST binding).
const submitScript = `document.getElementById('SAMLResponseForm').submit();`

var postForm = template.Must(template.New("post").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head>` +
	`<body><form method="post" action="{{.URL}}" id="SAMLResponseForm">` +
	`<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}"><input type="hidden" name="RelayState" value="{{.RelayState}}">` +
	`<noscript><button type="submit">Continue</button></noscript></form><script>` + submitScript + `</script></body></html>`))

// postWriter writes the response form under a policy that lets exactly its script run and
// the form go only to the service provider's ACS.
type postWriter struct{}

func (postWriter) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	form, err := req.PostBinding()
	if err != nil {
		return err
	}
	acs, err := url.Parse(form.URL)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(submitScript))
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action "+acs.Scheme+"://"+acs.Host+
		"; script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("Pragma", "no-cache")
	return postForm.Execute(w, form)
}

// Metadata is the IdP's metadata (what an SP is configured with).
func (p *IdP) Metadata() *saml.EntityDescriptor { return p.idp.Metadata() }

// ServeMetadata answers GET /saml/metadata.
func (p *IdP) ServeMetadata(w http.ResponseWriter, r *http.Request) { p.idp.ServeMetadata(w, r) }

// ServeSSO answers SP-initiated requests at /saml/sso.
func (p *IdP) ServeSSO(w http.ResponseWriter, r *http.Request) { p.idp.ServeSSO(w, r) }

// ServeIDPInitiated posts an unsolicited assertion for entityID to its ACS.
func (p *IdP) ServeIDPInitiated(w http.ResponseWriter, r *http.Request, entityID, relayState string) {
	p.idp.ServeIDPInitiated(w, r, entityID, relayState)
}

// GetServiceProvider implements saml.ServiceProviderProvider over the store.
func (p *IdP) GetServiceProvider(r *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	sp, err := p.st.SAMLProviderByEntityID(r.Context(), entityID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, os.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	return ParseMetadata([]byte(sp.Metadata))
}

// AppOf returns the application registered with an SP's entity id.
func (p *IdP) AppOf(ctx context.Context, entityID string) (string, error) {
	sp, err := p.st.SAMLProviderByEntityID(ctx, entityID)
	return sp.AppID, err
}

// ParseMetadata reads SP metadata (an EntityDescriptor, or an EntitiesDescriptor with one SP).
func ParseMetadata(data []byte) (*saml.EntityDescriptor, error) {
	ed, err := samlsp.ParseMetadata(data)
	if err != nil {
		return nil, err
	}
	if len(ed.SPSSODescriptors) == 0 {
		return nil, errors.New("the metadata describes no SAML service provider (no SPSSODescriptor)")
	}
	return ed, nil
}

// User is what an assertion says of the signed-in account.
type User struct {
	UserID, Email, Name, GivenName, Surname, Org, ACR string
	AuthTime, Expires                                 time.Time
	SessionID                                         string
}

// Session builds the assertion's session: NameID is the user id.
func Session(u User) *saml.Session {
	attr := func(name, friendly, v string) saml.Attribute {
		return saml.Attribute{Name: name, FriendlyName: friendly, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
			Values: []saml.AttributeValue{{Type: "xs:string", Value: v}}}
	}
	return &saml.Session{ID: u.SessionID, CreateTime: u.AuthTime, ExpireTime: u.Expires, Index: u.SessionID,
		NameID: u.UserID, NameIDFormat: string(saml.UnspecifiedNameIDFormat), UserName: u.UserID, UserEmail: u.Email,
		UserCommonName: u.Name, UserGivenName: u.GivenName, UserSurname: u.Surname, AuthnContextClassRef: u.ACR,
		CustomAttributes: []saml.Attribute{attr(AttrName, "displayName", u.Name), attr(AttrOrg, "o", u.Org), attr(AttrACR, "acr", u.ACR)}}
}
