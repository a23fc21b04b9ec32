package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
)

func admin(args []string, stdout io.Writer) error {
	fs := newFlags("admin")
	data := fs.String("data", "", "data folder of the server")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if *data == "" || len(rest) < 2 {
		return fmt.Errorf("%w: admin needs --data DIR and a command", errUsage)
	}
	if _, err := os.Stat(*data); err != nil {
		return fmt.Errorf("data folder %s: %w (start `magd serve --data %s` once first)", *data, err, *data)
	}
	if err := checkDB(*db); err != nil {
		return err
	}
	s, err := server.Open(server.Config{DataDir: *data, Database: *db, AdminOnly: true})
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := func(key, value string) error {
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]string{key: value})
		}
		_, err := fmt.Fprintln(stdout, value)
		return err
	}
	cmd, sub := rest[0]+" "+rest[1], rest[2:]
	switch cmd {
	case "org add":
		fs := newFlags("org add")
		name := fs.String("name", "", "organisation name")
		if err := parseAll(fs, sub, "name"); err != nil {
			return err
		}
		id, err := s.CreateOrg(ctx, *name)
		if err != nil {
			return err
		}
		return out("org_id", id)
	case "org list":
		if err := parseAll(newFlags("org list"), sub); err != nil {
			return err
		}
		orgs, err := s.Orgs(ctx)
		if err != nil {
			return err
		}
		rows := make([]map[string]string, 0, len(orgs))
		for _, o := range orgs {
			rows = append(rows, map[string]string{"org_id": o.ID, "name": o.Name})
		}
		return list(stdout, *asJSON, rows, "org_id", "name")
	case "user list":
		fs := newFlags("user list")
		org := fs.String("org", "", "organisation id")
		if err := parseAll(fs, sub, "org"); err != nil {
			return err
		}
		users, err := s.Users(ctx, *org)
		if err != nil {
			return err
		}
		rows := make([]map[string]string, 0, len(users))
		for _, u := range users {
			role := api.RoleUser
			if u.OrgAdmin {
				role = api.RoleOrgAdmin
			}
			rows = append(rows, map[string]string{"user_id": u.UserID, "name": u.DisplayName(), "email": u.Email, "status": u.Status, "role": role})
		}
		return list(stdout, *asJSON, rows, "user_id", "status", "role", "name", "email")
	case "user add":
		fs := newFlags("user add")
		org, email := fs.String("org", "", "organisation id"), fs.String("email", "", "email address")
		first, last := fs.String("first", "", "first name"), fs.String("last", "", "last name")
		role := fs.String("role", "", "org_admin for an organisation administrator")
		if err := parseAll(fs, sub, "org", "email", "first", "last"); err != nil {
			return err
		}
		if *role != "" && *role != api.RoleOrgAdmin {
			return fmt.Errorf("%w: --role must be %s", errUsage, api.RoleOrgAdmin)
		}
		id, err := s.CreateUser(ctx, server.NewUser{OrgID: *org, Email: *email, FirstName: *first, LastName: *last, OrgAdmin: *role != ""})
		if err != nil {
			return err
		}
		return out("user_id", id)
	case "user resend-activation":
		if len(sub) != 1 || strings.HasPrefix(sub[0], "-") {
			return fmt.Errorf("%w: user resend-activation USER_ID", errUsage)
		}
		if err := s.ResendActivation(ctx, sub[0]); err != nil {
			return err
		}
		return out("user_id", strings.ToLower(sub[0]))
	case "app add":
		fs := newFlags("app add")
		id, name, url := fs.String("id", "", "application id"), fs.String("name", "", "name"), fs.String("url", "", "launch URL (the application's start page)")
		terms, desc := fs.String("terms", "", "file with the Terms and Conditions"), fs.String("description", "", "description")
		aal := fs.Int("required-aal", 1, "1, or 2 for a second factor")
		protocol := fs.String("protocol", "", "how the application signs users in: oidc or saml (none: a plain link)")
		var redirects, postLogout multiFlag
		fs.Var(&redirects, "redirect-uri", "oidc: a redirect URI of the client (repeat for more)")
		fs.Var(&postLogout, "post-logout-redirect-uri", "oidc: where RP-initiated logout may return (repeat for more)")
		initiate := fs.String("initiate-login-uri", "", "oidc: the application's third-party initiated login URI")
		public := fs.Bool("public", false, "oidc: a public client (no secret; PKCE with S256 required)")
		spMeta := fs.String("sp-metadata", "", "saml: the service provider's metadata, a file or an https URL")
		if err := parseAll(fs, sub, "id", "name", "url", "terms"); err != nil {
			return err
		}
		if err := checkProtocolFlags(*protocol, redirects, *initiate, *public, *spMeta); err != nil {
			return err
		}
		body, err := os.ReadFile(*terms)
		if err != nil {
			return fmt.Errorf("read the terms: %w", err)
		}
		var meta []byte
		if *protocol == "saml" {
			if meta, err = readMetadata(ctx, *spMeta); err != nil {
				return err
			}
		}
		if err := s.AddApp(ctx, server.NewApp{ID: *id, Name: *name, Description: *desc, URL: *url, Terms: string(body), RequiredAAL: *aal}); err != nil {
			return err
		}
		switch *protocol {
		case "oidc":
			info, err := s.RegisterOIDCClient(ctx, *id, server.OIDCRegistration{RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
				InitiateLoginURI: *initiate, Public: *public})
			if err != nil {
				return err
			}
			return pairs(stdout, *asJSON, "app_id", *id, "issuer", info.Issuer, "client_id", info.ClientID, "client_secret", info.ClientSecret)
		case "saml":
			entity, err := s.RegisterSAMLProvider(ctx, *id, meta)
			if err != nil {
				return err
			}
			return pairs(stdout, *asJSON, "app_id", *id, "sp_entity_id", entity, "idp_metadata_url", s.SAMLMetadataURL(ctx))
		}
		return out("app_id", *id)
	case "cert revoke":
		if len(sub) != 1 || strings.HasPrefix(sub[0], "-") {
			return fmt.Errorf("%w: cert revoke CERTIFICATE_ID", errUsage)
		}
		if err := s.RevokeCertificate(ctx, sub[0]); err != nil {
			return err
		}
		return out("certificate_id", sub[0])
	case "access suspend":
		fs := newFlags("access suspend")
		user, app := fs.String("user", "", "user id"), fs.String("app", "", "application id")
		if err := parseAll(fs, sub, "user", "app"); err != nil {
			return err
		}
		if err := s.SuspendAccess(ctx, *user, *app); err != nil {
			return err
		}
		return pairs(stdout, *asJSON, "user_id", *user, "app_id", *app)
	case "app subscribe":
		fs := newFlags("app subscribe")
		org, app := fs.String("org", "", "organisation id"), fs.String("app", "", "application id")
		if err := parseAll(fs, sub, "org", "app"); err != nil {
			return err
		}
		if err := s.Subscribe(ctx, *org, *app); err != nil {
			return err
		}
		return out("app_id", *app)
	}
	return fmt.Errorf("%w: unknown admin command %q", errUsage, cmd)
}

