package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// testSP is a crewjam/saml service provider at https://sp.example, registered at magd for app.
func testSP(t *testing.T, f *fedEnv, entityID string, register string) *saml.ServiceProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	resp, err := f.http.Get(f.env.URL + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	idp, err := samlsp.ParseMetadata(body)
	if err != nil {
		t.Fatalf("magd's IdP metadata: %v\n%s", err, body)
	}
	acs, _ := url.Parse("https://sp.example/saml/acs")
	md, _ := url.Parse(entityID)
	sp := &saml.ServiceProvider{EntityID: entityID, Key: key, Certificate: cert, AcsURL: *acs, MetadataURL: *md, IDPMetadata: idp,
		ReplayCache: samlsp.NewMemoryReplayCache(100)}
	if register != "" {
		ed := sp.Metadata()
		// Signing only: the test reads the assertion as it left magd.
		var keep []saml.KeyDescriptor
		for _, kd := range ed.SPSSODescriptors[0].KeyDescriptors {
			if kd.Use != "encryption" {
				keep = append(keep, kd)
			}
		}
		ed.SPSSODescriptors[0].KeyDescriptors = keep
		mdXML, err := xml.Marshal(ed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.env.Server.RegisterSAMLProvider(context.Background(), register, mdXML); err != nil {
			t.Fatal(err)
		}
	}
	return sp
}

var formField = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)

// login runs SP-initiated SSO in the browser and returns the request id and the POSTed response.
func samlLogin(t *testing.T, f *fedEnv, sp *saml.ServiceProvider) (string, string) {
	t.Helper()
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	u, err := req.Redirect("rs", sp)
	if err != nil {
		t.Fatal(err)
	}
	st, _, page := fetch(t, f.browser, u.String())
	m := formField.FindAllStringSubmatch(page, -1)
	if st != 200 || len(m) != 2 || m[0][1] != "SAMLResponse" || html.UnescapeString(m[1][2]) != "rs" {
		t.Fatalf("SSO answer %d:\n%s", st, page)
	}
	if !strings.Contains(page, `action="https://sp.example/saml/acs"`) {
		t.Fatalf("the form does not go to the ACS:\n%s", page)
	}
	return req.ID, html.UnescapeString(m[0][2])
}

func post(t *testing.T, samlResponse string) *http.Request {
	t.Helper()
	form := url.Values{"SAMLResponse": {samlResponse}, "RelayState": {"rs"}}
	r, err := http.NewRequest("POST", "https://sp.example/saml/acs", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil { // as the SP's ACS handler does
		t.Fatal(err)
	}
	return r
}

// editXML changes the decoded response and encodes it again.
func editXML(t *testing.T, samlResponse string, edit func(*etree.Document)) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// TestSAMLResponses: magd's signed assertion is accepted by crewjam's SP with NameID = user id
// and the attributes; unsigned, altered, replayed, unsolicited and other-audience responses are
// refused by it.
func TestSAMLResponses(t *testing.T) {
	f := newFedEnv(t)
	sp := testSP(t, f, "https://sp.example/saml/metadata", "supplychain")
	reqID, resp := samlLogin(t, f, sp)

	a, err := sp.ParseResponse(post(t, resp), []string{reqID})
	if err != nil {
		var ire *saml.InvalidResponseError
		errors.As(err, &ire)
		t.Fatalf("valid response refused: %v (%v)", err, ire.PrivateErr)
	}
	attrs := map[string]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			attrs[at.FriendlyName] = at.Values[0].Value
		}
	}
	if a.Subject.NameID.Value != f.demo.UserUserID || attrs["mail"] != "dana.pilot@demo-aerospace.example" || attrs["o"] != f.demo.OrgName ||
		attrs["displayName"] != "Dana Pilot" || attrs["acr"] != "https://refeds.org/profile/sfa" ||
		a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value != "https://refeds.org/profile/sfa" {
		t.Fatalf("assertion: NameID %q, attributes %v, context %+v", a.Subject.NameID.Value, attrs, a.AuthnStatements[0].AuthnContext)
	}

	other := testSP(t, f, "https://other.example/saml/metadata", "")
	fresh := func() (string, string) { return samlLogin(t, f, sp) }
	for _, tc := range []struct {
		name, want string
		parse      func() error
	}{
		{"replayed", "already been used", func() error {
			_, err := sp.ParseResponse(post(t, resp), []string{reqID})
			return err
		}},
		{"unsigned", "signature", func() error {
			id, r := fresh()
			r = editXML(t, r, func(d *etree.Document) {
				for _, s := range d.FindElements("//Signature") {
					s.Parent().RemoveChild(s)
				}
			})
			_, err := sp.ParseResponse(post(t, r), []string{id})
			return err
		}},
		{"NameID altered", "signature", func() error {
			id, r := fresh()
			r = editXML(t, r, func(d *etree.Document) {
				for _, n := range d.FindElements("//NameID") {
					n.SetText(f.demo.SecondUserID)
				}
			})
			_, err := sp.ParseResponse(post(t, r), []string{id})
			return err
		}},
		{"audience of another SP", "audience", func() error {
			id, r := fresh()
			_, err := other.ParseResponse(post(t, r), []string{id})
			return err
		}},
		{"answer to a request the SP did not make", "InResponseTo", func() error {
			_, r := fresh()
			_, err := sp.ParseResponse(post(t, r), []string{"id-not-sent"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse()
			var ire *saml.InvalidResponseError
			if !errors.As(err, &ire) {
				t.Fatalf("got %v, want an InvalidResponseError", err)
			}
			if !strings.Contains(strings.ToLower(ire.PrivateErr.Error()), strings.ToLower(tc.want)) {
				t.Fatalf("refused for %q, want %q", ire.PrivateErr, tc.want)
			}
		})
	}

	t.Run("SP magd does not know", func(t *testing.T) {
		req, _ := other.MakeAuthenticationRequest(other.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
		u, _ := req.Redirect("", other)
		st, _, page := fetch(t, f.browser, u.String())
		if st < 400 || strings.Contains(page, "SAMLResponse") {
			t.Fatalf("unknown SP got %d:\n%s", st, page)
		}
	})
}
