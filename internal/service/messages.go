package service

import (
	"fmt"
	"strings"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
)

// This file is the catalogue of what MAG Desktop says to its user, for both front ends: every
// sentence says what happened and what to do, and names no command, flag, screen or button
// (the command line adds its commands from a table of its own). It is one catalogue in
// several files: this one for the service's own errors, messages_server.go for the gateway's
// refusals, messages_network.go for the network's failures, messages_certs.go for the
// certificate stores'. Packages client and certstore keep codes and data, not sentences.

// sentences are the words of the service's own errors; %[1]s is the error's subject, %[2]v its
// cause.
var sentences = map[Code]string{
	CodeNotLoggedIn:            "You are not logged in. Log in again.",
	CodeLoginAttemptExpired:    "The login attempt has expired. Type your password again.",
	CodeFileUnreadable:         "The file %[1]s can't be read (%[2]v). Check the path.",
	CodeCAFileUnreadable:       "The CA file %[1]s can't be read (%[2]v). Choose the PEM file your IT department gave you.",
	CodeCertNotHere:            "The certificate %[1]s is not on this computer (any more). List the certificates again to see what is there.",
	CodeCertNotInStore:         "The certificate %[1]s is not in that store. List the certificates again to see where it is.",
	CodeBackupNotChosen:        "Choose where to save the backup, or choose explicitly to remove the certificate without one.",
	CodeBackupPasswordTooShort: "Use a backup password of at least %[1]s characters.",
	CodeBackupPasswordsDiffer:  "The two backup passwords don't match. Type the same password twice.",
	CodeNotRenewable:           "Only an active certificate issued to your account can be renewed here. List the certificates again.",
	CodeRenewalUnsupported:     "Certificates can't be renewed from this copy of MAG Desktop. Request a new certificate instead.",
	CodeRenewalLoginFailed:     "The new certificate was installed (%[1]s) but logging in with it failed, so the old one was kept and still works; renewing again finishes with the new certificate. The login said: %[2]v",
	CodeRenewalCertIgnored:     "The gateway accepted the login but not the new certificate, so the old one was kept. Contact your administrator.",
	CodeRenewalRevokeFailed:    "The new certificate works, but the gateway could not be told to revoke the old one (%[2]v). Renew again later to finish.",
	CodeRenewalRemoveFailed:    "The new certificate works and the old one is revoked, but the old one could not be removed from this computer (%[2]v). Remove it from the list of certificates.",
	CodeAutostartFailed:        "MAG Desktop could not change its start-at-login entry %[1]s (%[2]v). Check that you may write there, or turn the setting off.",
	CodeNoRecovery:             "This server does not offer account self-service yet. Ask your organisation administrator to resend the activation email or to reset your account.",
	CodeNoSavedSession:         "No saved session for %[1]s on this computer. Log in as %[1]s first.",
	CodeSessionExpired:         "The session of %[1]s has expired. Log in again.",
	CodeSessionNotSaved:        "You logged in, but this computer's keyring could not keep the session (%[2]v), so it was ended again. Unlock the keyring, then log in again.",
	CodeLogoutPending:          "%[1]s is logged out on this computer, but the gateway could not be told (%[2]v). The session stays valid there until MAG Desktop next reaches the gateway (at the next login or start, or when the cached sessions are cleared), and is ended then.",
}

func message(e *Error) string {
	s, ok := sentences[e.Code]
	if !ok {
		return string(e.Code)
	}
	if strings.Contains(s, "%[2]") {
		return fmt.Sprintf(s, e.Subject, e.Err)
	}
	if strings.Contains(s, "%[1]") {
		return fmt.Sprintf(s, e.Subject)
	}
	return s
}

// Message is the sentence for err that both front ends show.
func Message(err error) string {
	if err == nil {
		return ""
	}
	if CodeOf(err) != "" {
		return err.Error()
	}
	return clientMessage(err)
}

// CheckBackupPassword checks the password chosen for a backup or export file, typed twice.
func CheckBackupPassword(pw, again string) error {
	if len(pw) < certstore.MinBackupPassword {
		return newError(CodeBackupPasswordTooShort, fmt.Sprint(certstore.MinBackupPassword), nil)
	}
	if pw != again {
		return newError(CodeBackupPasswordsDiffer, "", nil)
	}
	return nil
}

// StatusText says in plain words what an application's status means for the user: the
// server's own text when it gives one.
func StatusText(a api.Application) string {
	if a.StatusText != "" {
		return a.StatusText
	}
	switch a.Status {
	case api.StatusAccessGranted:
		return "You have access: open it in your browser."
	case api.StatusAvailable:
		return "Your organisation subscribes to this application. Request access and an administrator will decide."
	case api.StatusAccessRequested:
		return "Your request was sent. You will get an email when an administrator decides."
	case api.StatusPendingTerms:
		return "Your organisation administrator must accept the Terms and Conditions before anyone can use it."
	case api.StatusAccessDenied:
		if a.DenyReason != "" {
			return "Your request was denied (" + a.DenyReason + "). Contact your organisation administrator."
		}
		return "Your request was denied. Contact your organisation administrator."
	case api.StatusSuspended:
		return "This application is suspended for your organisation. Contact your organisation administrator."
	}
	return a.Status
}

// ServerListNotRead is the warning of a certificate list judged without the gateway.
func ServerListNotRead(err error) string {
	return "The gateway's list of your certificates was not read (" + Message(err) + "); the certificates are judged by what this computer noted only."
}

// notInstalled is the warning of an identity not installed in a store (%s the store, %s why).
const notInstalled = "Not installed in %s: %s"

// clearMessage says what clearing the cached sessions did.
func clearMessage(total, revoked, localOnly int, notes []string) string {
	var msg string
	if total == 0 {
		msg = "No sessions were cached. Nothing is left in the keyring."
	} else {
		msg = fmt.Sprintf("Cleared %d cached session(s): %d ended on the server, %d removed from this computer only.",
			total, revoked, localOnly)
		if len(notes) > 0 {
			msg += "\n" + strings.Join(notes, "\n")
		}
	}
	return msg + "\n" + closeBrowsers
}

// closeBrowsers is the advice after sessions are cleared.
const closeBrowsers = "Close your browser windows too: browsers keep their own sessions."
