package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// appStatus derives an application's status for one user with its plain-words text.
func appStatus(u store.UserApp, orgAdmin bool) api.Application {
	a := api.Application{AppID: u.ID, Name: u.Name, Description: u.Description, RequiredAAL: u.RequiredAAL, Actions: []string{}}
	switch {
	case !u.TermsAccepted:
		a.Status = api.StatusPendingTerms
		if orgAdmin {
			a.StatusText = "Waiting for you to accept the Terms and Conditions for your organisation."
			a.Actions = []string{api.ActionViewTerms, api.ActionAcceptTerms}
		} else {
			a.StatusText = "Waiting for your organisation administrator to accept the Terms and Conditions."
		}
	case u.GrantStatus == "active":
		a.Status, a.StatusText, a.Actions = api.StatusAccessGranted, "You have access. Open the application.", []string{api.ActionOpen}
	case u.GrantStatus == "suspended":
		a.Status, a.StatusText = api.StatusSuspended, "Your access is suspended. Contact your organisation administrator."
	case u.RequestStatus == store.RequestPending:
		a.Status, a.StatusText = api.StatusAccessRequested, "You asked for access. Waiting for the application administrator to approve it."
	case u.RequestStatus == store.RequestDenied:
		a.Status, a.StatusText = api.StatusAccessDenied, "Your request for access was denied. You may ask again."
		a.DenyReason = u.RequestReason
		a.Actions = []string{api.ActionRequestAccess}
	default:
		a.Status, a.StatusText = api.StatusAvailable, "Your organisation uses this application. Request access to use it."
		a.Actions = []string{api.ActionRequestAccess}
	}
	return a
}

func (s *Server) handleMyApps(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	apps, err := s.apps.get(r.Context(), s.st, a.acct, s.cfg.NoCaches)
	if err != nil {
		return err
	}
	out := make([]api.Application, 0, len(apps))
	for _, u := range apps {
		app := appStatus(u, a.acct.OrgAdmin)
		app.OrgID = a.acct.OrgID
		out = append(out, app)
	}
	return writeJSON(w, http.StatusOK, out)
}

// userApp loads one application of the caller's organisation; NOT_FOUND otherwise.
func (s *Server) userApp(r *http.Request, a *authCtx) (store.UserApp, error) {
	id := r.PathValue("app")
	u, err := s.st.UserApp(r.Context(), a.acct.ID, a.acct.OrgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, api.NewProblem(api.CodeNotFound, "Your organisation has no application with this id.")
	}
	return u, err
}

func (s *Server) handleRequestAccess(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := noBody(r); err != nil {
		return err
	}
	u, err := s.userApp(r, a)
	if err != nil {
		return err
	}
	switch appStatus(u, a.acct.OrgAdmin).Status {
	case api.StatusPendingTerms:
		return api.NewProblem(api.CodeTermsNotAccepted,
			"Your organisation administrator has not accepted the Terms and Conditions for "+u.Name+" yet. Ask them to accept, then request access again.")
	case api.StatusAccessGranted:
		return api.NewProblem(api.CodeAlreadyHasAccess, "You already have access to "+u.Name+". Open it from Home.")
	case api.StatusSuspended:
		return api.NewProblem(api.CodeForbidden, "Your access to "+u.Name+" is suspended. Contact your organisation administrator.")
	case api.StatusAccessRequested:
		return api.NewProblem(api.CodeAccessRequestExists, "You already asked for access to "+u.Name+"; the request is waiting for approval.")
	}
	ctx := r.Context()
	req := store.AccessRequest{ID: newID("req"), AccountID: a.acct.ID, AppID: u.ID, CreatedAt: s.now()}
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.CreateAccessRequest(ctx, req); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "access.requested", a.acct.UserID, u.ID, req.ID)
	})
	if errors.Is(err, store.ErrConflict) {
		return api.NewProblem(api.CodeAccessRequestExists, "You already asked for access to "+u.Name+"; the request is waiting for approval.")
	}
	if err != nil {
		return err
	}
	if err := s.notifyAdmins(r, a.acct.OrgID, "Access request: "+u.Name, "access_requested",
		a.acct.DisplayName()+" ("+a.acct.UserID+") asked for access to "+u.Name+".\n"+
			"Approve or deny the request in MAG Desktop (Administration > Access requests).\n"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.AccessRequest{ID: req.ID, UserID: a.acct.UserID, DisplayName: a.acct.DisplayName(),
		AppID: u.ID, AppName: u.Name, Status: store.RequestPending, CreatedAt: req.CreatedAt})
}

