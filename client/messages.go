package client

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/netconf"
)

// UserMessage says in plain words what happened and what to do, naming no command or button:
// the CLI and the GUI both show it, and each adds its own way to do it (cli's hint). It never
// contains a secret.
func UserMessage(err error) string {
	if err == nil {
		return ""
	}
	ce, ok := AsError(err)
	if !ok {
		if p := ProblemOf(err); p != nil {
			return problemMessage(p, "")
		}
		return sentence(err.Error())
	}
	host := ce.Server
	if host == "" {
		host = "the server"
	}
	switch ce.Kind {
	case KindProblem:
		if ce.Code() == api.CodeOTPInvalid && SkewTooLarge(ce.ClockSkew) {
			return skewMessage(ce.ClockSkew, host) + " Then enter a new code."
		}
		return problemMessage(ce.Problem, ce.ExpectedUser)
	case KindProxy:
		return proxyMessage(ProxyError(ce.Err), host)
	case KindIntercepted:
		return fmt.Sprintf("Your network is inspecting secure connections: the connection to %s is signed by %q, which is neither your gateway's certificate authority nor trusted by this computer. Ask your IT department to add that certificate to this computer, or to set the policy key ca_bundle (CABundle on Windows and macOS) to a file that holds it. Do not try to get around this warning.",
			host, ce.Issuer)
	case KindClock:
		return fmt.Sprintf("The clock of this computer is behind: the certificate of %s is valid only from %s, which is still in the future here. Set the date and time to be set automatically in the system settings, then try again.",
			host, ce.ValidFrom.UTC().Format("2 January 2006 15:04 MST"))
	case KindAccountMismatch:
		if ce.ExpectedUser != "" && ce.ActualUser != "" {
			return fmt.Sprintf("The saved session belongs to %s, not to %s. Clear cached sessions, then log in again as %s.",
				ce.ActualUser, ce.ExpectedUser, ce.ExpectedUser)
		}
		return "The saved session belongs to a different account than the one you chose. Clear cached sessions, then log in again."
	case KindOffline:
		switch offlineDetail(ce.Err) {
		case "proxy":
			return fmt.Sprintf("The proxy could not be reached (%s). Check this computer's proxy settings, or ask your IT department whether the proxy is working.", shortCause(ce.Err))
		case "dns":
			return fmt.Sprintf("The server name %s could not be found. Check the server address in the settings and your network connection, then try again.", host)
		case "refused":
			return fmt.Sprintf("%s refused the connection: the server is down or the address or port is wrong. Check the server address, or try again later.", host)
		}
		return fmt.Sprintf("Cannot reach %s: you may be offline, or the server may be down. Check your network connection and try again.", host)
	case KindTimeout:
		return fmt.Sprintf("%s did not answer in time. Check your network connection and try again; if it keeps happening, the server may be overloaded or down.", host)
	case KindUntrustedServer:
		return fmt.Sprintf("The certificate of %s is not trusted (%s), so this may not be your gateway. If your IT department gave you a CA certificate, add it as this server's CA certificate; otherwise do not continue and contact your help desk.",
			host, shortCause(ce.Err))
	case KindTLS:
		return fmt.Sprintf("A secure connection to %s could not be set up (%s). Check the server address; a proxy or firewall may be interfering.", host, shortCause(ce.Err))
	case KindServer:
		if ce.Status >= 500 {
			return fmt.Sprintf("%s had a problem and could not answer (HTTP %d). Try again later; if it keeps happening, contact your help desk.", host, ce.Status)
		}
		return fmt.Sprintf("%s did not answer like a MAG gateway (%s). Check the server address; a proxy or captive portal may be in the way.", host, causeText(ce.Err))
	case KindCanceled:
		return "The operation was cancelled."
	case KindConfig, KindInput:
		return sentence(causeText(ce.Err))
	}
	return sentence(err.Error())
}

// SkewMessage says that this computer's clock differs from the server's by skew (server minus
// local) and what to do; host names the server ("" for "the server").
func SkewMessage(skew time.Duration, host string) string {
	if host == "" {
		host = "the server"
	}
	return skewMessage(skew, host)
}

