package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/service"
)

// runCerts is magdesk certs list|request|check|import|export|remove|connect.
func runCerts(e *Env, args []string) int {
	return subcommand(e, "certs", args, map[string]func(*Env, []string) int{
		"list": certsList, "check": certsCheck, "request": certsRequest, "import": certsImport,
		"export": certsExport, "remove": certsRemove, "connect": certsConnect,
	}, "list")
}

// certReport parses a command without arguments and classifies every identity against the
// current account: with a session, against the gateway's list of its certificates; without,
// by the local records.
func (e *Env) certReport(name string, args []string) (service.CertReport, error) {
	if _, err := parseArgs(e.Flags(name), args); err != nil {
		return service.CertReport{}, err
	}
	svc, sessErr := e.sessionService()
	user := ""
	if e.server() != "" {
		user = e.service().CurrentAccount()
	}
	rep, err := svc.CertificateReport(e.Context(), user)
	if err != nil {
		return rep, err
	}
	if sessErr != nil && user != "" {
		rep.Warnings = append(rep.Warnings, service.ServerListNotRead(sessErr))
	}
	e.warn(rep.Warnings)
	return rep, nil
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
		service.CertReport
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

func certsRequest(e *Env, args []string) int {
	fs := e.Flags("certs request")
	label := fs.String("label", "", "a name for the certificate")
	install := fs.Bool("install", false, "also install it into this computer's browser stores (NSS / Windows / keychain)")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 0, "no arguments besides the flags")
	}
	if err != nil {
		return e.Fail(err)
	}
	svc, err := e.sessionService()
	if err != nil {
		return e.Fail(err)
	}
	out, err := svc.RequestIdentity(e.Context(), service.RequestOptions{Label: *label, Install: *install})
	if err != nil {
		return e.Fail(err)
	}
	user := e.service().CurrentAccount()
	e.warn(out.Warnings)
	return e.Output(out, func(w io.Writer) {
		fmt.Fprintf(w, "Certificate issued for %s and stored in MAG Desktop's store.\nSHA-256: %s\nValid until %s.\n",
			user, out.Identity.SHA256, out.Identity.NotAfter.Local().Format(time.DateOnly))
		for _, l := range out.Installed {
			fmt.Fprintln(w, "Installed in", l)
		}
		fmt.Fprintf(w, "Log in with it: magdesk login --user %s --cert auto\n", user)
	})
}

func certsImport(e *Env, args []string) int {
	fs := e.Flags("certs import")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the file's password from standard input")
	user := fs.String("user", "", "the account this certificate belongs to (recorded to tell accounts apart; default: yours, if the gateway has it bound to you)")
	install := fs.Bool("install", false, "also install it into this computer's browser stores")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 1, "the PKCS#12 file to import")
	}
	if err != nil {
		return e.Fail(err)
	}
	if _, err := os.Stat(pos[0]); err != nil {
		return e.Fail(fmt.Errorf("cannot read %s: %w", pos[0], err))
	}
	pw, err := e.Secret(fmt.Sprintf("Password of %s: ", pos[0]))
	if err != nil {
		return e.Fail(err)
	}
	// With a session the gateway can confirm the certificate is this account's; without one
	// it is imported all the same.
	svc, _ := e.sessionService()
	out, err := svc.Import(e.Context(), service.ImportRequest{Path: pos[0], Password: pw, UserID: *user, Install: *install})
	if err != nil {
		return e.Fail(err)
	}
	e.warn(out.Warnings)
	return e.Output(out, func(w io.Writer) {
		fmt.Fprintf(w, "Imported %s (%s) into MAG Desktop's store.\n", out.Identity.SHA256, out.Identity.SubjectCN)
		for _, l := range out.Installed {
			fmt.Fprintln(w, "Installed in", l)
		}
	})
}

// target parses a command whose first argument is a SHA-256, checks it is one, and returns
// the positional arguments.
func target(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, n, what)
	}
	if err != nil {
		return nil, err
	}
	if _, err := certstore.ParseFingerprint(pos[0]); err != nil {
		return nil, usageErrorf("%s", fingerprintProblem(err))
	}
	return pos, nil
}

