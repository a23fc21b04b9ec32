// Package api holds the wire contract shared by the magd server and the magdesk client:
// request and response types, header and path names, and the catalogue of error codes.
package api

import (
	"fmt"
	"net/http"
)

// Code is a stable, machine-readable error code carried in every problem+json body.
type Code string

// The error codes of the API: every problem+json body carries one.
const (
	CodeValidationFailed         Code = "VALIDATION_FAILED"
	CodePasswordMismatch         Code = "PASSWORD_MISMATCH"
	CodePasswordTooShort         Code = "PASSWORD_TOO_SHORT"
	CodePasswordTooLong          Code = "PASSWORD_TOO_LONG"
	CodePasswordBlocklisted      Code = "PASSWORD_BLOCKLISTED"
	CodeSecurityQuestionsInvalid Code = "SECURITY_QUESTIONS_INVALID"
	CodeActivationTokenInvalid   Code = "ACTIVATION_TOKEN_INVALID"
	CodeActivationTokenExpired   Code = "ACTIVATION_TOKEN_EXPIRED"
	CodeActivationTokenUsed      Code = "ACTIVATION_TOKEN_USED"
	CodeInvalidCredentials       Code = "INVALID_CREDENTIALS"
	CodeMFARequired              Code = "MFA_REQUIRED"
	CodeMFATicketInvalid         Code = "MFA_TICKET_INVALID"
	CodeOTPInvalid               Code = "OTP_INVALID"
	CodeOTPReplayed              Code = "OTP_REPLAYED"
	CodeAccountLocked            Code = "ACCOUNT_LOCKED"
	CodeAccountDisabled          Code = "ACCOUNT_DISABLED"
	CodeUnauthenticated          Code = "UNAUTHENTICATED"
	CodeSessionExpired           Code = "SESSION_EXPIRED"
	CodeSessionAccountMismatch   Code = "SESSION_ACCOUNT_MISMATCH"
	CodeReauthRequired           Code = "REAUTH_REQUIRED"
	CodeCertWrongAccount         Code = "CERT_WRONG_ACCOUNT"
	CodeCertNotRegistered        Code = "CERT_NOT_REGISTERED"
	CodeCertExpired              Code = "CERT_EXPIRED"
	CodeCertRevoked              Code = "CERT_REVOKED"
	CodeCertUntrusted            Code = "CERT_UNTRUSTED"
	CodeCertRequired             Code = "CERT_REQUIRED"
	CodeCertAlreadyConnected     Code = "CERT_ALREADY_CONNECTED"
	CodeCertRenewalNotOpen       Code = "CERT_RENEWAL_NOT_OPEN"
	CodeCertLimitReached         Code = "CERT_LIMIT_REACHED"
	CodeConnectionSourceAuth     Code = "CONNECTION_SOURCE_AUTH_FAILED"
	CodeCSRInvalid               Code = "CSR_INVALID"
	CodeCSRSignatureInvalid      Code = "CSR_SIGNATURE_INVALID"
	CodeCSRKeyUnsupported        Code = "CSR_KEY_UNSUPPORTED"
	CodeTermsNotAccepted         Code = "TERMS_NOT_ACCEPTED"
	CodeTermsVersionStale        Code = "TERMS_VERSION_STALE"
	CodeAccessRequestExists      Code = "ACCESS_REQUEST_EXISTS"
	CodeAlreadyHasAccess         Code = "ALREADY_HAS_ACCESS"
	CodeNotSubscribed            Code = "NOT_SUBSCRIBED"
	CodeLaunchNotAllowed         Code = "LAUNCH_NOT_ALLOWED"
	CodeStepUpRequired           Code = "STEP_UP_REQUIRED"
	CodeTOTPAlreadyEnrolled      Code = "TOTP_ALREADY_ENROLLED"
	CodeEnrollmentExpired        Code = "ENROLLMENT_EXPIRED"
	CodeRecoveryInvalid          Code = "RECOVERY_INVALID"
	CodeForbidden                Code = "FORBIDDEN"
	CodeNotFound                 Code = "NOT_FOUND"
	CodeMethodNotAllowed         Code = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType     Code = "UNSUPPORTED_MEDIA_TYPE"
	CodePayloadTooLarge          Code = "PAYLOAD_TOO_LARGE"
	CodeRateLimited              Code = "RATE_LIMITED"
	CodeServerBusy               Code = "SERVER_BUSY"
	CodeStorageFull              Code = "STORAGE_FULL"
	CodeInternal                 Code = "INTERNAL"
)

