package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/mag-desktop/magdesk/api"
)

// Meta is GET /v1/meta: versions, features and the password policy.
func (c *Client) Meta(ctx context.Context) (*api.Meta, error) {
	var out api.Meta
	err := c.do(ctx, call{op: "meta", method: http.MethodGet, path: api.PathMeta, out: &out, idempotent: true})
	return ret(&out, err)
}

// SecurityQuestions is the catalogue to choose four questions from at activation.
func (c *Client) SecurityQuestions(ctx context.Context) ([]api.SecurityQuestion, error) {
	out := list[api.SecurityQuestion]{key: "questions"}
	err := c.do(ctx, call{op: "security questions", method: http.MethodGet, path: api.PathSecurityQuestions,
		out: &out, idempotent: true})
	return out.items, err
}

// InspectActivation tells who an activation token is for, without consuming it.
func (c *Client) InspectActivation(ctx context.Context, token string) (*api.ActivationInfo, error) {
	var out api.ActivationInfo
	err := c.do(ctx, call{op: "inspect activation", method: http.MethodPost, path: api.PathActivationInspect,
		body: api.TokenRequest{Token: token}, out: &out})
	return ret(&out, err)
}

// CompleteActivation sets the first password and the security answers; it consumes the token.
func (c *Client) CompleteActivation(ctx context.Context, req api.ActivationCompleteRequest) (*api.ActivationCompleteResponse, error) {
	var out api.ActivationCompleteResponse
	err := c.do(ctx, call{op: "activate", method: http.MethodPost, path: api.PathActivationComplete,
		body: req, out: &out})
	return ret(&out, err)
}

// Login logs userID in with a password (and a one-time code when already known). The client
// certificate, if any, is the one this client presents (WithCertificate). On success the client
// acts as the account; when the server wants a code, IsMFARequired(err) gives the ticket for
// LoginMFA.
func (c *Client) Login(ctx context.Context, userID, password, otp string) (*api.LoginResponse, error) {
	var out api.LoginResponse
	req := api.LoginRequest{UserID: strings.TrimSpace(userID), Password: password, OTP: otp}
	if c.opts.ClientInfo != (api.ClientInfo{}) {
		ci := c.opts.ClientInfo
		req.Client = &ci
	}
	err := c.do(ctx, call{op: "login", method: http.MethodPost, path: api.PathLogin, body: req, out: &out})
	if err != nil {
		return nil, err
	}
	return c.adopt(&out, req.UserID)
}

// LoginMFA completes a login that answered MFA_REQUIRED.
func (c *Client) LoginMFA(ctx context.Context, ticket, otp string) (*api.LoginResponse, error) {
	var out api.LoginResponse
	err := c.do(ctx, call{op: "login", method: http.MethodPost, path: api.PathLoginMFA,
		body: api.MFARequest{MFATicket: ticket, OTP: otp}, out: &out})
	if err != nil {
		return nil, err
	}
	return c.adopt(&out, "")
}

// adopt makes the client act as the account of a fresh login.
func (c *Client) adopt(out *api.LoginResponse, asked string) (*api.LoginResponse, error) {
	if out.SessionToken == "" || out.Account.UserID == "" {
		return nil, &Error{Kind: KindServer, Op: "login", Server: c.server.Host, Status: http.StatusOK,
			Err: errors.New("the login answer has no session token or account")}
	}
	if asked != "" && !strings.EqualFold(asked, out.Account.UserID) {
		return nil, &Error{Kind: KindAccountMismatch, Op: "login", Server: c.server.Host,
			ExpectedUser: asked, ActualUser: out.Account.UserID}
	}
	c.SetSession(out.Account.UserID, out.SessionToken)
	return out, nil
}

// Resume makes the client act as userID with a cached token and checks with GET /v1/me that
// the token really is that account's. A token that is dead or another account's is dropped
// again; after a network error it is kept, to retry.
func (c *Client) Resume(ctx context.Context, userID, token string) (*api.Me, error) {
	c.SetSession(userID, token)
	me, err := c.Me(ctx)
	if IsAccountMismatch(err) || IsUnauthenticated(err) {
		c.ClearSession()
	}
	return me, err
}

// Me is GET /v1/me. An answer naming another account than the expected one is an
// account-mismatch error, even if the server did not check Expected-User-Id.
func (c *Client) Me(ctx context.Context) (*api.Me, error) {
	var out api.Me
	err := c.do(ctx, call{op: "me", method: http.MethodGet, path: api.PathMe, out: &out, auth: true, idempotent: true})
	if err != nil {
		return nil, err
	}
	if want := c.UserID(); want != "" && !strings.EqualFold(want, out.Account.UserID) {
		return nil, &Error{Kind: KindAccountMismatch, Op: "me", Server: c.server.Host,
			ExpectedUser: want, ActualUser: out.Account.UserID}
	}
	return &out, nil
}

