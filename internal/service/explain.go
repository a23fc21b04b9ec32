package service

import (
	"errors"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// Kind sorts errors by what the window does about them.
type Kind int

// Kinds of error the screens react to differently.
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
)

// Explanation is an error in the words a user needs: what happened and what to do.
type Explanation struct {
	Kind       Kind
	Code       api.Code
	Message    string
	RetryAfter time.Duration
	MFATicket  string
	CertSHA256 string
	Fields     []api.FieldError
}

func kindOfCode(c api.Code) Kind {
	switch c {
	case api.CodeInvalidCredentials:
		return KindInvalidCredentials
	case api.CodeAccountLocked, api.CodeRateLimited:
		return KindLocked
	case api.CodeMFARequired:
		return KindMFARequired
	case api.CodeOTPInvalid, api.CodeOTPReplayed:
		return KindOTPInvalid
	case api.CodeCertWrongAccount:
		return KindWrongCertificate
	case api.CodeSessionAccountMismatch:
		return KindAccountMismatch
	case api.CodeUnauthenticated, api.CodeSessionExpired, api.CodeMFATicketInvalid:
		return KindUnauthenticated
	case api.CodeValidationFailed, api.CodePasswordMismatch, api.CodePasswordTooShort, api.CodePasswordTooLong,
		api.CodePasswordBlocklisted, api.CodeSecurityQuestionsInvalid:
		return KindValidation
	case api.CodeActivationTokenInvalid, api.CodeActivationTokenExpired, api.CodeActivationTokenUsed:
		return KindActivationLink
	case api.CodeTermsNotAccepted:
		return KindTermsPending
	}
	return KindOther
}

// localError is an error raised in this package whose text is already written for the user.
type localError struct {
	kind Kind
	msg  string
}

func (e *localError) Error() string { return e.msg }

// userError makes an error whose message the window shows as it is.
func userError(kind Kind, msg string) error { return &localError{kind: kind, msg: msg} }

// Explain says what err means for the user and which fix the window should offer.
func Explain(err error) Explanation {
	if err == nil {
		return Explanation{}
	}
	var le *localError
	if errors.As(err, &le) {
		return Explanation{Kind: le.kind, Message: le.msg}
	}
	e := Explanation{Message: client.UserMessage(err)}
	if p := client.ProblemOf(err); p != nil {
		e.Code, e.Kind, e.Fields, e.CertSHA256 = p.Code, kindOfCode(p.Code), p.Errors, p.CertSHA256
		if p.MagCode == api.MagCodeWrongCertificate {
			e.Kind = KindWrongCertificate
		}
		if p.RetryAfter > 0 {
			e.RetryAfter = time.Duration(p.RetryAfter) * time.Second
		}
	}
	if ticket, ok := client.IsMFARequired(err); ok {
		e.Kind, e.MFATicket = KindMFARequired, ticket
	}
	switch {
	case client.IsAccountMismatch(err):
		e.Kind = KindAccountMismatch
	case client.IsUntrustedServer(err):
		e.Kind = KindUntrustedServer
	case client.IsOffline(err):
		e.Kind = KindOffline
	case client.IsUnauthenticated(err):
		e.Kind = KindUnauthenticated
	}
	if e.Message == "" {
		e.Message = err.Error()
	}
	return e
}
