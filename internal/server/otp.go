package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// TOTP parameters: RFC 6238, SHA-1, 6 digits, 30 s (what authenticator apps expect).
const (
	totpIssuer = "MAG"
	totpPeriod = 30
	totpDigits = 6
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// sealSecret encrypts a TOTP secret with AES-256-GCM, bound to its credential id.
func (s *Server) sealSecret(id, secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(id))
}

func (s *Server) openSecret(t store.TOTP) (string, error) {
	n := s.aead.NonceSize()
	if len(t.SecretEnc) < n {
		return "", errors.New("stored TOTP secret is damaged")
	}
	pt, err := s.aead.Open(nil, t.SecretEnc[:n], t.SecretEnc[n:], []byte(t.ID))
	if err != nil {
		return "", fmt.Errorf("decrypt TOTP secret %s (is secret.key the one this database was made with?): %w", t.ID, err)
	}
	return string(pt), nil
}

// matchTOTP finds the time step (now ±1) whose code is code.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	for _, d := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(d*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

func cleanCode(code string) string { return strings.ReplaceAll(strings.TrimSpace(code), " ", "") }

// checkTOTP verifies a code against an active credential: a wrong code counts into g's
// failures, and a code is accepted only once (the step must be newer than the last used).
func (s *Server) checkTOTP(ctx context.Context, r *http.Request, g guard, t store.TOTP, code string) error {
	secret, err := s.openSecret(t)
	if err != nil {
		return err
	}
	step, ok := matchTOTP(secret, cleanCode(code), s.now())
	if !ok {
		if err := s.recordFailure(ctx, r, g); err != nil {
			return err
		}
		if err := s.audit(ctx, s.st.Q, r, "otp.failed", "", g.uid, t.ID); err != nil {
			return err
		}
		return api.NewProblem(api.CodeOTPInvalid, "The one-time code is wrong. Enter the current 6-digit code from your authenticator app.")
	}
	if err := s.st.UseTOTPStep(ctx, t.ID, step); errors.Is(err, store.ErrConflict) {
		return api.NewProblem(api.CodeOTPReplayed, "This code was already used. Wait for the next code in your authenticator app.")
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Server) handleTOTPStart(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	if err := noBody(r); err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.st.ActiveTOTP(ctx, a.acct.ID); err == nil {
		return api.NewProblem(api.CodeTOTPAlreadyEnrolled, "An authenticator app is already registered for this account.")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: a.acct.UserID, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return err
	}
	now := s.now()
	id := newID("otp")
	t := store.TOTP{ID: id, AccountID: a.acct.ID, Status: store.TOTPPending, SecretEnc: s.sealSecret(id, key.Secret()),
		CreatedAt: now, ExpiresAt: now.Add(enrollmentTTL)}
	if err := s.st.CreateTOTP(ctx, t); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.TOTPEnrollment{EnrollmentID: id, OTPAuthURI: key.URL(), SecretBase32: key.Secret(),
		Issuer: totpIssuer, AccountName: a.acct.UserID, Digits: totpDigits, Period: totpPeriod, Algorithm: "SHA1", ExpiresAt: t.ExpiresAt})
}

func (s *Server) handleTOTPVerify(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	var req api.CodeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	t, err := s.st.TOTPByID(ctx, a.acct.ID, r.PathValue("enrollment"))
	if errors.Is(err, store.ErrNotFound) {
		return api.NewProblem(api.CodeNotFound, "There is no such authenticator registration. Start the registration again.")
	}
	if err != nil {
		return err
	}
	if t.Status == store.TOTPActive {
		return api.NewProblem(api.CodeTOTPAlreadyEnrolled, "This authenticator app is already registered.")
	}
	if !s.now().Before(t.ExpiresAt) {
		return api.NewProblem(api.CodeEnrollmentExpired, "The registration expired (10 minutes). Start it again and scan the new QR code.")
	}
	key := "totp:" + a.acct.ID
	if err := s.check(ctx, keyGuard(key)); err != nil {
		return err
	}
	secret, err := s.openSecret(t)
	if err != nil {
		return err
	}
	step, ok := matchTOTP(secret, cleanCode(req.Code), s.now())
	if !ok {
		if err := s.recordFailure(ctx, r, keyGuard(key)); err != nil {
			return err
		}
		return api.NewProblem(api.CodeOTPInvalid,
			"The code is wrong. Check that the clock of your phone is right and enter the current 6-digit code.")
	}
	err = s.st.Tx(ctx, func(q store.Q) error {
		if _, err := q.ActiveTOTP(ctx, a.acct.ID); err == nil {
			return api.NewProblem(api.CodeTOTPAlreadyEnrolled, "An authenticator app is already registered for this account.")
		}
		if err := q.ActivateTOTP(ctx, t.ID, step); err != nil {
			return err
		}
		if err := q.ClearThrottle(ctx, key); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "otp.enrolled", a.acct.UserID, t.ID, "")
	})
	if errors.Is(err, store.ErrNotFound) {
		return api.NewProblem(api.CodeTOTPAlreadyEnrolled, "This authenticator app is already registered.")
	}
	if err != nil {
		return err
	}
	if err := s.outbox.Send(ctx, mail.Message{To: a.acct.Email, Subject: "Authenticator app registered",
		Body: "Hello " + a.acct.DisplayName() + ",\n\nAn authenticator app was registered for " + a.acct.UserID +
			". From now on, logging in asks for its 6-digit code.\nIf this was not you, contact your organisation administrator at once.\n",
		Template: "otp_registered", Date: s.now()}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.TOTPCredential{CredentialID: t.ID, Status: store.TOTPActive, CreatedAt: t.CreatedAt})
}