// MagCodeWrongCertificate is the portal's numeric code for a certificate bound to another account.
const MagCodeWrongCertificate = 2035

// CodeInfo is the catalogue entry for a code: its HTTP status, display title and MAG code.
type CodeInfo struct {
	Status  int
	Title   string
	MagCode int
}

// Catalogue maps every code the server may send to its HTTP status and title.
var Catalogue = map[Code]CodeInfo{
	CodeValidationFailed:         {http.StatusBadRequest, "The request is not valid", 0},
	CodePasswordMismatch:         {http.StatusBadRequest, "The passwords do not match", 0},
	CodePasswordTooShort:         {http.StatusBadRequest, "The password is too short", 0},
	CodePasswordTooLong:          {http.StatusBadRequest, "The password is too long", 0},
	CodePasswordBlocklisted:      {http.StatusBadRequest, "The password is too common", 0},
	CodeSecurityQuestionsInvalid: {http.StatusBadRequest, "The security questions are not valid", 0},
	CodeActivationTokenInvalid:   {http.StatusNotFound, "The activation link is not valid", 0},
	CodeActivationTokenExpired:   {http.StatusGone, "The activation link has expired", 0},
	CodeActivationTokenUsed:      {http.StatusGone, "The activation link was already used", 0},
	CodeInvalidCredentials:       {http.StatusUnauthorized, "User ID or password is wrong", 0},
	CodeMFARequired:              {http.StatusUnauthorized, "A one-time code is needed", 0},
	CodeMFATicketInvalid:         {http.StatusUnauthorized, "The login attempt has expired", 0},
	CodeOTPInvalid:               {http.StatusUnauthorized, "The one-time code is wrong", 0},
	CodeOTPReplayed:              {http.StatusUnauthorized, "The one-time code was already used", 0},
	CodeAccountLocked:            {http.StatusLocked, "The account is locked for now", 0},
	CodeAccountDisabled:          {http.StatusForbidden, "The account is disabled", 0},
	CodeUnauthenticated:          {http.StatusUnauthorized, "You are not logged in", 0},
	CodeSessionExpired:           {http.StatusUnauthorized, "Your session has expired", 0},
	CodeSessionAccountMismatch:   {http.StatusConflict, "Logged in as a different account", 0},
	CodeReauthRequired:           {http.StatusForbidden, "Please log in again first", 0},
	CodeCertWrongAccount:         {http.StatusForbidden, "Wrong certificate", MagCodeWrongCertificate},
	CodeCertNotRegistered:        {http.StatusForbidden, "The certificate is not registered", 0},
	CodeCertExpired:              {http.StatusForbidden, "The certificate has expired", 0},
	CodeCertRevoked:              {http.StatusForbidden, "The certificate was revoked", 0},
	CodeCertUntrusted:            {http.StatusForbidden, "The certificate is not trusted", 0},
	CodeCertRequired:             {http.StatusUnauthorized, "A certificate is needed", 0},
	CodeCertAlreadyConnected:     {http.StatusConflict, "The certificate is already connected", 0},
	CodeCertRenewalNotOpen:       {http.StatusConflict, "The certificate cannot be renewed yet", 0},
	CodeCertLimitReached:         {http.StatusConflict, "Too many active certificates", 0},
	CodeConnectionSourceAuth:     {http.StatusUnauthorized, "The other account's credentials are wrong", 0},
	CodeCSRInvalid:               {http.StatusBadRequest, "The certificate request is not valid", 0},
	CodeCSRSignatureInvalid:      {http.StatusBadRequest, "The certificate request signature is wrong", 0},
	CodeCSRKeyUnsupported:        {http.StatusBadRequest, "The key type is not supported", 0},
	CodeTermsNotAccepted:         {http.StatusConflict, "Terms and Conditions not accepted yet", 0},
	CodeTermsVersionStale:        {http.StatusConflict, "The Terms and Conditions have changed", 0},
	CodeAccessRequestExists:      {http.StatusConflict, "Access was already requested", 0},
	CodeAlreadyHasAccess:         {http.StatusConflict, "You already have access", 0},
	CodeNotSubscribed:            {http.StatusConflict, "Your organisation is not subscribed", 0},
	CodeLaunchNotAllowed:         {http.StatusForbidden, "You cannot open this application yet", 0},
	CodeStepUpRequired:           {http.StatusForbidden, "A stronger login is needed", 0},
	CodeTOTPAlreadyEnrolled:      {http.StatusConflict, "An authenticator is already registered", 0},
	CodeEnrollmentExpired:        {http.StatusGone, "The registration has expired", 0},
	CodeRecoveryInvalid:          {http.StatusBadRequest, "The recovery could not be completed", 0},
	CodeForbidden:                {http.StatusForbidden, "Not allowed", 0},
	CodeNotFound:                 {http.StatusNotFound, "Not found", 0},
	CodeMethodNotAllowed:         {http.StatusMethodNotAllowed, "Method not allowed", 0},
	CodeUnsupportedMediaType:     {http.StatusUnsupportedMediaType, "Send JSON", 0},
	CodePayloadTooLarge:          {http.StatusRequestEntityTooLarge, "The request is too large", 0},
	CodeRateLimited:              {http.StatusTooManyRequests, "Too many requests", 0},
	CodeServerBusy:               {http.StatusServiceUnavailable, "The server is busy", 0},
	CodeStorageFull:              {http.StatusInsufficientStorage, "The server is out of storage", 0},
	CodeInternal:                 {http.StatusInternalServerError, "Internal error", 0},
}

