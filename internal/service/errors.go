package service

import (
	"errors"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// Code is the stable code of an error the service itself raises (the server's and the stores'
// errors keep their own codes: api.Code, certstore.Code).
type Code string

// Codes of the service's own errors; their sentences are in messages.go.
const (
	CodeNotLoggedIn            Code = "NOT_LOGGED_IN"
	CodeLoginAttemptExpired    Code = "LOGIN_ATTEMPT_EXPIRED"
	CodeFileUnreadable         Code = "FILE_UNREADABLE"
	CodeCAFileUnreadable       Code = "CA_FILE_UNREADABLE"
	CodeCertNotHere            Code = "CERT_NOT_ON_THIS_COMPUTER"
	CodeCertNotInStore         Code = "CERT_NOT_IN_STORE"
	CodeBackupNotChosen        Code = "BACKUP_NOT_CHOSEN"
	CodeBackupPasswordTooShort Code = "BACKUP_PASSWORD_TOO_SHORT"
	CodeBackupPasswordsDiffer  Code = "BACKUP_PASSWORDS_DIFFER"
	CodeNotRenewable           Code = "CERT_NOT_RENEWABLE"
	CodeRenewalUnsupported     Code = "RENEWAL_UNSUPPORTED"
	CodeRenewalLoginFailed     Code = "RENEWAL_LOGIN_FAILED"
	CodeRenewalCertIgnored     Code = "RENEWAL_CERT_IGNORED"
	CodeRenewalRevokeFailed    Code = "RENEWAL_REVOKE_FAILED"
	CodeRenewalRemoveFailed    Code = "RENEWAL_REMOVE_FAILED"
	CodeAutostartFailed        Code = "AUTOSTART_FAILED"
	CodeNoRecovery             Code = "RECOVERY_NOT_OFFERED"
	CodeNoSavedSession         Code = "NO_SAVED_SESSION"
	CodeSessionExpired         Code = "SESSION_EXPIRED"
	CodeSessionNotSaved        Code = "SESSION_NOT_SAVED"
	CodeLogoutPending          Code = "LOGOUT_PENDING"
)

// Error is an error of the service: a code, what it is about (a path, a fingerprint, a store),
// and the cause. Its text is the catalogue's sentence.
type Error struct {
	Code    Code
	Subject string
	Err     error
}

func (e *Error) Error() string { return message(e) }

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, &Error{Code: c}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Subject == "" && t.Err == nil && t.Code == e.Code
}

func newError(code Code, subject string, cause error) *Error {
	return &Error{Code: code, Subject: subject, Err: cause}
}

// CodeOf is the service code of err, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Kind sorts errors by what a front end does about them.
type Kind int

// Kinds of error the front ends react to differently.
const (
	KindOther Kind = iota
	KindOffline
	KindUntrustedServer
	KindInvalidCredentials
	KindLocked
	KindMFARequired
	KindOTPInvalid
	KindWrongCertificate
	KindAccountMismatch
	KindUnauthenticated
	KindValidation
	KindActivationLink
	KindTermsPending
	KindNoServer
)

// Explanation is an error in the words a user needs: what happened and what to do.
type Explanation struct {
	Kind Kind
	// Code is the server's problem code, when the server answered with one.
	Code api.Code
	// ServiceCode is the service's own code, for its errors.
	ServiceCode Code
	Message     string
	RetryAfter  time.Duration
	MFATicket   string
	CertSHA256  string
	Fields      []api.FieldError
}

// kindOfService is what the front ends do about the service's own errors.
var kindOfService = map[Code]Kind{
	CodeNotLoggedIn:            KindUnauthenticated,
	CodeLoginAttemptExpired:    KindUnauthenticated,
	CodeFileUnreadable:         KindValidation,
	CodeCAFileUnreadable:       KindValidation,
	CodeCertNotInStore:         KindValidation,
	CodeBackupNotChosen:        KindValidation,
	CodeBackupPasswordTooShort: KindValidation,
	CodeBackupPasswordsDiffer:  KindValidation,
	CodeNotRenewable:           KindValidation,
	CodeNoSavedSession:         KindUnauthenticated,
	CodeSessionExpired:         KindUnauthenticated,
}

// kindOfCode sorts the server's codes that no client predicate covers.
var kindOfCode = map[api.Code]Kind{
	api.CodeInvalidCredentials:       KindInvalidCredentials,
	api.CodeRateLimited:              KindLocked,
	api.CodeOTPInvalid:               KindOTPInvalid,
	api.CodeOTPReplayed:              KindOTPInvalid,
	api.CodeMFATicketInvalid:         KindUnauthenticated,
	api.CodeValidationFailed:         KindValidation,
	api.CodePasswordMismatch:         KindValidation,
	api.CodePasswordTooShort:         KindValidation,
	api.CodePasswordTooLong:          KindValidation,
	api.CodePasswordBlocklisted:      KindValidation,
	api.CodeSecurityQuestionsInvalid: KindValidation,
	api.CodeActivationTokenInvalid:   KindActivationLink,
	api.CodeActivationTokenExpired:   KindActivationLink,
	api.CodeActivationTokenUsed:      KindActivationLink,
	api.CodeTermsNotAccepted:         KindTermsPending,
}

// Explain says what err means for the user and which fix a front end should offer. It is the
// one place where an error's meaning is decided: on the client's predicates first, then on the
// server's code, then on the service's own code.
func Explain(err error) Explanation {
	if err == nil {
		return Explanation{}
	}
	e := Explanation{Message: Message(err), ServiceCode: CodeOf(err)}
	if p := client.ProblemOf(err); p != nil {
		e.Code, e.Fields, e.CertSHA256 = p.Code, p.Errors, p.CertSHA256
		e.RetryAfter = time.Duration(p.RetryAfter) * time.Second
		e.Kind = kindOfCode[p.Code]
	}
	if k, ok := kindOfService[e.ServiceCode]; ok {
		e.Kind = k
	}
	if ticket, ok := client.IsMFARequired(err); ok {
		e.Kind, e.MFATicket = KindMFARequired, ticket
	}
	if retry, ok := client.IsLocked(err); ok {
		e.Kind, e.RetryAfter = KindLocked, retry
	}
	switch {
	case client.IsWrongCertificate(err):
		e.Kind = KindWrongCertificate
	case client.IsAccountMismatch(err):
		e.Kind = KindAccountMismatch
	case client.IsUntrustedServer(err):
		e.Kind = KindUntrustedServer
	case client.IsOffline(err):
		e.Kind = KindOffline
	case client.IsUnauthenticated(err):
		e.Kind = KindUnauthenticated
	case client.IsNoServer(err):
		e.Kind = KindNoServer
	}
	return e
}
