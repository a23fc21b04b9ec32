package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// ownOrg checks that the caller belongs to the organisation in the path (and is its admin when
// admin is set).
func ownOrg(r *http.Request, a *authCtx, admin bool) error {
	if r.PathValue("org") != a.acct.OrgID {
		return api.NewProblem(api.CodeForbidden, "You can only see and manage your own organisation.")
	}
	if admin && !a.acct.OrgAdmin {
		return api.NewProblem(api.CodeForbidden, "Only an organisation administrator can do this. Ask your organisation administrator.")
	}
	return nil
}

func (s *Server) currentTerms(r *http.Request, a *authCtx) (store.UserApp, store.TermsVersion, error) {
	u, err := s.userApp(r, a)
	if err != nil {
		return u, store.TermsVersion{}, err
	}
	t, err := s.st.TermsByID(r.Context(), u.CurrentTermsID)
	if errors.Is(err, store.ErrNotFound) {
		return u, t, api.NewProblem(api.CodeNotFound, u.Name+" has no Terms and Conditions.")
	}
	return u, t, err
}

func (s *Server) handleTerms(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := ownOrg(r, a, false); err != nil {
		return err
	}
	u, t, err := s.currentTerms(r, a)
	if err != nil {
		return err
	}
	out := api.Terms{TermsVersionID: t.ID, OrgID: a.acct.OrgID, AppID: u.ID, AppName: u.Name, Version: t.Version,
		Title: t.Title, Body: t.Body, SHA256: t.SHA256, PublishedAt: t.PublishedAt}
	acc, err := s.st.AcceptanceFor(r.Context(), a.acct.OrgID, t.ID)
	switch {
	case err == nil:
		at := acc.AcceptedAt
		out.Accepted, out.AcceptedAt, out.AcceptedBy = true, &at, acc.AcceptedByUserID
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleAccept(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := ownOrg(r, a, true); err != nil {
		return err
	}
	var req api.AcceptTermsRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, t, err := s.currentTerms(r, a)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if req.TermsVersionID != t.ID {
		old, err := s.st.TermsByID(ctx, req.TermsVersionID)
		if err == nil && old.AppID == u.ID {
			return api.NewProblem(api.CodeTermsVersionStale,
				"The Terms and Conditions of "+u.Name+" have changed since you opened them. Read the current version and accept it.")
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return invalid("terms_version_id does not name a version of these Terms and Conditions.",
			api.FieldError{Field: "terms_version_id", Code: api.CodeValidationFailed, Message: "unknown terms version"})
	}
	existing := func() error {
		acc, err := s.st.AcceptanceFor(ctx, a.acct.OrgID, t.ID)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, api.Acceptance{AcceptanceID: acc.ID, TermsVersionID: t.ID,
			AcceptedBy: acc.AcceptedByUserID, AcceptedAt: acc.AcceptedAt})
	}
	acc := store.Acceptance{ID: newID("acc"), OrgID: a.acct.OrgID, AppID: u.ID, TermsVersionID: t.ID, AcceptedBy: a.acct.ID,
		AcceptedAt: s.now(), BodySHA256: t.SHA256}
	if _, err := s.st.AcceptanceFor(ctx, a.acct.OrgID, t.ID); err == nil {
		return existing() // "I Agree" twice is fine: the first acceptance stands
	}
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.Accept(ctx, acc); err != nil {
			return err
		}
		if err := q.AddOrgEvent(ctx, a.acct.OrgID, api.EventAppRequestable, s.now(),
			eventData(api.Event{AppID: u.ID, AppName: u.Name})); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "terms.accepted", a.acct.UserID, u.ID, "terms_version="+t.ID+" sha256="+t.SHA256)
	})
	if errors.Is(err, store.ErrConflict) {
		return existing()
	}
	if err != nil {
		return err
	}
	s.hub.notifyAll()
	if err := s.notifyAdmins(r, a.acct.OrgID, "Terms and Conditions accepted: "+u.Name, "terms_accepted",
		a.acct.DisplayName()+" ("+a.acct.UserID+") accepted version "+t.Version+" of the Terms and Conditions of "+u.Name+
			" for "+a.acct.OrgName+".\nUsers of your organisation can now request access to it.\n"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.Acceptance{AcceptanceID: acc.ID, TermsVersionID: t.ID, AcceptedBy: a.acct.UserID,
		AcceptedAt: acc.AcceptedAt})
}