// Logout ends the session on the server and forgets it here. A session the server had already
// ended counts as logged out.
func (c *Client) Logout(ctx context.Context) error {
	err := c.do(ctx, call{op: "logout", method: http.MethodDelete, path: api.PathSessionCurrent, auth: true, idempotent: true})
	if err == nil || IsUnauthenticated(err) {
		c.ClearSession()
		return nil
	}
	return err
}

// RevokeToken ends a session given only its token, whoever it belongs to (clearing cached
// sessions). It does not change the client's own session.
func (c *Client) RevokeToken(ctx context.Context, token string) error {
	return c.do(ctx, call{op: "revoke session", method: http.MethodDelete, path: api.PathSessionCurrent,
		auth: true, idempotent: true, noExpected: true, token: token})
}

// Applications is Home: every application of the organisation with its status for this user.
func (c *Client) Applications(ctx context.Context) ([]api.Application, error) {
	out := list[api.Application]{key: "applications"}
	err := c.do(ctx, call{op: "applications", method: http.MethodGet, path: api.PathMyApplications,
		out: &out, auth: true, idempotent: true})
	return out.items, err
}

// RequestAccess asks for access to an application.
func (c *Client) RequestAccess(ctx context.Context, appID string) (*api.AccessRequest, error) {
	var out api.AccessRequest
	err := c.do(ctx, call{op: "request access", method: http.MethodPost, path: api.PathAccessRequests,
		params: map[string]string{"app": appID}, body: struct{}{}, out: &out, auth: true})
	return ret(&out, err)
}

// Launch returns a single-use, short-lived URL that opens the application in a browser.
func (c *Client) Launch(ctx context.Context, appID string) (*api.LaunchResponse, error) {
	var out api.LaunchResponse
	err := c.do(ctx, call{op: "open application", method: http.MethodPost, path: api.PathLaunch,
		params: map[string]string{"app": appID}, body: struct{}{}, out: &out, auth: true})
	return ret(&out, err)
}

// Terms is an application's current service agreement for an organisation (org admin).
func (c *Client) Terms(ctx context.Context, orgID, appID string) (*api.Terms, error) {
	var out api.Terms
	err := c.do(ctx, call{op: "terms", method: http.MethodGet, path: api.PathTerms,
		params: map[string]string{"org": orgID, "app": appID}, out: &out, auth: true, idempotent: true})
	return ret(&out, err)
}

// AcceptTerms is "I Agree" to the exact terms version the administrator read.
func (c *Client) AcceptTerms(ctx context.Context, orgID, appID, termsVersionID string) (*api.Acceptance, error) {
	var out api.Acceptance
	err := c.do(ctx, call{op: "accept terms", method: http.MethodPost, path: api.PathTermsAcceptances,
		params: map[string]string{"org": orgID, "app": appID},
		body:   api.AcceptTermsRequest{TermsVersionID: termsVersionID}, out: &out, auth: true})
	return ret(&out, err)
}

// AccessRequests lists the organisation's pending access requests (org admin).
func (c *Client) AccessRequests(ctx context.Context, orgID string) ([]api.AccessRequest, error) {
	out := list[api.AccessRequest]{key: "access_requests"}
	err := c.do(ctx, call{op: "access requests", method: http.MethodGet, path: api.PathOrgAccessRequests,
		params: map[string]string{"org": orgID}, out: &out, auth: true, idempotent: true})
	return out.items, err
}

// Decide approves (api.DecisionApprove) or denies (api.DecisionDeny) an access request.
func (c *Client) Decide(ctx context.Context, orgID, requestID, decision, reason string) (*api.AccessRequest, error) {
	var out api.AccessRequest
	err := c.do(ctx, call{op: "decide access request", method: http.MethodPost, path: api.PathDecision,
		params: map[string]string{"org": orgID, "id": requestID},
		body:   api.DecisionRequest{Decision: decision, Reason: reason}, out: &out, auth: true})
	return ret(&out, err)
}

// StartTOTP begins registering an authenticator app: show OTPAuthURI as a QR code.
func (c *Client) StartTOTP(ctx context.Context) (*api.TOTPEnrollment, error) {
	var out api.TOTPEnrollment
	err := c.do(ctx, call{op: "start OTP registration", method: http.MethodPost, path: api.PathTOTP,
		body: struct{}{}, out: &out, auth: true})
	return ret(&out, err)
}

