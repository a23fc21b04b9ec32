package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/store"
)

// assertion is what a launch hands to the application: who signed in, signed by magd, once.
type assertion struct {
	JTI     string `json:"jti"`
	UserID  string `json:"sub"`
	Name    string `json:"name"`
	Org     string `json:"org"`
	AppID   string `json:"aud"`
	AAL     int    `json:"aal"`
	Issued  int64  `json:"iat"`
	Expires int64  `json:"exp"`
}

func (s *Server) signAssertion(a assertion) string {
	payload, _ := json.Marshal(a) // a struct of strings and ints always marshals
	p := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, s.assertKy)
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errBadAssertion = errors.New("the sign-in assertion is not valid")

func (s *Server) verifyAssertion(token string) (assertion, error) {
	var a assertion
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return a, errBadAssertion
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return a, errBadAssertion
	}
	m := hmac.New(sha256.New, s.assertKy)
	m.Write([]byte(p))
	if !hmac.Equal(got, m.Sum(nil)) {
		return a, errBadAssertion
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &a) != nil {
		return a, errBadAssertion
	}
	return a, nil
}

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

// handleLaunchPage turns a single-use launch ticket into a 303 to the application carrying a
// signed single-use assertion.
func (s *Server) handleLaunchPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ticket := r.PathValue("ticket")
	var t store.LaunchTicket
	err := errBadAssertion
	if len(ticket) == 43 {
		t, err = s.st.ConsumeLaunchTicket(ctx, tokenHash(ticket), s.now())
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, errBadAssertion) {
		s.page(w, http.StatusGone, "This link has already been used",
			"Each “Open Application” link works once, for one minute.",
			"Go back to MAG Desktop and choose Open Application again.")
		return
	}
	var app store.App
	var acct store.Account
	if err == nil {
		app, err = s.st.AppByID(ctx, t.AppID)
	}
	if err == nil {
		acct, err = s.st.AccountByID(ctx, t.AccountID)
	}
	base, berr := s.publicURL(ctx)
	if err = errors.Join(err, berr); err != nil {
		s.log.Error("launch", "err", err, "request_id", requestID(r))
		s.page(w, http.StatusInternalServerError, "The application could not be opened", "Try again from MAG Desktop.")
		return
	}
	now := s.now()
	tok := s.signAssertion(assertion{JTI: randomHex(16), UserID: acct.UserID, Name: acct.DisplayName(), Org: acct.OrgName,
		AppID: app.ID, AAL: t.AAL, Issued: now.Unix(), Expires: now.Add(launchTTL).Unix()})
	target := app.LaunchURL
	if strings.HasPrefix(target, "/") {
		target = base + target
	}
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	http.Redirect(w, r, target+sep+"assertion="+url.QueryEscape(tok), http.StatusSeeOther)
}

// handleDemoApp is a tiny application served by magd: it checks the assertion and shows who
// signed in.
func (s *Server) handleDemoApp(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	appID := r.PathValue("app")
	a, err := s.verifyAssertion(r.URL.Query().Get("assertion"))
	if err == nil && a.AppID != appID {
		err = errBadAssertion
	}
	if err != nil {
		s.page(w, http.StatusUnauthorized, "Not signed in", "Open this application from MAG Desktop (Home > Open Application).")
		return
	}
	if !time.Unix(a.Expires, 0).After(s.now()) {
		s.page(w, http.StatusUnauthorized, "The sign-in has expired", "Open the application again from MAG Desktop.")
		return
	}
	if err := s.st.UseAssertion(ctx, a.JTI, s.now()); err != nil {
		if errors.Is(err, store.ErrConflict) {
			s.page(w, http.StatusGone, "This sign-in was already used", "Open the application again from MAG Desktop.")
			return
		}
		s.log.Error("demo app", "err", err)
		s.page(w, http.StatusInternalServerError, "Sign-in failed", "Try again from MAG Desktop.")
		return
	}
	app, err := s.st.AppByID(ctx, appID)
	name := appID
	if err == nil {
		name = app.Name
	}
	s.page(w, http.StatusOK, name,
		"Signed in as "+a.Name+" ("+a.UserID+")",
		"Organisation: "+a.Org,
		"Login strength: AAL"+strconv.Itoa(a.AAL))
}
