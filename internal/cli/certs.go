package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/service"
)

// runCerts is magdesk certs list|request|check|import|export|remove|connect (SPEC §4).
func runCerts(e *Env, args []string) int {
	return subcommand(e, "certs", args, map[string]func(*Env, []string) int{
		"list": certsList, "check": certsCheck, "request": certsRequest, "import": certsImport,
		"export": certsExport, "remove": certsRemove, "connect": certsConnect,
	}, "list")
}

// inventory opens every certificate store of this user (policy's cert_stores may narrow it).
func (e *Env) inventory() (*certstore.Inventory, error) {
	return certstore.OpenInventory(certstore.InventoryOptions{Home: e.Home, Backends: e.Settings.CertStores})
}

// certReport is certs list/check output.
type certReport struct {
	Server     string                 `json:"server,omitempty"`
	User       string                 `json:"user,omitempty"`
	Checked    bool                   `json:"checked_with_gateway"`
	Identities []certstore.Classified `json:"identities"`
	Warnings   []string               `json:"warnings,omitempty"`
}

// classifyAll lists every store and classifies against the current account: with a session,
// against the gateway's list of this account's certificates; without, by the local records.
func (e *Env) classifyAll(inv *certstore.Inventory) certReport {
	ctx := e.Context()
	ids, warnings := inv.List(ctx)
	rep := certReport{Warnings: warnings}
	in := certstore.ClassifyInput{Now: time.Now()}
	if server := e.server(); server != "" {
		if norm, err := client.NormalizeServerURL(server); err == nil {
			rep.Server, in.ServerURL = norm, norm
		}
		if o, err := e.ClientOptions(server); err == nil {
			in.ServerCAs = certstore.PoolFromPEM(o.CAPEM)
		}
		rep.User, in.CurrentUserID = e.CurrentUser(), e.CurrentUser()
	}
	if in.CurrentUserID != "" {
		mine, err := e.myCertificates()
		if err == nil {
			in.MyServerCerts, in.ServerListKnown, rep.Checked = mine, true, true
		} else {
			rep.Warnings = append(rep.Warnings, "the gateway's list of your certificates was not read ("+service.Message(err)+"); judged by local records only")
		}
	}
	in.LocalRecords, _ = inv.File.Records()
	rep.Identities = certstore.Classify(ids, in)
	return rep
}

// certReport parses a command without arguments and classifies every identity.
func (e *Env) certReport(name string, args []string) (certReport, error) {
	if _, err := parseArgs(e.Flags(name), args); err != nil {
		return certReport{}, err
	}
	inv, err := e.inventory()
	if err != nil {
		return certReport{}, err
	}
	rep := e.classifyAll(inv)
	e.warn(rep.Warnings)
	return rep, nil
}

func (e *Env) myCertificates() ([]api.Certificate, error) {
	c, err := e.Current(e.Context())
	if err != nil {
		return nil, err
	}
	return c.Certificates(e.Context())
}

func (e *Env) warn(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(e.IO.Err, "magdesk: warning:", w)
	}
}

