package service

import (
	"fmt"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// The catalogue's sentences for the gateway's refusals, by the problem code it answered with.
// The server's own title and detail are used only where they carry the specifics.

// LockoutMessage is the sentence of a temporary lockout: how long it lasts and, when until is
// known (the front end adds the wait to its clock, and may count it down), to the second and
// until when.
func LockoutMessage(retry time.Duration, until time.Time) string {
	how := wait(retry)
	if retry > 0 && !until.IsZero() {
		how = retry.Round(time.Second).String() + " more (until " + until.Format("15:04:05") + ")"
	}
	return "Too many failed attempts: the account is locked for " + how + ". Wait, then try again with the right password, or reset your password."
}

// serverSentences are the words of the gateway's refusals that need nothing but the code.
var serverSentences = map[api.Code]string{
	api.CodePasswordMismatch:       "The two passwords do not match. Type the same new password twice.",
	api.CodeActivationTokenInvalid: "The activation link is not valid. Copy the whole link from the activation email, or ask for a new link by email.",
	api.CodeActivationTokenExpired: "The activation link has expired. Ask for a new link by email, or ask your organisation administrator.",
	api.CodeActivationTokenUsed:    "This activation link was already used or replaced by a newer one. If you completed activation, log in with your user ID; otherwise use the newest activation email.",
	api.CodeInvalidCredentials:     "The user ID or password is wrong. Check both and try again; after several failed attempts the account is locked for a while. Forgot them? Have your user ID sent by email, or reset your password.",
	api.CodeMFARequired:            "Your password was accepted; now enter the 6-digit code from your authenticator app.",
	api.CodeMFATicketInvalid:       "The login attempt has expired. Log in again from the start.",
	api.CodeOTPInvalid:             "The one-time code is wrong. Enter the current 6-digit code from your authenticator app (check that the phone's clock is right).",
	api.CodeOTPReplayed:            "That one-time code was already used. Wait for the next code in your authenticator app (at most 30 seconds) and enter it.",
	api.CodeAccountDisabled:        "This account is disabled. Contact your organisation administrator.",
	api.CodeUnauthenticated:        "You are not logged in, or your session was ended. Log in again.",
	api.CodeSessionExpired:         "Your session has expired. Log in again.",
	api.CodeReauthRequired:         "For this change you must have logged in recently. Log out, log in again, and repeat it.",
	api.CodeCertWrongAccount:       "Error 2035: the certificate on this computer belongs to a different account. Remove it from this computer or connect it to this account, then log in again; close all browser windows afterwards.",
	api.CodeCertNotRegistered:      "The certificate presented is not registered to any account. Log in without a certificate and request a new one, or remove it from this computer.",
	api.CodeCertExpired:            "The certificate presented has expired. Log in without a certificate, request a new one, and remove the old one from this computer.",
	api.CodeCertRevoked:            "The certificate presented was revoked. Log in without a certificate and remove it from this computer.",
	api.CodeCertUntrusted:          "The certificate presented was not issued by this gateway. Log in without a certificate, or choose the certificate this gateway issued to you.",
	api.CodeCertRequired:           "This needs a certificate on the connection. Choose your certificate and try again.",
	api.CodeCertAlreadyConnected:   "This certificate is already connected to this account; nothing to do.",
	api.CodeConnectionSourceAuth:   "The user ID, password or code of the account that owns the certificate is wrong. Check them and try again.",
	api.CodeCertLimitReached:       "This account has as many active certificates as it may have. Revoke one you no longer use, then request a new one.",
	api.CodeTermsNotAccepted:       "Your organisation administrator has not accepted the Terms and Conditions of this application yet. Ask them to accept it, then request access.",
	api.CodeTermsVersionStale:      "The Terms and Conditions changed while you were reading them. Open them again, read the new version, and agree to that.",
	api.CodeAccessRequestExists:    "Access was already requested; wait for the application administrator to decide.",
	api.CodeAlreadyHasAccess:       "You already have access to this application; open it.",
	api.CodeNotSubscribed:          "Your organisation is not subscribed to this application. Contact your organisation administrator.",
	api.CodeStepUpRequired:         "This application needs a stronger login. Register an authenticator app or a certificate, then log in again with it.",
	api.CodeTOTPAlreadyEnrolled:    "An authenticator app is already registered for this account.",
	api.CodeEnrollmentExpired:      "The registration took too long and expired. Start the registration of your authenticator app again.",
	api.CodeRecoveryInvalid:        "The recovery could not be completed: the code or the answers are wrong, or the code expired. Check the newest email and try again, or start over.",
	api.CodeForbidden:              "You are not allowed to do this. Only an organisation administrator can; ask yours.",
	api.CodeStorageFull:            "The server is out of storage and cannot save anything. Contact your help desk.",
}

// serverAdvice follows the server's detail (which password rule, which field) for these codes.
var serverAdvice = map[api.Code]string{
	api.CodePasswordTooShort:         "Choose another password: a long passphrase of several unrelated words works well.",
	api.CodePasswordTooLong:          "Choose another password: a long passphrase of several unrelated words works well.",
	api.CodePasswordBlocklisted:      "Choose another password: a long passphrase of several unrelated words works well.",
	api.CodeSecurityQuestionsInvalid: "Answer four different questions from the list.",
	api.CodeCSRInvalid:               "The certificate request was refused; request a new certificate from the app.",
	api.CodeCSRSignatureInvalid:      "The certificate request was refused; request a new certificate from the app.",
	api.CodeCSRKeyUnsupported:        "The certificate request was refused; request a new certificate from the app.",
	api.CodeLaunchNotAllowed:         "Check the application's status in the list (access may not be granted yet).",
	api.CodeNotFound:                 "Check the name or id and try again.",
}

// problemMessage explains the server's problem. The server's detail is included where it
// carries the specifics (which password rule, which field).
func problemMessage(p *api.Problem, user string) string {
	if p == nil {
		return "The server refused the request."
	}
	detail := strings.TrimSpace(p.Detail)
	withDetail := func(s string) string {
		if detail == "" {
			return s
		}
		return sentence(detail) + " " + s
	}
	if msg, ok := serverSentences[p.Code]; ok {
		return msg
	}
	if advice, ok := serverAdvice[p.Code]; ok {
		return withDetail(advice)
	}
	retry := client.ProblemRetry(p)
	switch p.Code {
	case api.CodeValidationFailed:
		var fields []string
		for _, f := range p.Errors {
			fields = append(fields, f.Field+": "+f.Message)
		}
		if len(fields) > 0 {
			return "Some input is not valid (" + strings.Join(fields, "; ") + "). Correct it and try again."
		}
		return withDetail("Correct the input and try again.")
	case api.CodeAccountLocked:
		return LockoutMessage(retry, time.Time{})
	case api.CodeSessionAccountMismatch:
		who := "the account you chose"
		if user != "" {
			who = user
		}
		return fmt.Sprintf("The saved session belongs to a different account than %s. Clear cached sessions, then log in again.", who)
	case api.CodeRateLimited, api.CodeServerBusy:
		if retry > 0 {
			return fmt.Sprintf("The server is busy. Wait %s and try again.", wait(retry))
		}
		return "The server is busy. Wait a moment and try again."
	case api.CodeInternal:
		msg := "The server had an internal error. Try again later; if it keeps happening, contact your help desk"
		if p.RequestID != "" {
			msg += " and quote request " + p.RequestID
		}
		return msg + "."
	}
	title := strings.TrimSpace(p.Title)
	if title == "" {
		title = "The server refused the request"
	}
	if detail != "" {
		return sentence(title) + " " + sentence(detail)
	}
	return sentence(title)
}
