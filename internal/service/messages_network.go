package service

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf"
)

// The catalogue's sentences for what went wrong between this computer and the gateway: the
// network, proxies, TLS, the clocks. Package client classifies the error and keeps its data
// (host, issuer, skew...); the words are here.

// clientMessage words an error of package client (or any other error): what happened and what
// to do. It never contains a secret.
func clientMessage(err error) string {
	if err == nil {
		return ""
	}
	if client.IsNoServer(err) {
		return "No server is set: enter your gateway's address, as the activation email gives it (https://HOST:PORT)."
	}
	ce, ok := client.AsError(err)
	if !ok {
		if p := client.ProblemOf(err); p != nil {
			return problemMessage(p, "")
		}
		return sentence(err.Error())
	}
	host := ce.Server
	if host == "" {
		host = "the server"
	}
	switch ce.Kind {
	case client.KindProblem:
		if ce.Code() == api.CodeOTPInvalid && client.SkewTooLarge(ce.ClockSkew) {
			return skewMessage(ce.ClockSkew, host) + " Then enter a new code."
		}
		return problemMessage(ce.Problem, ce.ExpectedUser)
	case client.KindProxy:
		return proxyMessage(client.ProxyError(ce.Err), host)
	case client.KindIntercepted:
		return fmt.Sprintf("Your network is inspecting secure connections: the connection to %s is signed by “%s”, which is neither your gateway's certificate authority nor trusted by this computer. Ask your IT department to add that certificate to this computer, or to set the policy key ca_bundle (CABundle on Windows and macOS) to a file that holds it. Do not try to get around this warning.",
			host, ce.Issuer)
	case client.KindClock:
		return fmt.Sprintf("The clock of this computer is behind: the certificate of %s is valid only from %s, which is still in the future here. Set the date and time to be set automatically in the system settings, then try again.",
			host, ce.ValidFrom.UTC().Format("2 January 2006 15:04 MST"))
	case client.KindAccountMismatch:
		if ce.ExpectedUser != "" && ce.ActualUser != "" {
			return fmt.Sprintf("The saved session belongs to %s, not to %s. Clear cached sessions, then log in again as %s.",
				ce.ActualUser, ce.ExpectedUser, ce.ExpectedUser)
		}
		return "The saved session belongs to a different account than the one you chose. Clear cached sessions, then log in again."
	case client.KindOffline:
		switch client.OfflineCauseOf(ce.Err) {
		case client.OfflineProxy:
			return fmt.Sprintf("The proxy could not be reached (%s). Check this computer's proxy settings, or ask your IT department whether the proxy is working.", shortCause(ce.Err))
		case client.OfflineDNS:
			return fmt.Sprintf("The server name %s could not be found. Check the server address in the settings and your network connection, then try again.", host)
		case client.OfflineRefused:
			return fmt.Sprintf("%s refused the connection: the server is down or the address or port is wrong. Check the server address, or try again later.", host)
		}
		return fmt.Sprintf("Cannot reach %s: you may be offline, or the server may be down. Check your network connection and try again.", host)
	case client.KindTimeout:
		return fmt.Sprintf("%s did not answer in time. Check your network connection and try again; if it keeps happening, the server may be overloaded or down.", host)
	case client.KindUntrustedServer:
		return fmt.Sprintf("The certificate of %s is not trusted (%s), so this may not be your gateway. If your IT department gave you a CA certificate, add it as this server's CA certificate; otherwise do not continue and contact your help desk.",
			host, shortCause(ce.Err))
	case client.KindTLS:
		return fmt.Sprintf("A secure connection to %s could not be set up (%s). Check the server address; a proxy or firewall may be interfering.", host, shortCause(ce.Err))
	case client.KindServer:
		if ce.Status >= 500 {
			return fmt.Sprintf("%s had a problem and could not answer (HTTP %d). Try again later; if it keeps happening, contact your help desk.", host, ce.Status)
		}
		return fmt.Sprintf("%s did not answer like a MAG gateway (%s). Check the server address; a proxy or captive portal may be in the way.", host, causeText(ce.Err))
	case client.KindCanceled:
		return "The operation was cancelled."
	case client.KindConfig, client.KindInput:
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