func certsList(e *Env, args []string) int {
	rep, err := e.certReport("certs list", args)
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(rep, func(w io.Writer) {
		if !writeTable(w, rep.Identities, "No certificates with a private key were found.", "STATUS\tSUBJECT\tACCOUNT\tEXPIRES\tSTORE\tSHA-256",
			func(c certstore.Classified) []string {
				return []string{string(c.Class), c.SubjectCN, dash(c.Account), c.NotAfter.Local().Format(time.DateOnly), c.Location.Label, string(c.SHA256)}
			}) {
			return
		}
		if !rep.Checked {
			fmt.Fprintln(w, "Not checked with the gateway: log in to see which certificates belong to your account.")
		}
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// certsCheck names every certificate bound to another account (Error 2035) and exits 3 when it
// finds one.
func certsCheck(e *Env, args []string) int {
	rep, err := e.certReport("certs check", args)
	if err != nil {
		return e.Fail(err)
	}
	wrong := certstore.WrongAccount(rep.Identities)
	status := e.Output(struct {
		certReport
		WrongAccount []certstore.Classified `json:"wrong_account"`
	}{rep, wrong}, func(w io.Writer) {
		if len(wrong) == 0 {
			fmt.Fprintf(w, "No certificate of another account was found (%d checked).\n", len(rep.Identities))
			if !rep.Checked {
				fmt.Fprintln(w, "Not checked with the gateway: log in first for a complete check.")
			}
			return
		}
		fmt.Fprintf(w, "%d certificate(s) belong to another account; browsers may offer them and the gateway then answers Error 2035:\n", len(wrong))
		for _, c := range wrong {
			fmt.Fprintf(w, "  %s  in %s (%s)\n    %s\n", c.SHA256, c.Location.Label, c.Location.Store, c.Reason)
		}
		fmt.Fprintln(w, "Fix: magdesk certs remove SHA256 --backup FILE   (or: magdesk certs connect SHA256 --from-user ID)")
	})
	if status == ExitOK && len(wrong) > 0 {
		return ExitProblem
	}
	return status
}

// installTargets are the browser stores of this computer (not the app's own, not read-only).
func installTargets(inv *certstore.Inventory) []certstore.Store {
	var out []certstore.Store
	for _, s := range inv.Stores {
		if l := s.Location(); l.Backend != certstore.BackendFile && !l.ReadOnly {
			out = append(out, s)
		}
	}
	return out
}

func certsRequest(e *Env, args []string) int {
	fs := e.Flags("certs request")
	label := fs.String("label", "", "a name for the certificate")
	install := fs.Bool("install", false, "also install it into this computer's browser stores (NSS / Windows / keychain)")
	_, c, err := e.withSession(fs, args, 0, "no arguments besides the flags")
	if err != nil {
		return e.Fail(err)
	}
	inv, err := e.inventory()
	if err != nil {
		return e.Fail(err)
	}
	in := certstore.RequestInput{ServerURL: c.Server(), UserID: e.CurrentUser(), Label: *label, File: inv.File}
	if *install {
		in.Install = installTargets(inv)
	}
	send := func(ctx context.Context, csr string) (*api.Certificate, error) {
		return c.RequestCertificate(ctx, csr, *label)
	}
	out, err := certstore.RequestIdentity(e.Context(), send, in)
	if err != nil {
		return e.Fail(err)
	}
	e.Log.Info("certificate requested", "sha256", out.Identity.SHA256, "user", in.UserID, "installed", out.Installed)
	e.warn(out.Warnings)
	return e.Output(out, func(w io.Writer) {
		fmt.Fprintf(w, "Certificate issued for %s and stored in MAG Desktop's store.\nSHA-256: %s\nValid until %s.\n",
			in.UserID, out.Identity.SHA256, out.Identity.NotAfter.Local().Format(time.DateOnly))
		for _, l := range out.Installed {
			fmt.Fprintln(w, "Installed in", l)
		}
		fmt.Fprintf(w, "Log in with it: magdesk login --user %s --cert auto\n", in.UserID)
	})
}

func certsImport(e *Env, args []string) int {
	fs := e.Flags("certs import")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the file's password from standard input")
	user := fs.String("user", "", "the account this certificate belongs to (recorded to tell accounts apart)")
	install := fs.Bool("install", false, "also install it into this computer's browser stores")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 1, "the PKCS#12 file to import")
	}
	if err != nil {
		return e.Fail(err)
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return e.Fail(fmt.Errorf("cannot read %s: %w", pos[0], err))
	}
	pw, err := e.Secret(fmt.Sprintf("Password of %s: ", pos[0]))
	if err != nil {
		return e.Fail(err)
	}
	b, err := certstore.ParsePKCS12(data, pw)
	if err != nil {
		return e.Fail(err)
	}
	inv, err := e.inventory()
	if err != nil {
		return e.Fail(err)
	}
	rec := certstore.Record{Source: certstore.SourceImport, UserID: *user}
	if norm, nerr := client.NormalizeServerURL(e.server()); nerr == nil && *user != "" {
		rec.ServerURL = norm
	}
	id, err := inv.File.ImportRecord(e.Context(), b, rec)
	if err != nil {
		return e.Fail(err)
	}
	var installed []string
	if *install {
		for _, st := range installTargets(inv) {
			if _, err := st.Import(e.Context(), b); err != nil {
				e.warn([]string{"not installed in " + st.Location().Label + ": " + err.Error()})
				continue
			}
			installed = append(installed, st.Location().Label)
		}
	}
	e.Log.Info("certificate imported", "sha256", id.SHA256, "user", *user, "installed", installed)
	return e.Output(certstore.RequestOutcome{Identity: id, Installed: installed}, func(w io.Writer) {
		fmt.Fprintf(w, "Imported %s (%s) into MAG Desktop's store.\n", id.SHA256, id.SubjectCN)
		for _, l := range installed {
			fmt.Fprintln(w, "Installed in", l)
		}
	})
}

// locate finds an identity by fingerprint in every store.
func (e *Env) locate(inv *certstore.Inventory, arg string) (certstore.Fingerprint, []certstore.Identity, []certstore.Store, error) {
	fp, err := certstore.ParseFingerprint(arg)
	if err != nil {
		return "", nil, nil, usageErrorf("%s", fingerprintProblem(err))
	}
	ids, stores := inv.Find(e.Context(), fp)
	if len(ids) == 0 {
		return fp, nil, nil, fmt.Errorf("no certificate %s with a private key on this computer: run 'magdesk certs list'", fp)
	}
	return fp, ids, stores, nil
}

// target parses a command whose first argument is a SHA-256 and finds that identity.
type target struct {
	pos    []string
	inv    *certstore.Inventory
	fp     certstore.Fingerprint
	ids    []certstore.Identity
	stores []certstore.Store
}

func (e *Env) findTarget(fs *flag.FlagSet, args []string, n int, what string) (target, error) {
	var t target
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, n, what)
	}
	if err != nil {
		return t, err
	}
	t.pos = pos
	if t.inv, err = e.inventory(); err != nil {
		return t, err
	}
	t.fp, t.ids, t.stores, err = e.locate(t.inv, pos[0])
	return t, err
}