// VerifyTOTP activates an enrolment with the first code from the app.
func (c *Client) VerifyTOTP(ctx context.Context, enrollmentID, code string) (*api.TOTPCredential, error) {
	var out api.TOTPCredential
	err := c.do(ctx, call{op: "verify OTP", method: http.MethodPost, path: api.PathTOTPVerify,
		params: map[string]string{"enrollment": enrollmentID},
		body:   api.CodeRequest{Code: strings.TrimSpace(code)}, out: &out, auth: true})
	return ret(&out, err)
}

// RequestCertificate sends a CSR (PEM); the private key never leaves this computer.
func (c *Client) RequestCertificate(ctx context.Context, csrPEM, label string) (*api.Certificate, error) {
	var out api.Certificate
	err := c.do(ctx, call{op: "request certificate", method: http.MethodPost, path: api.PathCertificates,
		body: api.CSRRequest{CSRPEM: csrPEM, Label: label}, out: &out, auth: true})
	return ret(&out, err)
}

// Certificates lists the certificates bound to this account.
func (c *Client) Certificates(ctx context.Context) ([]api.Certificate, error) {
	out := list[api.Certificate]{key: "certificates"}
	err := c.do(ctx, call{op: "certificates", method: http.MethodGet, path: api.PathCertificates,
		out: &out, auth: true, idempotent: true})
	return out.items, err
}

// ConnectCertificate is Account Connections: it binds the certificate this client presents
// (WithCertificate) to the logged-in account, given the credentials of the account that owns it.
func (c *Client) ConnectCertificate(ctx context.Context, req api.ConnectionRequest) (*api.Connection, error) {
	var out api.Connection
	err := c.do(ctx, call{op: "connect certificate", method: http.MethodPost, path: api.PathCertificateConnections,
		body: req, out: &out, auth: true})
	return ret(&out, err)
}

// RecoverActivation is "Establish Your Account": a fresh activation email when the user id and
// email match a pending account. The answer is the same whether or not they matched.
func (c *Client) RecoverActivation(ctx context.Context, userID, email string) (*api.RecoveryAccepted, error) {
	var out api.RecoveryAccepted
	err := c.do(ctx, call{op: "recover activation", method: http.MethodPost, path: api.PathRecoveryActivation,
		body: api.RecoveryActivationRequest{UserID: strings.TrimSpace(userID), Email: strings.TrimSpace(email)}, out: &out})
	return ret(&out, err)
}

// RecoverUserIDs emails every user id registered to the address.
func (c *Client) RecoverUserIDs(ctx context.Context, email string) (*api.RecoveryAccepted, error) {
	var out api.RecoveryAccepted
	err := c.do(ctx, call{op: "recover user id", method: http.MethodPost, path: api.PathRecoveryUserIDs,
		body: api.RecoveryUserIDsRequest{Email: strings.TrimSpace(email)}, out: &out})
	return ret(&out, err)
}

// StartPasswordRecovery emails a one-time code and returns the two questions to answer.
func (c *Client) StartPasswordRecovery(ctx context.Context, userID string) (*api.PasswordRecovery, error) {
	var out api.PasswordRecovery
	err := c.do(ctx, call{op: "start password recovery", method: http.MethodPost, path: api.PathRecoveryPasswordStart,
		body: api.PasswordRecoveryStartRequest{UserID: strings.TrimSpace(userID)}, out: &out})
	return ret(&out, err)
}

// CompletePasswordRecovery sets the new password; the server ends every session of the account.
func (c *Client) CompletePasswordRecovery(ctx context.Context, req api.PasswordRecoveryCompleteRequest) (*api.RecoveryAccepted, error) {
	var out api.RecoveryAccepted
	err := c.do(ctx, call{op: "complete password recovery", method: http.MethodPost,
		path: api.PathRecoveryPasswordComplete, body: req, out: &out})
	return ret(&out, err)
}

func ret[T any](v *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// list decodes a JSON array, or an object holding the array under key (servers may wrap lists
// to add paging later).
type list[T any] struct {
	key   string
	items []T
}

func (l *list[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte("[")) || bytes.Equal(b, []byte("null")) {
		return json.Unmarshal(b, &l.items)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	raw, ok := m[l.key]
	if !ok {
		raw, ok = m["items"]
	}
	if !ok {
		return errors.New("the answer holds no list of " + l.key)
	}
	return json.Unmarshal(raw, &l.items)
}