func skewMessage(skew time.Duration, host string) string {
	way := "behind"
	if skew < 0 {
		way, skew = "ahead", -skew
	}
	return fmt.Sprintf("The clocks of this computer and of %s differ by %s (this computer is %s), and one-time codes depend on the time. Set the date and time to be set automatically on this computer and on the phone with your authenticator app; if both are right already, the gateway's clock is wrong: tell your help desk.",
		host, wait(skew), way)
}

// proxyMessage explains a proxy problem.
func proxyMessage(pe *netconf.Error, host string) string {
	if pe == nil {
		return "The proxy failed. Check this computer's proxy settings, or ask your IT department."
	}
	proxy := pe.Proxy
	if proxy == "" {
		proxy = "of this network"
	}
	switch pe.Code {
	case netconf.CodePACUnavailable:
		return fmt.Sprintf("The proxy configuration script %s could not be downloaded (%s), so it is not known which proxy to use. Check your network connection; if it keeps happening, ask your IT department whether the script address is right.", pe.Script, shortCause(pe.Err))
	case netconf.CodePACFailed:
		return fmt.Sprintf("The proxy configuration script %s does not work (%s). Ask your IT department to check it.", pe.Script, shortCause(pe.Err))
	case netconf.CodeProxyAuthRequired:
		return fmt.Sprintf("The proxy %s asks for a user name and password. Save the proxy credentials your IT department gave you, then try again.", proxy)
	case netconf.CodeProxyAuthRejected:
		return fmt.Sprintf("The proxy %s refused the proxy user name or password. Check them (they may have expired) and save them again, or ask your IT department.", proxy)
	case netconf.CodeProxyAuthUnsupported:
		return fmt.Sprintf("The proxy %s asks for Windows sign-in (%s), which MAG Desktop does not support. Ask your IT department to let the gateway through without proxy sign-in, or for a proxy that accepts a user name and password.", proxy, strings.Join(pe.Schemes, ", "))
	case netconf.CodeProxyRefused:
		return fmt.Sprintf("The proxy %s refused to connect to %s (HTTP %d). Ask your IT department to allow the gateway through the proxy.", proxy, host, pe.Status)
	}
	return fmt.Sprintf("The proxy settings cannot be used (%s). Correct them in the settings, or ask your IT department to correct the policy.", shortCause(pe.Err))
}

func causeText(err error) string {
	if err == nil {
		return "something went wrong"
	}
	return err.Error()
}

