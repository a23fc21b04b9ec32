package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/skip2/go-qrcode"
	"golang.org/x/term"
)

// runOTP is otp enroll | otp verify CODE.
func runOTP(e *Env, args []string) int {
	return subcommand(e, "otp", args, map[string]func(*Env, []string) int{
		"enroll": otpEnroll, "verify": otpVerify,
	}, "")
}

func otpEnroll(e *Env, args []string) int {
	_, svc, c, err := e.withService(e.Flags("otp enroll"), args, 0, "no arguments")
	if err != nil {
		return e.Fail(err)
	}
	en, err := svc.StartTOTP(e.Context())
	if err != nil {
		return e.failSession(err)
	}
	if err := e.setEnrollment(c.Server(), c.UserID(), en.EnrollmentID); err != nil {
		return e.Fail(err)
	}
	return e.Output(en, func(w io.Writer) {
		fmt.Fprintln(w, "Scan this QR code with your authenticator app (or type the secret below):")
		fmt.Fprint(w, renderQR(en.OTPAuthURI, isTerminal(w)))
		fmt.Fprintf(w, "Secret:  %s\nURI:     %s\n", en.SecretBase32, en.OTPAuthURI)
		fmt.Fprintln(w, "Then confirm with the code the app shows: magdesk otp verify CODE")
	})
}

func otpVerify(e *Env, args []string) int {
	pos, svc, c, err := e.withService(e.Flags("otp verify"), args, 1, "the 6-digit code from the authenticator app")
	if err != nil {
		return e.Fail(err)
	}
	id := e.enrollment(c.Server(), c.UserID())
	if id == "" {
		return e.Fail(fmt.Errorf("no registration is in progress for %s: run 'magdesk otp enroll' first", c.UserID()))
	}
	cred, err := svc.VerifyTOTP(e.Context(), id, pos[0])
	if err != nil {
		return e.failSession(err)
	}
	if err := e.setEnrollment(c.Server(), c.UserID(), ""); err != nil {
		return e.Fail(err)
	}
	return e.Output(cred, func(w io.Writer) {
		fmt.Fprintln(w, "Your authenticator app is registered: from now on, logging in asks for its code.")
	})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// renderQR draws a QR code with half-block characters, two modules per character row. On a
// terminal it forces black on white, so the code scans on dark themes too.
func renderQR(content string, color bool) string {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return "(the QR code could not be drawn: " + err.Error() + ")\n"
	}
	q.DisableBorder = false
	bm := q.Bitmap()
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		if color {
			b.WriteString("\x1b[30;47m")
		}
		for x := range bm[y] {
			top := bm[y][x]
			bottom := y+1 < len(bm) && bm[y+1][x]
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		if color {
			b.WriteString("\x1b[0m")
		}
		b.WriteString("\n")
	}
	return b.String()
}
