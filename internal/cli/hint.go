package cli

import (
	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf"
	"github.com/mag-desktop/magdesk/internal/service"
)

// hintByKind and hintByCode are the command that does what the catalogue's sentence advises,
// for the errors whose advice has one: the sentence names no command, because the GUI shows it
// too. What an error means is service.Explain's decision; this only maps it to commands.
var hintByKind = map[service.Kind]string{
	service.KindAccountMismatch:  "magdesk sessions clear",
	service.KindUntrustedServer:  "--ca FILE",
	service.KindWrongCertificate: "magdesk certs check, then magdesk certs remove, or magdesk certs connect --from-user ID",
	service.KindNoServer:         "--server https://HOST:PORT (it is remembered), or server_url in the settings",
}

var hintByCode = map[api.Code]string{
	api.CodeInvalidCredentials:     "magdesk recover user-id --email E, or magdesk recover password --user ID",
	api.CodeAccountLocked:          "magdesk recover password --user ID",
	api.CodeActivationTokenInvalid: "magdesk recover activation --user ID --email E",
	api.CodeActivationTokenExpired: "magdesk recover activation --user ID --email E",
	api.CodeCertNotRegistered:      "magdesk login --cert none",
	api.CodeCertExpired:            "magdesk login --cert none",
	api.CodeCertRevoked:            "magdesk login --cert none",
	api.CodeCertUntrusted:          "magdesk login --cert none, or --cert SHA256",
	api.CodeCertRequired:           "--cert SHA256",
	api.CodeStepUpRequired:         "magdesk otp enroll",
	api.CodeEnrollmentExpired:      "magdesk otp enroll",
}

var hintByServiceCode = map[service.Code]string{
	service.CodeNotLoggedIn:         "magdesk login --user ID",
	service.CodeLoginAttemptExpired: "magdesk login --user ID",
	service.CodeNoSavedSession:      "magdesk login --user ID",
	service.CodeSessionExpired:      "magdesk login --user ID",
	service.CodeLogoutPending:       "magdesk logout once the gateway answers, or magdesk sessions clear",
	service.CodeCertNotHere:         "magdesk certs list",
	service.CodeCertNotInStore:      "magdesk certs list",
}

var hintByStoreCode = map[certstore.Code]string{
	certstore.CodeNotFound:          "magdesk certs list",
	certstore.CodeNoIdentityForUser: "magdesk login --cert none, then magdesk certs request",
}

var hintByProxyCode = map[string]string{
	netconf.CodeProxyAuthRequired: "magdesk proxy-login HOST:PORT --user NAME",
	netconf.CodeProxyAuthRejected: "magdesk proxy-login HOST:PORT --user NAME",
	netconf.CodePACUnavailable:    "magdesk doctor",
}

// hint is the CLI's way to follow the advice of the catalogue's sentence for err, or "".
func hint(err error) string {
	if pe := client.ProxyError(err); pe != nil {
		return hintByProxyCode[pe.Code]
	}
	if client.IsIntercepted(err) {
		return "ca_bundle in the settings, or the CABundle policy"
	}
	e := service.Explain(err)
	if h, ok := hintByKind[e.Kind]; ok {
		return h
	}
	if h, ok := hintByServiceCode[e.ServiceCode]; ok {
		return h
	}
	if h, ok := hintByStoreCode[certstore.CodeOf(err)]; ok {
		return h
	}
	return hintByCode[e.Code]
}
