package service

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf"
)

// Statuses of a doctor check.
const (
	CheckOK      = "ok"
	CheckWarning = "warning"
	CheckProblem = "problem"
	CheckSkipped = "skipped"
)

// DoctorCheck is one line of the connection and setup check: a plain result and what to do.
type DoctorCheck struct {
	ID     string `json:"id"` // server, proxy, dns, tcp, tls, gateway, clock, keyring, nss, certificates, sessions
	Status string `json:"status"`
	Result string `json:"result"`
	Fix    string `json:"fix,omitempty"`
}

// DoctorReport is the whole check, for people (each line) and for IT (JSON).
type DoctorReport struct {
	Server    string        `json:"server"`
	CheckedAt time.Time     `json:"checked_at"`
	Checks    []DoctorCheck `json:"checks"`
	// App answers "why can't I open this application?" when one was asked about.
	App *AppDiagnosis `json:"app,omitempty"`
}

// Worst is the most serious status of the report.
func (r DoctorReport) Worst() string {
	worst := CheckOK
	for _, c := range r.Checks {
		if c.Status == CheckProblem || (c.Status == CheckWarning && worst == CheckOK) {
			worst = c.Status
		}
	}
	if r.App != nil && !r.App.CanOpen && worst == CheckOK {
		worst = CheckWarning
	}
	return worst
}

// AppDiagnosis joins the server's view of one application (status, terms, grant, required
// strength) with this computer's (the certificate offered, the session's strength).
type AppDiagnosis struct {
	AppID       string `json:"app_id"`
	Name        string `json:"name,omitempty"`
	Status      string `json:"status,omitempty"`
	RequiredAAL int    `json:"required_aal,omitempty"`
	SessionAAL  int    `json:"session_aal,omitempty"`
	Certificate string `json:"certificate,omitempty"` // the certificate offered and its state here
	CanOpen     bool   `json:"can_open"`
	Answer      string `json:"answer"`
}

// DoctorInput is what the check looks at; the window's Service and the CLI each fill it from
// their own state, so both run the same checks.
type DoctorInput struct {
	Server  string
	Network *netconf.Resolver
	// Anon is a client of Server acting as nobody.
	Anon func() (*client.Client, error)
	// Session is the logged-in account's client, nil when logged out.
	Session *client.Client
	// User is the account in use (logged in, or remembered), "" when none.
	User           string
	KeyringWarning string
	CertStores     []string
	Identities     func(context.Context) ([]Identity, error)
	Sessions       func(context.Context) ([]CachedSession, error)
	// WarnWindow is how long before expiry a certificate needs attention (0: RenewalWindow).
	WarnWindow time.Duration
	// App, when set, asks why that application cannot be opened.
	App string
}

// dialTime bounds the DNS and TCP checks; the gateway check uses the client's own timeout.
const dialTime = 5 * time.Second

// RunDoctor checks the connection and the setup of this computer. It never fails: every
// problem is a line of the report.
func RunDoctor(ctx context.Context, in DoctorInput) DoctorReport {
	r := DoctorReport{Server: in.Server, CheckedAt: time.Now().UTC()}
	add := func(id, status, result, fix string) {
		r.Checks = append(r.Checks, DoctorCheck{ID: id, Status: status, Result: result, Fix: fix})
	}
	network(ctx, in, add)
	local(ctx, in, add)
	if in.App != "" {
		r.App = diagnoseApp(ctx, in)
	}
	return r
}

type addFunc func(id, status, result, fix string)