// ProblemContentType is the media type of every error body (RFC 9457).
const ProblemContentType = "application/problem+json"

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Remediation is one thing the user can do about an error. ClientSide actions are done
// locally by the app (for example removing a certificate from this computer).
type Remediation struct {
	Action     string `json:"action"`
	Title      string `json:"title"`
	Method     string `json:"method,omitempty"`
	Href       string `json:"href,omitempty"`
	ClientSide bool   `json:"client_side,omitempty"`
	CertSHA256 string `json:"cert_sha256,omitempty"`
}

// Problem is an RFC 9457 problem details body with this API's extensions.
type Problem struct {
	Type        string        `json:"type,omitempty"`
	Title       string        `json:"title"`
	Status      int           `json:"status"`
	Code        Code          `json:"code"`
	MagCode     int           `json:"mag_code,omitempty"`
	Detail      string        `json:"detail"`
	RequestID   string        `json:"request_id,omitempty"`
	Errors      []FieldError  `json:"errors,omitempty"`
	Remediation []Remediation `json:"remediation,omitempty"`
	// RetryAfter is in seconds, for ACCOUNT_LOCKED, RATE_LIMITED and SERVER_BUSY.
	RetryAfter int `json:"retry_after,omitempty"`
	// MFATicket and Methods come with MFA_REQUIRED.
	MFATicket string   `json:"mfa_ticket,omitempty"`
	Methods   []string `json:"methods,omitempty"`
	// CertSHA256 names the presented certificate for CERT_* errors (hex, lower case).
	CertSHA256 string `json:"cert_sha256,omitempty"`
}

// NewProblem builds a problem from the catalogue entry of code.
func NewProblem(code Code, detail string) *Problem {
	info, ok := Catalogue[code]
	if !ok {
		info = Catalogue[CodeInternal]
	}
	return &Problem{
		Type:    "urn:mag:problem:" + string(code),
		Title:   info.Title,
		Status:  info.Status,
		Code:    code,
		MagCode: info.MagCode,
		Detail:  detail,
	}
}

// Error makes a Problem usable as a Go error.
func (p *Problem) Error() string {
	if p.MagCode != 0 {
		return fmt.Sprintf("%s (Error %d): %s", p.Title, p.MagCode, p.Detail)
	}
	return fmt.Sprintf("%s: %s", p.Title, p.Detail)
}

// Is lets errors.Is match a problem by code: errors.Is(err, &api.Problem{Code: api.CodeOTPInvalid}).
func (p *Problem) Is(target error) bool {
	t, ok := target.(*Problem)
	return ok && t.Code == p.Code
}