// shortCause is the innermost message of err, without Go's "Get \"https://...\":" prefixes.
func shortCause(err error) string {
	for err != nil {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	if err == nil {
		return "unknown cause"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i > 12 {
		s = s[i+2:]
	}
	return s
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "Something went wrong."
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

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

// wait formats a retry delay for people: "45 seconds", "5 minutes".
func wait(d time.Duration) string {
	switch {
	case d <= 0:
		return "a few minutes"
	case d < time.Minute:
		return plural(int(d.Round(time.Second)/time.Second), "second")
	case d < time.Hour:
		return plural(int((d+30*time.Second)/time.Minute), "minute")
	default:
		return plural(int((d+30*time.Minute)/time.Hour), "hour")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
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
	retry := seconds(p.RetryAfter)
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
	case api.CodePasswordMismatch:
		return "The two passwords do not match. Type the same new password twice."
	case api.CodePasswordTooShort, api.CodePasswordTooLong, api.CodePasswordBlocklisted:
		return withDetail("Choose another password: a long passphrase of several unrelated words works well.")
	case api.CodeSecurityQuestionsInvalid:
		return withDetail("Answer four different questions from the list.")
	case api.CodeActivationTokenInvalid:
		return "The activation link is not valid. Copy the whole link from the activation email, or ask for a new link by email."
	case api.CodeActivationTokenExpired:
		return "The activation link has expired. Ask for a new link by email, or ask your organisation administrator."
	case api.CodeActivationTokenUsed:
		return "This activation link was already used or replaced by a newer one. If you completed activation, log in with your user ID; otherwise use the newest activation email."
	case api.CodeInvalidCredentials:
		return "The user ID or password is wrong. Check both and try again; after several failed attempts the account is locked for a while. Forgot them? Have your user ID sent by email, or reset your password."
	case api.CodeMFARequired:
		return "Your password was accepted; now enter the 6-digit code from your authenticator app."
	case api.CodeMFATicketInvalid:
		return "The login attempt has expired. Log in again from the start."
	case api.CodeOTPInvalid:
		return "The one-time code is wrong. Enter the current 6-digit code from your authenticator app (check that the phone's clock is right)."
	case api.CodeOTPReplayed:
		return "That one-time code was already used. Wait for the next code in your authenticator app (at most 30 seconds) and enter it."
	case api.CodeAccountLocked:
		return LockoutMessage(retry, time.Time{})
	case api.CodeAccountDisabled:
		return "This account is disabled. Contact your organisation administrator."
	case api.CodeUnauthenticated:
		return "You are not logged in, or your session was ended. Log in again."
	case api.CodeSessionExpired:
		return "Your session has expired. Log in again."
	case api.CodeSessionAccountMismatch:
		who := "the account you chose"
		if user != "" {
			who = user
		}
		return fmt.Sprintf("The saved session belongs to a different account than %s. Clear cached sessions, then log in again.", who)
	case api.CodeReauthRequired:
		return "For this change you must have logged in recently. Log out, log in again, and repeat it."
	case api.CodeCertWrongAccount:
		return "Error 2035: the certificate on this computer belongs to a different account. Remove it from this computer or connect it to this account, then log in again; close all browser windows afterwards."
	case api.CodeCertNotRegistered:
		return "The certificate presented is not registered to any account. Log in without a certificate and request a new one, or remove it from this computer."
	case api.CodeCertExpired:
		return "The certificate presented has expired. Log in without a certificate, request a new one, and remove the old one from this computer."
	case api.CodeCertRevoked:
		return "The certificate presented was revoked. Log in without a certificate and remove it from this computer."
	case api.CodeCertUntrusted:
		return "The certificate presented was not issued by this gateway. Log in without a certificate, or choose the certificate this gateway issued to you."
	case api.CodeCertRequired:
		return "This needs a certificate on the connection. Choose your certificate and try again."
	case api.CodeCertAlreadyConnected:
		return "This certificate is already connected to this account; nothing to do."
	case api.CodeConnectionSourceAuth:
		return "The user ID, password or code of the account that owns the certificate is wrong. Check them and try again."
	case api.CodeCertLimitReached:
		return "This account has as many active certificates as it may have. Revoke one you no longer use, then request a new one."
	case api.CodeCSRInvalid, api.CodeCSRSignatureInvalid, api.CodeCSRKeyUnsupported:
		return withDetail("The certificate request was refused; request a new certificate from the app.")
	case api.CodeTermsNotAccepted:
		return "Your organisation administrator has not accepted the Terms and Conditions of this application yet. Ask them to accept it, then request access."
	case api.CodeTermsVersionStale:
		return "The Terms and Conditions changed while you were reading them. Open them again, read the new version, and agree to that."
	case api.CodeAccessRequestExists:
		return "Access was already requested; wait for the application administrator to decide."
	case api.CodeAlreadyHasAccess:
		return "You already have access to this application; open it."
	case api.CodeNotSubscribed:
		return "Your organisation is not subscribed to this application. Contact your organisation administrator."
	case api.CodeLaunchNotAllowed:
		return withDetail("Check the application's status in the list (access may not be granted yet).")
	case api.CodeStepUpRequired:
		return "This application needs a stronger login. Register an authenticator app or a certificate, then log in again with it."
	case api.CodeTOTPAlreadyEnrolled:
		return "An authenticator app is already registered for this account."
	case api.CodeEnrollmentExpired:
		return "The registration took too long and expired. Start the registration of your authenticator app again."
	case api.CodeRecoveryInvalid:
		return "The recovery could not be completed: the code or the answers are wrong, or the code expired. Check the newest email and try again, or start over."
	case api.CodeForbidden:
		return "You are not allowed to do this. Only an organisation administrator can; ask yours."
	case api.CodeNotFound:
		return withDetail("Check the name or id and try again.")
	case api.CodeRateLimited, api.CodeServerBusy:
		if retry > 0 {
			return fmt.Sprintf("The server is busy. Wait %s and try again.", wait(retry))
		}
		return "The server is busy. Wait a moment and try again."
	case api.CodeStorageFull:
		return "The server is out of storage and cannot save anything. Contact your help desk."
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