// network checks the way to the gateway, hop by hop, so the first broken one is named.
func network(ctx context.Context, in DoctorInput, add addFunc) {
	if in.Server == "" {
		add("server", CheckProblem, "No gateway is set.", "Enter your gateway's address (it is in your activation email).")
		return
	}
	u, err := url.Parse(in.Server)
	if err != nil || u.Host == "" {
		add("server", CheckProblem, fmt.Sprintf("The gateway address %q is not valid.", in.Server), "Correct the gateway's address in the settings.")
		return
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	// The first hop is the proxy when there is one: the proxy resolves and reaches the gateway.
	hop, hopName := host, "the gateway"
	d, err := in.Network.Decide(ctx, u)
	switch {
	case err != nil:
		add("proxy", CheckProblem, Message(&client.Error{Kind: client.KindProxy, Server: u.Host, Err: err}), "")
		return
	case d.Proxy != nil:
		add("proxy", CheckOK, fmt.Sprintf("Connections to %s go through the proxy %s, because %s.", u.Host, d.ProxyText(), d.Why), "")
		hop, hopName = d.Proxy.Host, "the proxy"
		if d.Proxy.Port() == "" {
			hop = net.JoinHostPort(d.Proxy.Hostname(), map[string]string{"http": "80", "https": "443", "socks5": "1080"}[d.Proxy.Scheme])
		}
	default:
		add("proxy", CheckOK, fmt.Sprintf("Connections to %s go directly, without a proxy, because %s.", u.Host, d.Why), "")
	}
	name, _, _ := net.SplitHostPort(hop)
	if net.ParseIP(name) != nil {
		add("dns", CheckSkipped, fmt.Sprintf("%s is given by its address, %s: there is no name to look up.", capital(hopName), name), "")
	} else if !lookupName(ctx, name, hopName, add) {
		return
	}
	conn, err := (&net.Dialer{Timeout: dialTime}).DialContext(ctx, "tcp", hop)
	if err != nil {
		add("tcp", CheckProblem, fmt.Sprintf("%s (%s) cannot be reached: %v.", capital(hopName), hop, err),
			"Check your network connection; a firewall may block the port. If it keeps happening, ask your help desk.")
		return
	}
	conn.Close()
	add("tcp", CheckOK, fmt.Sprintf("%s (%s) accepts connections.", capital(hopName), hop), "")

	c, err := in.Anon()
	if err != nil {
		add("gateway", CheckProblem, Message(err), "")
		return
	}
	defer c.CloseIdleConnections()
	meta, err := c.Meta(ctx)
	ce, _ := client.AsError(err)
	switch {
	case err == nil:
		chain := c.ServerChain()
		if len(chain) > 0 {
			add("tls", CheckOK, fmt.Sprintf("The secure connection is trusted: the gateway's certificate was issued by %q and is valid until %s.",
				client.IssuerName(chain[0]), chain[0].NotAfter.Format("2 January 2006")), "")
		}
		add("gateway", CheckOK, fmt.Sprintf("The gateway answers: MAG gateway version %s (API %s).", meta.ServerVersion, meta.APIVersion), "")
	case ce != nil && (ce.Kind == client.KindIntercepted || ce.Kind == client.KindUntrustedServer || ce.Kind == client.KindTLS || ce.Kind == client.KindClock):
		add("tls", CheckProblem, Message(err), "")
		return
	default:
		add("gateway", CheckProblem, Message(err), "")
		return
	}
	skew, ok := c.ClockSkew()
	switch {
	case !ok:
		add("clock", CheckSkipped, "The gateway did not say its time, so the clock could not be compared.", "")
	case client.SkewTooLarge(skew):
		add("clock", CheckWarning, SkewMessage(skew, u.Host), "")
	default:
		add("clock", CheckOK, fmt.Sprintf("This computer's clock agrees with the gateway's (difference under %s).", client.MaxClockSkew), "")
	}
}

// lookupName checks that the first hop's name resolves; false ends the network checks.
func lookupName(ctx context.Context, name, hopName string, add addFunc) bool {
	dctx, cancel := context.WithTimeout(ctx, dialTime)
	addrs, err := net.DefaultResolver.LookupHost(dctx, name)
	cancel()
	if err != nil {
		add("dns", CheckProblem, fmt.Sprintf("The name of %s, %s, cannot be found (%v).", hopName, name, err),
			"Check the address in the settings and your network connection; on a company network, ask IT whether the name is right.")
		return false
	}
	add("dns", CheckOK, fmt.Sprintf("The name of %s, %s, is found: %s.", hopName, name, strings.Join(addrs, ", ")), "")
	return true
}

// local checks this computer: keyring, NSS tools, certificates, cached sessions.
func local(ctx context.Context, in DoctorInput, add addFunc) {
	if in.KeyringWarning != "" {
		add("keyring", CheckWarning, in.KeyringWarning, "")
	} else {
		add("keyring", CheckOK, "The system keyring is available: sessions are kept there, encrypted.", "")
	}
	if slices.Contains(in.CertStores, "nss") && runtime.GOOS == "linux" {
		var missing []string
		for _, tool := range []string{"certutil", "pk12util"} {
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, tool)
			}
		}
		if len(missing) > 0 {
			add("nss", CheckWarning, fmt.Sprintf("The NSS tools (%s) are missing, so certificates cannot be put where Firefox and Chrome find them.", strings.Join(missing, ", ")),
				"Install the package libnss3-tools (or ask IT to).")
		} else {
			add("nss", CheckOK, "The NSS tools are installed: browsers' certificate databases can be used.", "")
		}
	}
	if in.Identities != nil {
		certificates(ctx, in, add)
	}
	if in.Sessions != nil {
		sessions(ctx, in, add)
	}
}