// parseAll parses a subcommand's flags and checks the required ones are given.
func parseAll(fs *flag.FlagSet, args []string, required ...string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected %q", errUsage, fs.Name(), fs.Arg(0))
	}
	for _, name := range required {
		if strings.TrimSpace(fs.Lookup(name).Value.String()) == "" {
			return fmt.Errorf("%w: %s needs --%s", errUsage, fs.Name(), name)
		}
	}
	return nil
}

// list prints rows as JSON or as an aligned table of the given columns.
func list(w io.Writer, asJSON bool, rows []map[string]string, cols ...string) error {
	if asJSON {
		return json.NewEncoder(w).Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = r[c]
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// checkProtocolFlags refuses flags that do not belong to the chosen protocol.
func checkProtocolFlags(protocol string, redirects []string, initiate string, public bool, spMeta string) error {
	oidcFlags := len(redirects) > 0 || initiate != "" || public
	switch protocol {
	case "":
		if oidcFlags || spMeta != "" {
			return fmt.Errorf("%w: app add: give --protocol oidc or --protocol saml with those flags", errUsage)
		}
	case "oidc":
		if spMeta != "" {
			return fmt.Errorf("%w: app add: --sp-metadata is for --protocol saml", errUsage)
		}
		if len(redirects) == 0 {
			return fmt.Errorf("%w: app add --protocol oidc needs --redirect-uri", errUsage)
		}
	case "saml":
		if oidcFlags {
			return fmt.Errorf("%w: app add: --redirect-uri, --initiate-login-uri and --public are for --protocol oidc", errUsage)
		}
		if spMeta == "" {
			return fmt.Errorf("%w: app add --protocol saml needs --sp-metadata FILE|URL", errUsage)
		}
	default:
		return fmt.Errorf("%w: app add: --protocol must be oidc or saml", errUsage)
	}
	return nil
}

// readMetadata reads SP metadata from a file or an https URL.
func readMetadata(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "https://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("read the SP metadata: %w", err)
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the SP metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the SP metadata: %s answered %s", src, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// pairs prints key/value pairs as one JSON object or as "key: value" lines (empty values left out).
func pairs(w io.Writer, asJSON bool, kv ...string) error {
	m := map[string]string{}
	var sb strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		m[kv[i]] = kv[i+1]
		fmt.Fprintf(&sb, "%s: %s\n", kv[i], kv[i+1])
	}
	if asJSON {
		return json.NewEncoder(w).Encode(m)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
