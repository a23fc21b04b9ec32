package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
		id, name, url := fs.String("id", "", "application id"), fs.String("name", "", "name"), fs.String("url", "", "launch URL")
		terms, desc := fs.String("terms", "", "file with the Terms and Conditions"), fs.String("description", "", "description")
		aal := fs.Int("required-aal", 1, "1, or 2 for a second factor")
		if err := parseAll(fs, sub, "id", "name", "url", "terms"); err != nil {
			return err
		}
		body, err := os.ReadFile(*terms)
		if err != nil {
			return fmt.Errorf("read the terms: %w", err)
		}
		if err := s.AddApp(ctx, server.NewApp{ID: *id, Name: *name, Description: *desc, URL: *url, Terms: string(body), RequiredAAL: *aal}); err != nil {
			return err
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
