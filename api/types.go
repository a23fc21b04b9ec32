package api

import "time"

// Version of this API; the server reports it in Meta.
const Version = "1"

// Headers used by the API.
const (
	// HeaderExpectedUserID carries the user id the client believes it is acting as. The server
	// answers SESSION_ACCOUNT_MISMATCH when the session belongs to someone else.
	HeaderExpectedUserID = "Expected-User-Id"
	HeaderRequestID      = "X-Request-ID"
)

// Paths of the endpoints. Placeholders in braces are Go 1.22 ServeMux wildcards.
const (
	PathMeta                     = "/v1/meta"
	PathSecurityQuestions        = "/v1/security-questions"
	PathActivationInspect        = "/v1/activation/inspect"
	PathActivationComplete       = "/v1/activation/complete"
	PathLogin                    = "/v1/auth/login"
	PathLoginMFA                 = "/v1/auth/login/mfa"
	PathRecoveryActivation       = "/v1/recovery/activation"
	PathRecoveryUserIDs          = "/v1/recovery/user-ids"
	PathRecoveryPasswordStart    = "/v1/recovery/password/start"
	PathRecoveryPasswordComplete = "/v1/recovery/password/complete"
	PathMe                       = "/v1/me"
	PathSessionCurrent           = "/v1/sessions/current"
	PathMyApplications           = "/v1/me/applications"
	PathAccessRequests           = "/v1/me/applications/{app}/access-requests"
	PathLaunch                   = "/v1/me/applications/{app}/launch"
	PathTerms                    = "/v1/orgs/{org}/applications/{app}/terms"
	PathTermsAcceptances         = "/v1/orgs/{org}/applications/{app}/terms/acceptances"
	PathOrgAccessRequests        = "/v1/orgs/{org}/access-requests"
	PathDecision                 = "/v1/orgs/{org}/access-requests/{id}/decision"
	PathTOTP                     = "/v1/me/otp/totp"
	PathTOTPVerify               = "/v1/me/otp/totp/{enrollment}/verify"
	PathCertificates             = "/v1/me/certificates"
	PathCertificateConnections   = "/v1/me/certificate-connections"
	PathCertificate              = "/v1/me/certificates/{id}"
	PathCertificateRenewal       = "/v1/me/certificates/{id}/renewal"
	PathEvents                   = "/v1/me/events"

	// The JSON endpoints of magd's OpenID Connect provider (issuer: the server URL + /oidc).
	PathOIDCDiscovery = "/oidc/.well-known/openid-configuration"
	PathOIDCKeys      = "/oidc/keys"
	PathOIDCToken     = "/oidc/oauth/token"
	PathOIDCUserinfo  = "/oidc/userinfo"
)

// PasswordPolicy is what the server enforces on new passwords: a length range and a
// blocklist, and deliberately no composition rules (NIST SP 800-63B-4).
type PasswordPolicy struct {
	MinLength int  `json:"min_length"`
	MaxLength int  `json:"max_length"`
	Blocklist bool `json:"blocklist"`
}

// Features the server has switched on.
type Features struct {
	SecurityQuestions bool `json:"security_questions"`
	TOTP              bool `json:"totp"`
	MTLS              bool `json:"mtls"`
	Recovery          bool `json:"recovery"`
}

// Meta is GET /v1/meta.
type Meta struct {
	APIVersion       string         `json:"api_version"`
	ServerVersion    string         `json:"server_version"`
	MinClientVersion string         `json:"min_client_version"`
	Features         Features       `json:"features"`
	PasswordPolicy   PasswordPolicy `json:"password_policy"`
	// SecurityQuestionsRequired is how many answers activation needs (4, or 0 when off).
	SecurityQuestionsRequired int `json:"security_questions_required"`
}

// SecurityQuestion is one entry of the catalogue.
type SecurityQuestion struct {
	ID   string `json:"question_id"`
	Text string `json:"text"`
}

// SecurityAnswer answers one catalogue question.
type SecurityAnswer struct {
	QuestionID string `json:"question_id"`
	Answer     string `json:"answer"`
}

// TokenRequest is the body of activation/inspect.
type TokenRequest struct {
	Token string `json:"token"`
}

// ActivationInfo is what activation/inspect tells about a pending account.
type ActivationInfo struct {
	UserID                    string         `json:"user_id"`
	DisplayName               string         `json:"display_name"`
	EmailMasked               string         `json:"email_masked"`
	OrgName                   string         `json:"org_name"`
	ExpiresAt                 time.Time      `json:"expires_at"`
	Steps                     []string       `json:"steps"` // "set_password", "security_questions"
	PasswordPolicy            PasswordPolicy `json:"password_policy"`
	SecurityQuestionsRequired int            `json:"security_questions_required"`
}