func certsExport(e *Env, args []string) int {
	fs := e.Flags("certs export")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the new file's password from standard input")
	t, err := e.findTarget(fs, args, 2, "SHA256 and FILE")
	if err != nil {
		return e.Fail(err)
	}
	pos, fp, stores := t.pos, t.fp, t.stores
	pw, err := e.NewSecret("Password for the new file: ", "Same password again: ")
	if err != nil {
		return e.Fail(err)
	}
	var errs []error
	for _, st := range stores {
		b, err := st.Export(e.Context(), fp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := certstore.WritePKCS12File(pos[1], b, pw); err != nil {
			return e.Fail(err)
		}
		e.Log.Info("certificate exported", "sha256", fp, "store", st.Location().Store, "file", pos[1])
		return e.Output(map[string]string{"sha256": string(fp), "file": pos[1], "store": st.Location().Store}, func(w io.Writer) {
			fmt.Fprintf(w, "Wrote %s (encrypted PKCS#12; read back and checked).\n", pos[1])
		})
	}
	return e.Fail(errors.Join(errs...))
}

// certsRemove deletes certificate and key from every store holding it (or --store), after an
// optional verified backup, and proves both are gone.
func certsRemove(e *Env, args []string) int {
	fs := e.Flags("certs remove")
	backup := fs.String("backup", "", "first write an encrypted PKCS#12 backup to FILE (read back and checked)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	only := fs.String("store", "", "remove only from this store (as certs list shows it); default: every store")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the backup file's password from standard input")
	t, err := e.findTarget(fs, args, 1, "the SHA-256 of the certificate to remove")
	if err != nil {
		return e.Fail(err)
	}
	fp, ids, stores := t.fp, t.ids, t.stores
	if *only != "" {
		var keepIDs []certstore.Identity
		var keepStores []certstore.Store
		for i, id := range ids {
			if id.Location.Store == *only || id.Location.Label == *only {
				keepIDs, keepStores = append(keepIDs, id), append(keepStores, stores[i])
			}
		}
		if len(keepIDs) == 0 {
			return e.Usagef("certificate %s is not in store %q", fp.Short(), *only)
		}
		ids, stores = keepIDs, keepStores
	}
	if !*yes {
		if err := e.confirmRemoval(fp, ids, *backup); err != nil {
			return e.Fail(err)
		}
	}
	opts := certstore.RemoveOptions{BackupPath: *backup, NoBackup: *backup == ""}
	if *backup != "" {
		if opts.BackupPassword, err = e.NewSecret("Password for the backup file: ", "Same password again: "); err != nil {
			return e.Fail(err)
		}
	}
	var outcomes []certstore.RemoveOutcome
	for i, st := range stores {
		out, err := certstore.RemoveIdentity(e.Context(), st, fp, opts)
		e.Log.Info("certificate removal", "sha256", fp, "store", ids[i].Location.Store, "cert_removed", out.CertRemoved,
			"key_removed", out.KeyRemoved, "key_skipped", out.KeySkippedReason, "verified", out.Verified, "backup", out.BackupPath, "ok", err == nil)
		if err != nil {
			return e.Fail(err)
		}
		outcomes = append(outcomes, out)
		// One verified backup is enough for every copy.
		if out.BackupPath != "" {
			opts = certstore.RemoveOptions{NoBackup: true}
		}
	}
	return e.Output(outcomes, func(w io.Writer) {
		for _, o := range outcomes {
			what := "certificate"
			if o.KeyRemoved {
				what += " and private key"
			} else if o.KeySkippedReason == "shared" {
				what += " (its private key is kept: another certificate uses it)"
			}
			fmt.Fprintf(w, "Removed the %s from %s; listed again: gone.\n", what, o.Location.Label)
			if o.BackupPath != "" {
				fmt.Fprintf(w, "Backup: %s (read back and checked).\n", o.BackupPath)
			}
			for _, warn := range o.Warnings {
				fmt.Fprintln(w, "Note:", warn)
			}
		}
		fmt.Fprintln(w, certstore.CloseBrowsersAdvice)
	})
}

func (e *Env) confirmRemoval(fp certstore.Fingerprint, ids []certstore.Identity, backup string) error {
	if !e.Terminal {
		return usageErrorf("certs remove deletes a certificate and its private key: confirm with --yes when not on a terminal")
	}
	fmt.Fprintf(e.IO.Err, "This removes certificate %s (%s, expires %s) and its private key from:\n",
		fp, ids[0].SubjectCN, ids[0].NotAfter.Local().Format(time.DateOnly))
	for _, id := range ids {
		fmt.Fprintf(e.IO.Err, "  %s (%s)\n", id.Location.Label, id.Location.Store)
	}
	if backup == "" {
		fmt.Fprintln(e.IO.Err, "WITHOUT a backup (add --backup FILE to keep a copy).")
	} else {
		fmt.Fprintf(e.IO.Err, "A backup is written to %s first.\n", backup)
	}
	ans, err := e.Ask("Remove it? [y/N] ")
	if err != nil {
		return err
	}
	if a := strings.ToLower(ans); a != "y" && a != "yes" {
		return errors.New("nothing was removed")
	}
	return nil
}

// certsConnect is Account Connections: present the certificate and bind it to the current
// account, proven with the credentials of the account that owns it.
func certsConnect(e *Env, args []string) int {
	fs := e.Flags("certs connect")
	from := fs.String("from-user", "", "the account the certificate belongs to now")
	otp := fs.String("otp", "", "one-time code of that account, if it uses one")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read that account's password from standard input")
	pos, c, err := e.withSession(fs, args, 1, "the SHA-256 of the certificate to connect")
	if err == nil && *from == "" {
		err = usageErrorf("certs connect needs --from-user ID: the account that owns the certificate")
	}
	if err != nil {
		return e.Fail(err)
	}
	inv, err := e.inventory()
	if err != nil {
		return e.Fail(err)
	}
	fp, _, stores, err := e.locate(inv, pos[0])
	if err != nil {
		return e.Fail(err)
	}
	var b *certstore.Bundle
	for _, st := range stores {
		if b, err = st.Export(e.Context(), fp); err == nil {
			break
		}
	}
	if b == nil {
		return e.Fail(err)
	}
	pw, err := e.Secret(fmt.Sprintf("Password of %s: ", *from))
	if err != nil {
		return e.Fail(err)
	}
	conn, err := c.WithCertificate(b.TLSCertificate()).ConnectCertificate(e.Context(), api.ConnectionRequest{UserID: *from, Password: pw, OTP: *otp})
	if err != nil {
		return e.Fail(err)
	}
	// The certificate now opens this account: move our note of its owner here.
	if recs, _ := inv.File.Records(); recs != nil {
		for _, r := range recs {
			if r.SHA256 == fp {
				r.UserID, r.ServerURL = e.CurrentUser(), c.Server()
				_ = inv.File.PutRecord(r)
			}
		}
	}
	e.Log.Info("certificate connected", "sha256", fp, "from_user", *from, "to_user", e.CurrentUser())
	return e.Output(conn, func(w io.Writer) {
		fmt.Fprintf(w, "Certificate %s is now connected to %s (bound to %d account(s)).\n", fp.Short(), e.CurrentUser(), conn.BoundAccounts)
	})
}