func certificates(ctx context.Context, in DoctorInput, add addFunc) {
	ids, err := in.Identities(ctx)
	if err != nil {
		add("certificates", CheckWarning, "The certificates on this computer could not all be read: "+Message(err), "")
	}
	now := time.Now()
	var bad []string
	for _, id := range ids {
		switch {
		case id.Status == CertWrongAccount:
			owner := "another account"
			if id.Account != "" {
				owner = id.Account
			}
			bad = append(bad, fmt.Sprintf("%s (%s) belongs to %s: browsers may offer it and get Error 2035", id.Subject, id.Store, owner))
		case id.Status == CertExpired || id.Status == CertRevoked:
			bad = append(bad, fmt.Sprintf("%s (%s) is %s", id.Subject, id.Store, id.Status))
		case id.Status == CertBound && CertExpiry(id.NotAfter, now, cmp.Or(in.WarnWindow, RenewalWindow), true).Level == ExpirySoon:
			bad = append(bad, fmt.Sprintf("%s (%s) expires on %s", id.Subject, id.Store, id.NotAfter.Format("2 January 2006")))
		}
	}
	switch {
	case len(bad) > 0:
		add("certificates", CheckWarning, "Some certificates on this computer need attention: "+strings.Join(bad, "; ")+".",
			"Remove the certificates of other accounts (after a backup), and request a new certificate before yours expires.")
	case err == nil:
		add("certificates", CheckOK, fmt.Sprintf("%d certificate(s) on this computer, none expiring soon or bound to another account.", len(ids)), "")
	}
}

func sessions(ctx context.Context, in DoctorInput, add addFunc) {
	list, err := in.Sessions(ctx)
	if err != nil {
		add("sessions", CheckWarning, "The cached sessions could not be read: "+Message(err), "")
		return
	}
	var others []string
	for _, s := range list {
		if s.UserID != in.User && !slices.Contains(others, s.UserID) {
			others = append(others, s.UserID)
		}
	}
	if len(others) > 0 && in.User != "" {
		add("sessions", CheckWarning, fmt.Sprintf("Sessions of other accounts than %s are cached on this computer: %s.", in.User, strings.Join(others, ", ")),
			"Clear cached sessions if you no longer use those accounts; a stale session is how the wrong account gets used.")
		return
	}
	add("sessions", CheckOK, fmt.Sprintf("%d cached session(s), none of another account.", len(list)), "")
}

