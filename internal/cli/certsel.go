package cli

import (
	"errors"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/service"
)

// loginRequest is the login of userID with login --cert auto|none|SHA256: auto presents the
// identity recorded for this user on this server and never another account's (with none
// recorded the login goes ahead without one); a SHA-256 picks that identity from the first
// store that can give it.
func loginRequest(userID, otp, mode string) (service.LoginRequest, error) {
	req := service.LoginRequest{UserID: userID, OTP: otp}
	switch mode {
	case "", "none":
		req.NoCertificate = true
	case "auto":
	default:
		fp, err := certstore.ParseFingerprint(mode)
		if err != nil {
			return req, usageErrorf("--cert takes auto, none or a SHA-256 fingerprint: %s", fingerprintProblem(err))
		}
		req.CertSHA256 = string(fp)
	}
	return req, nil
}

// fingerprintProblem is what is wrong with an argument ParseFingerprint refused: the store's
// sentence without its operation, or the error itself when it is of another kind.
func fingerprintProblem(err error) string {
	var ce *certstore.Error
	if errors.As(err, &ce) {
		return ce.Msg
	}
	return err.Error()
}
