package cli

import (
	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// hintByCode is the command that does what client.UserMessage advises, for the problem codes
// whose advice has one: the message names no command, because the GUI shows it too.
var hintByCode = map[api.Code]string{
	api.CodeInvalidCredentials:     "magdesk recover user-id --email E, or magdesk recover password --user ID",
	api.CodeAccountLocked:          "magdesk recover password --user ID",
	api.CodeActivationTokenInvalid: "magdesk recover activation --user ID --email E",
	api.CodeActivationTokenExpired: "magdesk recover activation --user ID --email E",
	api.CodeCertWrongAccount:       "magdesk certs check, then magdesk certs remove, or magdesk certs connect --from-user ID",
	api.CodeCertNotRegistered:      "magdesk login --cert none",
	api.CodeCertExpired:            "magdesk login --cert none",
	api.CodeCertRevoked:            "magdesk login --cert none",
	api.CodeCertUntrusted:          "magdesk login --cert none, or --cert SHA256",
	api.CodeCertRequired:           "--cert SHA256",
	api.CodeStepUpRequired:         "magdesk otp enroll",
	api.CodeEnrollmentExpired:      "magdesk otp enroll",
}

// hint is the CLI's way to follow the advice of client.UserMessage(err), or "".
func hint(err error) string {
	switch {
	case client.IsAccountMismatch(err):
		return "magdesk sessions clear"
	case client.IsUntrustedServer(err):
		return "--ca FILE"
	}
	if p := client.ProblemOf(err); p != nil {
		if p.MagCode == api.MagCodeWrongCertificate {
			return hintByCode[api.CodeCertWrongAccount]
		}
		return hintByCode[p.Code]
	}
	return ""
}