// diagnoseApp answers "why can't I open this application?".
func diagnoseApp(ctx context.Context, in DoctorInput) *AppDiagnosis {
	d := &AppDiagnosis{AppID: in.App}
	if in.Session == nil {
		d.Answer = "You are not logged in, so what the gateway says about this application cannot be read. Log in, then check again."
		return d
	}
	apps, err := in.Session.Applications(ctx)
	if err != nil {
		d.Answer = Message(err)
		return d
	}
	i := slices.IndexFunc(apps, func(a api.Application) bool {
		return strings.EqualFold(a.AppID, in.App) || strings.EqualFold(a.Name, in.App)
	})
	if i < 0 {
		d.Answer = fmt.Sprintf("Your organisation has no application %q. Check the name in the list of applications; if it should be there, ask your organisation administrator to subscribe to it.", in.App)
		return d
	}
	a := apps[i]
	d.AppID, d.Name, d.Status, d.RequiredAAL = a.AppID, a.Name, a.Status, a.RequiredAAL
	me, err := in.Session.Me(ctx)
	if err == nil {
		d.SessionAAL = me.Session.AAL
	}
	d.Certificate = offeredCertificate(ctx, in)
	var facts []string
	facts = append(facts, fmt.Sprintf("The gateway says: %s", sentenceOf(StatusText(a))))
	if d.SessionAAL > 0 {
		facts = append(facts, fmt.Sprintf("Your session has strength %d (%s); %s needs %d.", d.SessionAAL, strings.Join(me.Session.AMR, "+"), a.Name, max(a.RequiredAAL, 1)))
	}
	if d.Certificate != "" {
		facts = append(facts, "This computer offers "+d.Certificate+".")
	}
	switch {
	case a.Status != api.StatusAccessGranted:
		facts = append(facts, "So it cannot be opened yet: do what the gateway's status says.")
	case d.SessionAAL < a.RequiredAAL:
		facts = append(facts, fmt.Sprintf("So this session is not strong enough: log in again with your authenticator code or your certificate to reach strength %d.", a.RequiredAAL))
	case strings.Contains(d.Certificate, "another account"):
		facts = append(facts, "Access is granted, but the browser may offer that certificate of another account and get Error 2035: remove it or connect it to this account.")
	default:
		d.CanOpen = true
		facts = append(facts, "So you can open it now.")
	}
	d.Answer = strings.Join(facts, " ")
	return d
}

// offeredCertificate describes the certificate the session presents and its state here.
func offeredCertificate(ctx context.Context, in DoctorInput) string {
	sha := in.Session.CertificateSHA256()
	if sha == "" || in.Identities == nil {
		if sha == "" {
			return "no certificate"
		}
		return "a certificate"
	}
	ids, _ := in.Identities(ctx)
	for _, id := range ids {
		if strings.EqualFold(id.SHA256, sha) {
			if id.Status == CertWrongAccount {
				return fmt.Sprintf("the certificate %s, which belongs to another account", id.Subject)
			}
			return fmt.Sprintf("the certificate %s (%s)", id.Subject, strings.ReplaceAll(id.Status, "_", " "))
		}
	}
	return "a certificate that is not in the stores checked"
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sentenceOf(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Doctor runs the connection and setup check for this window (app: an application to explain,
// or "").
func (s *Service) Doctor(ctx context.Context, app string) DoctorReport {
	in := DoctorInput{Anon: s.anon, User: s.RememberedUserID(), KeyringWarning: s.KeyringWarning(), WarnWindow: s.WarningWindow(),
		CertStores: s.o.Stores.Backends, Identities: s.Identities, Sessions: s.CachedSessions, App: app}
	if o, err := s.clientOptions(); err == nil {
		in.Server, in.Network = o.ServerURL, o.Network
	}
	if in.Network == nil {
		in.Network = s.network()
	}
	if cur, err := s.current(); err == nil {
		in.Session, in.User = cur, cur.UserID()
	}
	return RunDoctor(ctx, in)
}

// ClockWarning asks the gateway for its time and says, before a one-time code is typed, when
// this computer's clock is too far off for codes to work; "" when it is fine or unknown.
func (s *Service) ClockWarning(ctx context.Context) string {
	// A login waiting for its code has just heard the gateway's clock.
	s.mu.Lock()
	mfa := s.mfa
	s.mu.Unlock()
	if mfa != nil {
		return clockWarningOf(mfa)
	}
	c, err := s.anon()
	if err != nil {
		return ""
	}
	defer c.CloseIdleConnections()
	if _, err := c.Meta(ctx); err != nil {
		if ce, ok := client.AsError(err); ok && ce.Kind == client.KindClock {
			return Message(err)
		}
		return ""
	}
	return clockWarningOf(c)
}

// clockWarningOf is the clock warning from what a client already measured, "" when fine.
func clockWarningOf(c *client.Client) string {
	if skew, ok := c.ClockSkew(); ok && client.SkewTooLarge(skew) {
		host := ""
		if u, err := url.Parse(c.Server()); err == nil {
			host = u.Host
		}
		return SkewMessage(skew, host)
	}
	return ""
}