// ActivationCompleteRequest sets the first password and the security answers.
type ActivationCompleteRequest struct {
	Token           string           `json:"token"`
	Password        string           `json:"password"`
	PasswordConfirm string           `json:"password_confirm"`
	SecurityAnswers []SecurityAnswer `json:"security_answers"`
}

// ActivationCompleteResponse tells the user what comes next (log in).
type ActivationCompleteResponse struct {
	UserID string `json:"user_id"`
	Status string `json:"status"`
	Next   string `json:"next"`
}

// ClientInfo describes the calling app, recorded with the session.
type ClientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Device  string `json:"device,omitempty"`
}

// LoginRequest is POST /v1/auth/login. A client certificate, if any, is on the TLS connection.
type LoginRequest struct {
	UserID   string      `json:"user_id"`
	Password string      `json:"password"`
	OTP      string      `json:"otp,omitempty"`
	Client   *ClientInfo `json:"client,omitempty"`
}

// MFARequest completes a login that answered MFA_REQUIRED.
type MFARequest struct {
	MFATicket string `json:"mfa_ticket"`
	OTP       string `json:"otp"`
}

// Org is an organisation.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Roles.
const (
	RoleOrgAdmin = "org_admin"
	RoleUser     = "user"
)

// Account is a user account as the API shows it.
type Account struct {
	UserID      string   `json:"user_id"`
	DisplayName string   `json:"display_name"`
	Email       string   `json:"email"`
	Org         Org      `json:"org"`
	Roles       []string `json:"roles"`
	Status      string   `json:"status"`
	TOTPEnabled bool     `json:"totp_enabled"`
}

// SessionInfo describes a session: its assurance level and how it was authenticated.
type SessionInfo struct {
	ID              string    `json:"id"`
	AAL             int       `json:"aal"`
	AMR             []string  `json:"amr"` // "pwd", "otp", "x509"
	AuthenticatedAt time.Time `json:"authenticated_at"`
	ExpiresAt       time.Time `json:"expires_at"`
	IdleExpiresAt   time.Time `json:"idle_expires_at"`
	CertSHA256      string    `json:"cert_sha256,omitempty"`
}

// LoginResponse is a successful login.
type LoginResponse struct {
	SessionToken       string      `json:"session_token"`
	TokenType          string      `json:"token_type"`
	ExpiresAt          time.Time   `json:"expires_at"`
	IdleTimeoutSeconds int         `json:"idle_timeout_seconds"`
	Session            SessionInfo `json:"session"`
	Account            Account     `json:"account"`
	RequiredActions    []string    `json:"required_actions"`
	FirstLogin         bool        `json:"first_login"`
}

// Me is GET /v1/me.
type Me struct {
	Account         Account     `json:"account"`
	Session         SessionInfo `json:"session"`
	RequiredActions []string    `json:"required_actions"`
}

// Application statuses, as the server derives them for one user.
const (
	StatusPendingTerms    = "pending_terms"
	StatusAvailable       = "available"
	StatusAccessRequested = "access_requested"
	StatusAccessGranted   = "access_granted"
	StatusAccessDenied    = "access_denied"
	StatusSuspended       = "suspended"
)

// Application actions.
const (
	ActionOpen          = "open"
	ActionRequestAccess = "request_access"
	ActionViewTerms     = "view_terms"
	ActionAcceptTerms   = "accept_terms"
)

// Application is one row of Home.
type Application struct {
	AppID       string   `json:"app_id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Status      string   `json:"status"`
	StatusText  string   `json:"status_text"` // plain words, e.g. "Waiting for your organisation administrator to accept the Terms and Conditions"
	Actions     []string `json:"actions"`
	RequiredAAL int      `json:"required_aal"`
	OrgID       string   `json:"org_id"`
	DenyReason  string   `json:"deny_reason,omitempty"`
}

// AccessRequest is a user's request for an application.
type AccessRequest struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	DisplayName string     `json:"display_name"`
	AppID       string     `json:"app_id"`
	AppName     string     `json:"app_name"`
	Status      string     `json:"status"` // pending, approved, denied
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
}

// LaunchResponse is a single-use, short-lived URL that opens the application in a browser.
type LaunchResponse struct {
	LaunchURL string    `json:"launch_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Terms is an application's current service agreement for an organisation.
type Terms struct {
	TermsVersionID string     `json:"terms_version_id"`
	OrgID          string     `json:"org_id"`
	AppID          string     `json:"app_id"`
	AppName        string     `json:"app_name"`
	Version        string     `json:"version"`
	Title          string     `json:"title"`
	Body           string     `json:"body"`
	SHA256         string     `json:"sha256"`
	PublishedAt    time.Time  `json:"published_at"`
	Accepted       bool       `json:"accepted"`
	AcceptedAt     *time.Time `json:"accepted_at,omitempty"`
	AcceptedBy     string     `json:"accepted_by,omitempty"`
}

// AcceptTermsRequest is "I Agree".
type AcceptTermsRequest struct {
	TermsVersionID string `json:"terms_version_id"`
}

// Acceptance records an organisation's agreement to one terms version.
type Acceptance struct {
	AcceptanceID   string    `json:"acceptance_id"`
	TermsVersionID string    `json:"terms_version_id"`
	AcceptedBy     string    `json:"accepted_by"`
	AcceptedAt     time.Time `json:"accepted_at"`
}

// Decisions on access requests.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

// DecisionRequest approves or denies an access request.
type DecisionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
}