func apiRequest(r store.AccessRequest) api.AccessRequest {
	out := api.AccessRequest{ID: r.ID, UserID: r.UserID, DisplayName: strings.TrimSpace(r.DisplayName), AppID: r.AppID,
		AppName: r.AppName, Status: r.Status, Reason: r.Reason, CreatedAt: r.CreatedAt}
	if !r.DecidedAt.IsZero() {
		d := r.DecidedAt
		out.DecidedAt = &d
	}
	return out
}

func (s *Server) handleOrgRequests(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := ownOrg(r, a, true); err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = store.RequestPending
	case "all":
		status = ""
	case store.RequestPending, store.RequestApproved, store.RequestDenied:
	default:
		return invalid("status must be pending, approved, denied or all.")
	}
	reqs, err := s.st.OrgAccessRequests(r.Context(), a.acct.OrgID, status)
	if err != nil {
		return err
	}
	out := make([]api.AccessRequest, 0, len(reqs))
	for _, q := range reqs {
		out = append(out, apiRequest(q))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := ownOrg(r, a, true); err != nil {
		return err
	}
	var req api.DecisionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Decision != api.DecisionApprove && req.Decision != api.DecisionDeny {
		return invalid("decision must be \"approve\" or \"deny\".", api.FieldError{Field: "decision", Code: api.CodeValidationFailed, Message: "approve or deny"})
	}
	if len(req.Reason) > 500 {
		return invalid("The reason is too long (500 characters at most).", api.FieldError{Field: "reason", Code: api.CodeValidationFailed, Message: "too long"})
	}
	ctx := r.Context()
	ar, err := s.st.AccessRequestByID(ctx, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && ar.OrgID != a.acct.OrgID) {
		return api.NewProblem(api.CodeNotFound, "There is no such access request in your organisation.")
	}
	if err != nil {
		return err
	}
	status := store.RequestDenied
	if req.Decision == api.DecisionApprove {
		status = store.RequestApproved
	}
	if ar.Status != store.RequestPending {
		if ar.Status == status {
			return writeJSON(w, http.StatusOK, apiRequest(ar))
		}
		return invalid("This request was already " + ar.Status + "; the user can ask again.")
	}
	now := s.now()
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.DecideAccessRequest(ctx, ar.ID, status, req.Reason, a.acct.ID, now); err != nil {
			return err
		}
		if status == store.RequestApproved {
			if err := q.Grant(ctx, ar.AccountID, ar.AppID, "active", now); err != nil {
				return err
			}
		}
		if err := s.addEvent(ctx, q, ar.AccountID, api.Event{Type: api.EventAccessDecided, AppID: ar.AppID, AppName: ar.AppName,
			Status: status, Reason: req.Reason}); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "access."+status, a.acct.UserID, ar.UserID, ar.AppID)
	})
	if errors.Is(err, store.ErrNotFound) {
		return invalid("This request was decided a moment ago by someone else.")
	}
	if err != nil {
		return err
	}
	s.hub.notify(ar.AccountID)
	user, err := s.st.AccountByID(ctx, ar.AccountID)
	if err != nil {
		return err
	}
	if err := s.notifyDecision(r, ar, user, req.Decision, req.Reason); err != nil {
		return err
	}
	ar.Status, ar.Reason, ar.DecidedAt = status, req.Reason, now
	return writeJSON(w, http.StatusOK, apiRequest(ar))
}