func (s *Server) handleLaunch(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := noBody(r); err != nil {
		return err
	}
	u, err := s.userApp(r, a)
	if err != nil {
		return err
	}
	if st := appStatus(u, a.acct.OrgAdmin); st.Status != api.StatusAccessGranted {
		return api.NewProblem(api.CodeLaunchNotAllowed, "You cannot open "+u.Name+" yet: "+st.StatusText)
	}
	if a.sess.AAL < u.RequiredAAL {
		p := api.NewProblem(api.CodeStepUpRequired,
			u.Name+" needs a login with a second factor. Log out and log in again with your one-time code or your certificate.")
		p.Remediation = []api.Remediation{{Action: "login_with_second_factor", Title: "Log in with a one-time code or certificate", Method: "POST", Href: api.PathLogin}}
		return p
	}
	ctx := r.Context()
	ticket := randomToken()
	exp := s.now().Add(launchTTL)
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.CreateLaunchTicket(ctx, store.LaunchTicket{Hash: tokenHash(ticket), AccountID: a.acct.ID, AppID: u.ID,
			AAL: a.sess.AAL, ExpiresAt: exp, SessionID: a.sess.ID}); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "app.launch", a.acct.UserID, u.ID, "")
	})
	if err != nil {
		return err
	}
	base, err := s.publicURL(ctx)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.LaunchResponse{LaunchURL: base + "/launch/" + ticket, ExpiresAt: exp})
}

// notifyAdmins emails every org admin of an organisation.
func (s *Server) notifyAdmins(r *http.Request, orgID, subject, template, text string) error {
	admins, err := s.st.OrgAdmins(r.Context(), orgID)
	if err != nil {
		return err
	}
	for _, ad := range admins {
		if err := s.outbox.Send(r.Context(), mail.Message{To: ad.Email, Subject: subject, Body: "Hello " + ad.DisplayName() + ",\n\n" + text,
			Template: template, Date: s.now()}); err != nil {
			return err
		}
	}
	return nil
}

// notifyDecision tells the user what became of their request.
func (s *Server) notifyDecision(r *http.Request, req store.AccessRequest, user store.Account, decision, reason string) error {
	body := "Hello " + user.DisplayName() + ",\n\nYour request for access to " + req.AppName + " was "
	if decision == api.DecisionApprove {
		body += "approved. Open it from Home in MAG Desktop.\n"
	} else {
		body += "denied.\n"
		if reason != "" {
			body += "Reason given: " + reason + "\n"
		}
		body += "You may ask your organisation administrator why, or request access again.\n"
	}
	return s.outbox.Send(r.Context(), mail.Message{To: user.Email, Subject: "Access request " + decisionWord(decision) + ": " + req.AppName,
		Body: body, Template: "access_decision", Date: s.now()})
}

func decisionWord(d string) string {
	if d == api.DecisionApprove {
		return "approved"
	}
	return "denied"
}

// appsCache keeps each account's application list while this process writes nothing and for at
// most a second (so that `magd admin` changes made by another process show within a second).
// Home is the most frequent authenticated request.
type appsCache struct {
	mu sync.Mutex
	m  map[string]appsEntry
}

type appsEntry struct {
	gen  uint64
	at   time.Time
	apps []store.UserApp
}

const appsCacheTTL = time.Second

func (c *appsCache) get(ctx context.Context, st *store.Store, acct store.Account, noCache bool) ([]store.UserApp, error) {
	gen := st.Generation()
	c.mu.Lock()
	e, ok := c.m[acct.ID]
	c.mu.Unlock()
	if ok && e.gen == gen && time.Since(e.at) < appsCacheTTL && !noCache {
		return e.apps, nil
	}
	apps, err := st.UserApps(ctx, acct.ID, acct.OrgID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]appsEntry{}
	}
	c.m[acct.ID] = appsEntry{gen: gen, at: time.Now(), apps: apps}
	return apps, nil
}
