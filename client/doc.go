// Package client is MAG Desktop's typed client of the gateway API (package api), its cache of
// sessions in the OS keyring, and the parsing of activation links. The GUI (app/) and the
// command line (cli/) both go through it; it never imports Fyne.
//
// # Connecting
//
//	c, err := client.New(client.Options{ServerURL: "https://gw.example:8443", CAFile: "ca.pem",
//		ClientInfo: api.ClientInfo{Name: "magdesk", Version: version.Version}})
//
// New trusts the system roots plus CAPEM/CAFile, sends every request through the proxy that
// Options.Network (internal/netconf) picks for it — by default the operating system's proxy
// settings, PAC script included, then the environment — and never keeps cookies. Answers also
// tell the server's clock (ClockSkew) and the certificate it presented (ServerChain); a
// certificate for the right name from an unknown issuer, when the gateway's CA is configured,
// is a TLS-inspecting proxy (IsIntercepted). Every method takes a context; each attempt is bounded
// by Options.Timeout. GET calls and logout are retried with jittered backoff on network errors
// and 429/503 (honouring Retry-After up to 10 s); POSTs are sent once.
//
// # Accounts and certificates
//
// A Client acts as at most one account (SetSession, or Login/LoginMFA/Resume which call it)
// and sends Expected-User-Id with every request, so a token of another account is refused by
// the server (SESSION_ACCOUNT_MISMATCH); Me also compares the answer with the expected user.
// Switching account closes pooled connections. WithCertificate derives a client with its own
// connections that presents exactly one client certificate (never an appended list: a server
// may pick any certificate of a list, maybe another account's), for logins with a certificate,
// ConnectCertificate (Account Connections) and RequestCertificate.
//
//	resp, err := c.Login(ctx, "jdoe_8421", password, "")
//	if ticket, ok := client.IsMFARequired(err); ok {
//		resp, err = c.LoginMFA(ctx, ticket, code)
//	}
//
// # Errors
//
// Every error is a *Error with a Kind (KindProblem: the server's problem+json, reachable with
// errors.As as *api.Problem; KindOffline, KindTimeout, KindUntrustedServer, KindTLS,
// KindServer for 5xx/HTML/garbage, KindAccountMismatch, KindCanceled, KindConfig, KindInput).
// Ask with IsWrongCertificate (Error 2035), IsAccountMismatch, IsMFARequired, IsLocked,
// IsOffline, IsTimeout, IsUntrustedServer, IsServerError, IsUnauthenticated, HasCode. The
// errors carry what a sentence needs (Server, Issuer, ClockSkew, the accounts, OfflineCauseOf,
// ProblemRetry); the words for the user are the service's catalogue (service.Message).
//
// # Sessions
//
// SessionStore caches one Session per (server URL, user id) in the OS keyring under the
// service "MAG Desktop" (item "session:<server>|<user>"), with an index of cached accounts as
// one more keyring item ("sessions-index"), never in a file; $MAGDESK_KEYRING_SERVICE (secrets.ProfileEnv)
// selects a separate profile ("MAG Desktop [profile]"). Without a usable keyring it keeps
// sessions in memory for the run and says why (InMemory, Warning). ClearSessions revokes every
// session whose server answers (through a Connector), deletes all of them and returns a
// ClearReport of what was revoked and what was only deleted locally, and why.
//
// # Activation links
//
// ParseActivationLink accepts magdesk://activate?token=T, https://HOST/activate#token=T or the
// bare token, with the whitespace, quotes and angle brackets that email clients add, and
// refuses anything else with an error (KindInput, matching ErrBadActivationLink).
package client