// TOTPEnrollment starts registering an authenticator app.
type TOTPEnrollment struct {
	EnrollmentID string    `json:"enrollment_id"`
	OTPAuthURI   string    `json:"otpauth_uri"`
	SecretBase32 string    `json:"secret_base32"`
	Issuer       string    `json:"issuer"`
	AccountName  string    `json:"account_name"`
	Digits       int       `json:"digits"`
	Period       int       `json:"period"`
	Algorithm    string    `json:"algorithm"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// CodeRequest carries a one-time code.
type CodeRequest struct {
	Code string `json:"code"`
}

// TOTPCredential is an active authenticator.
type TOTPCredential struct {
	CredentialID string    `json:"credential_id"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
}

// CSRRequest asks for a client certificate. The private key never leaves the client.
type CSRRequest struct {
	CSRPEM string `json:"csr_pem"`
	Label  string `json:"label,omitempty"`
}

// Certificate is a client certificate as the server knows it. SHA256 is lower-case hex of the DER.
type Certificate struct {
	CertificateID  string    `json:"certificate_id"`
	SHA256         string    `json:"sha256"`
	Serial         string    `json:"serial"`
	Subject        string    `json:"subject"`
	NotBefore      time.Time `json:"not_before"`
	NotAfter       time.Time `json:"not_after"`
	Status         string    `json:"status"`    // active, revoked
	BoundVia       string    `json:"bound_via"` // issuance, connection
	BoundAccounts  int       `json:"bound_accounts"`
	CertificatePEM string    `json:"certificate_pem,omitempty"`
	ChainPEM       string    `json:"chain_pem,omitempty"` // the issuing CA, PEM
	// RenewableFrom is when the renewal window of an active certificate opens.
	RenewableFrom *time.Time `json:"renewable_from,omitempty"`
	// Renews is the certificate this one replaces, until its first login revokes that one.
	Renews string `json:"renews,omitempty"`
	// Superseded (answer of a renewal) are the earlier, never used renewals of the same
	// certificate that this one replaced: they are revoked.
	Superseded []string `json:"superseded,omitempty"`
}

// ConnectionRequest is Account Connections: the credentials of the account that owns the
// certificate presented on this TLS connection.
type ConnectionRequest struct {
	UserID   string `json:"user_id"`
	Password string `json:"password"`
	OTP      string `json:"otp,omitempty"`
}

// Connection is the result of binding a certificate to the current account.
type Connection struct {
	CertificateID string `json:"certificate_id"`
	SHA256        string `json:"sha256"`
	BoundAccounts int    `json:"bound_accounts"`
}

// RecoveryActivationRequest is "Establish Your Account".
type RecoveryActivationRequest struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// RecoveryUserIDsRequest asks for the user ids registered to an address.
type RecoveryUserIDsRequest struct {
	Email string `json:"email"`
}

// RecoveryAccepted is the same answer whether or not anything matched.
type RecoveryAccepted struct {
	Message string `json:"message"`
}

// PasswordRecoveryStartRequest starts a forgotten-password recovery.
type PasswordRecoveryStartRequest struct {
	UserID string `json:"user_id"`
}

// PasswordRecovery is the answer to recovery/password/start: two questions to answer
// besides the emailed code.
type PasswordRecovery struct {
	RecoveryID string             `json:"recovery_id"`
	Questions  []SecurityQuestion `json:"questions"`
	ExpiresAt  time.Time          `json:"expires_at"`
}

// PasswordRecoveryCompleteRequest sets a new password.
type PasswordRecoveryCompleteRequest struct {
	RecoveryID      string           `json:"recovery_id"`
	Code            string           `json:"code"`
	SecurityAnswers []SecurityAnswer `json:"security_answers"`
	Password        string           `json:"password"`
	PasswordConfirm string           `json:"password_confirm"`
}