func certsExport(e *Env, args []string) int {
	fs := e.Flags("certs export")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the new file's password from standard input")
	pos, err := target(fs, args, 2, "SHA256 and FILE")
	if err != nil {
		return e.Fail(err)
	}
	svc := e.service()
	if _, err := svc.LocateIdentity(e.Context(), pos[0], ""); err != nil {
		return e.Fail(err)
	}
	pw, err := e.newFilePassword("Password for the new file: ")
	if err != nil {
		return e.Fail(err)
	}
	out, err := svc.Export(e.Context(), pos[0], pos[1], pw)
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(out, func(w io.Writer) {
		fmt.Fprintf(w, "Wrote %s (encrypted PKCS#12; read back and checked).\n", out.File)
	})
}

// newFilePassword asks for the password of a new backup or export file, twice on a terminal,
// and checks it as the window does.
func (e *Env) newFilePassword(prompt string) (string, error) {
	pw, err := e.Secret(prompt)
	if err != nil {
		return "", err
	}
	again := pw
	if !e.PasswordStdin {
		if again, err = e.Secret("Same password again: "); err != nil {
			return "", err
		}
	}
	if err := service.CheckBackupPassword(pw, again); err != nil {
		return "", err
	}
	return pw, nil
}

// certsRemove deletes certificate and key from every store holding it (or --store), after an
// optional verified backup, and proves both are gone.
func certsRemove(e *Env, args []string) int {
	fs := e.Flags("certs remove")
	backup := fs.String("backup", "", "first write an encrypted PKCS#12 backup to FILE (read back and checked)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	only := fs.String("store", "", "remove only from this store (as certs list shows it); default: every store")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the backup file's password from standard input")
	pos, err := target(fs, args, 1, "the SHA-256 of the certificate to remove")
	if err != nil {
		return e.Fail(err)
	}
	svc := e.service()
	ids, err := svc.LocateIdentity(e.Context(), pos[0], *only)
	if err != nil {
		return e.Fail(err)
	}
	if !*yes {
		if err := e.confirmRemoval(ids, *backup); err != nil {
			return e.Fail(err)
		}
	}
	req := service.RemoveRequest{SHA256: pos[0], BackupPath: *backup, Store: *only}
	if *backup != "" {
		if req.BackupPassword, err = e.newFilePassword("Password for the backup file: "); err != nil {
			return e.Fail(err)
		}
	}
	res, err := svc.RemoveIdentity(e.Context(), req)
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(res.Outcomes, func(w io.Writer) {
		for _, o := range res.Outcomes {
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

func (e *Env) confirmRemoval(ids []certstore.Identity, backup string) error {
	if !e.Terminal {
		return usageErrorf("certs remove deletes a certificate and its private key: confirm with --yes when not on a terminal")
	}
	fmt.Fprintf(e.IO.Err, "This removes certificate %s (%s, expires %s) and its private key from:\n",
		ids[0].SHA256, ids[0].SubjectCN, ids[0].NotAfter.Local().Format(time.DateOnly))
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
	pos, err := target(fs, args, 1, "the SHA-256 of the certificate to connect")
	if err == nil && *from == "" {
		err = usageErrorf("certs connect needs --from-user ID: the account that owns the certificate")
	}
	if err != nil {
		return e.Fail(err)
	}
	svc, err := e.sessionService()
	if err != nil {
		return e.Fail(err)
	}
	if _, err := svc.LocateIdentity(e.Context(), pos[0], ""); err != nil {
		return e.Fail(err)
	}
	pw, err := e.Secret(fmt.Sprintf("Password of %s: ", *from))
	if err != nil {
		return e.Fail(err)
	}
	conn, err := svc.Connect(e.Context(), service.ConnectRequest{SHA256: pos[0], FromUserID: *from, Password: pw, OTP: *otp})
	if err != nil {
		return e.Fail(err)
	}
	fp, _ := certstore.ParseFingerprint(pos[0])
	return e.Output(conn, func(w io.Writer) {
		fmt.Fprintf(w, "Certificate %s is now connected to %s (bound to %d account(s)).\n", fp.Short(), e.service().CurrentAccount(), conn.BoundAccounts)
	})
}
