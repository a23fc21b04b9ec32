package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// Account self-service (recovery of the activation link, the user id, the password). Every answer is the same whether or not the user id or email
// exists: same status, same shape, and — by padding each answer to a fixed minimum duration —
// the same timing. Security answers are only ever a second proof beside the emailed code.

// A recovery is its own proof (the emailed code), so the login throttling never blocks it; its
// guessing is bounded instead by its attempts, by one live recovery per user id (a new one ends
// the old) and by recoveryPerHour starts per user id, counted alike for unknown ones.
const (
	recoveryTTL         = 15 * time.Minute
	recoveryMaxAttempts = 5
	recoveryPerHour     = 3
	recoveryQuestions   = 2
	recoveryAccepted    = "If the details match an account, an email is on its way. Check your inbox (and spam folder) in a few minutes."
)

// padded runs fn and then waits until at least the configured minimum has passed, so that the
// work done for an existing account (database writes, an email) cannot be timed.
func (s *Server) padded(fn handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		start := time.Now()
		err := fn(w, r)
		if wait := s.cfg.RecoveryMinDuration - time.Since(start); wait > 0 {
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
			}
		}
		return err
	}
}

// limitKey applies the per-user-id / per-email budget of the recovery endpoints.
func (s *Server) limitKey(key string) error {
	if ok, wait := s.keyLimiter.allow(key, time.Now()); !ok {
		p := api.NewProblem(api.CodeRateLimited, "Too many recovery attempts for this account. Wait a few minutes and try again.")
		p.RetryAfter = max(1, int(wait.Seconds()+0.999))
		return p
	}
	return nil
}

func (s *Server) accepted(w http.ResponseWriter) error {
	return writeJSON(w, http.StatusAccepted, api.RecoveryAccepted{Message: recoveryAccepted})
}

func (s *Server) handleRecoveryActivation(w http.ResponseWriter, r *http.Request) error {
	var req api.RecoveryActivationRequest
	if err := s.decodeLimited(r, &req, "recovery"); err != nil {
		return err
	}
	uid := normUserID(req.UserID)
	var missing []api.FieldError
	if uid == "" {
		missing = append(missing, api.FieldError{Field: "user_id", Code: api.CodeValidationFailed, Message: "required"})
	}
	if !strings.Contains(req.Email, "@") || len(req.Email) > 254 {
		missing = append(missing, api.FieldError{Field: "email", Code: api.CodeValidationFailed, Message: "an email address is required"})
	}
	if len(missing) > 0 {
		return invalid("Enter your user ID and the email address the activation email was sent to.", missing...)
	}
	if err := s.limitKey("uid:" + uid); err != nil {
		return err
	}
	ctx := r.Context()
	acct, err := s.st.AccountByUserID(ctx, uid)
	match := err == nil && acct.Status == store.AccountPending && strings.EqualFold(strings.TrimSpace(req.Email), acct.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.audit(ctx, s.st.Q, r, "recovery.activation", "", uid, fmt.Sprintf("match=%t", match)); err != nil {
		return err
	}
	if match {
		if _, err := s.issueActivation(ctx, acct, "self-service"); err != nil {
			return err
		}
	}
	return s.accepted(w)
}

func (s *Server) handleRecoveryUserIDs(w http.ResponseWriter, r *http.Request) error {
	var req api.RecoveryUserIDsRequest
	if err := s.decodeLimited(r, &req, "recovery"); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if len(email) > 254 || !strings.Contains(email, "@") {
		return invalid("Enter the email address your accounts are registered to.", api.FieldError{Field: "email", Code: api.CodeValidationFailed, Message: "not an email address"})
	}
	if err := s.limitKey("email:" + email); err != nil {
		return err
	}
	ctx := r.Context()
	accts, err := s.st.AccountsByEmail(ctx, email)
	if err != nil {
		return err
	}
	if err := s.audit(ctx, s.st.Q, r, "recovery.user_ids", "", email, fmt.Sprintf("accounts=%d", len(accts))); err != nil {
		return err
	}
	if len(accts) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "Hello %s,\n\nThese MAG user IDs are registered to %s:\n\n", accts[0].DisplayName(), accts[0].Email)
		for _, a := range accts {
			state := "active"
			if a.Status == store.AccountPending {
				state = "not activated yet — use \"Link doesn't work?\" in MAG Desktop"
			}
			fmt.Fprintf(&b, "  %-20s organisation %s (%s)\n", a.UserID, a.OrgName, state)
		}
		b.WriteString("\nLog in to MAG Desktop with the user ID of the account you want to use.\nIf you did not ask for this, you can ignore this email.\n")
		if err := s.outbox.Send(ctx, mail.Message{To: accts[0].Email, Subject: "Your MAG user IDs", Body: b.String(),
			Template: "recovery_user_ids", Date: s.now()}); err != nil {
			return err
		}
	}
	return s.accepted(w)
}

// recoveryPick chooses the questions for a user id, the same on every call: from the account's
// answered questions, or from the catalogue for an unknown id (decoys).
func (s *Server) recoveryPick(uid string, answered []string) []string {
	if !s.cfg.SecurityQuestions {
		return nil
	}
	pool := answered
	if pool == nil {
		for _, q := range securityQuestions {
			pool = append(pool, q.ID)
		}
	}
	if len(pool) < recoveryQuestions {
		return nil
	}
	slices.Sort(pool)
	h := hmac.New(sha256.New, subKey(s.secret, "recovery-questions"))
	h.Write([]byte(uid))
	sum := h.Sum(nil)
	first := int(sum[0]) % len(pool)
	second := (first + 1 + int(sum[1])%(len(pool)-1)) % len(pool)
	return []string{pool[first], pool[second]}
}

func (s *Server) codeHash(code string) string {
	h := hmac.New(sha256.New, subKey(s.secret, "recovery-code"))
	h.Write([]byte(code))
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) handleRecoveryStart(w http.ResponseWriter, r *http.Request) error {
	var req api.PasswordRecoveryStartRequest
	if err := s.decodeLimited(r, &req, "recovery"); err != nil {
		return err
	}
	uid := normUserID(req.UserID)
	if uid == "" {
		return invalid("Enter your user ID.", api.FieldError{Field: "user_id", Code: api.CodeValidationFailed, Message: "required"})
	}
	if err := s.limitKey("uid:" + uid); err != nil {
		return err
	}
	ctx := r.Context()
	now := s.now()
	if n, err := s.st.RecoveriesSince(ctx, userKey(uid), now.Add(-time.Hour)); err != nil {
		return err
	} else if n >= recoveryPerHour {
		p := api.NewProblem(api.CodeRateLimited, fmt.Sprintf(
			"A password reset was asked for this user ID %d times in the last hour. Use the code in the newest email, or try again in an hour.", n))
		p.RetryAfter = int(time.Hour.Seconds())
		return p
	}
	acct, err := s.st.AccountByUserID(ctx, uid)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	known := err == nil && acct.Status == store.AccountActive
	var answered []string // nil: decoys from the catalogue
	if known {
		ans, err := s.st.SecurityAnswers(ctx, acct.ID)
		if err != nil {
			return err
		}
		// An account activated while questions were off has no answers: it gets decoys like
		// an unknown id, so that the answer's shape does not tell it apart, and the emailed
		// code alone proves it (as on a server without questions; checkRecoveryProof).
		if len(ans) >= recoveryQuestions {
			for id := range ans {
				answered = append(answered, id)
			}
		}
	}
	qs := s.recoveryPick(uid, answered)
	n, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
	code := fmt.Sprintf("%08d", n.Int64())
	rec := store.Recovery{ID: newID("rec"), UserKey: userKey(uid), CodeHash: s.codeHash(code), Questions: strings.Join(qs, " "),
		CreatedAt: now, ExpiresAt: now.Add(recoveryTTL)}
	if known {
		rec.AccountID = acct.ID
	}
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.CreateRecovery(ctx, rec); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "recovery.password_start", "", uid, fmt.Sprintf("known=%t", known))
	})
	if err != nil {
		return err
	}
	if known {
		body := fmt.Sprintf("Hello %s,\n\nSomeone asked to reset the password of MAG user ID %s.\n\nYour one-time code: %s\n\n"+
			"It works once, for 15 minutes, and replaces any code sent before. If this was not you, ignore this email: your password stays as it is.\n",
			acct.DisplayName(), acct.UserID, code)
		if len(qs) > 0 && answered == nil {
			// Only the owner reads this; the API answer must not say it.
			body += "\nYour account has no security answers on file, so this code alone is enough: " +
				"leave the security questions you are asked empty.\n"
		}
		if err := s.outbox.Send(ctx, mail.Message{To: acct.Email, Subject: "Your MAG password reset code", Body: body,
			Template: "recovery_code", Date: now}); err != nil {
			return err
		}
	}
	out := api.PasswordRecovery{RecoveryID: rec.ID, Questions: []api.SecurityQuestion{}, ExpiresAt: rec.ExpiresAt}
	for _, id := range qs {
		text, _ := questionText(id)
		out.Questions = append(out.Questions, api.SecurityQuestion{ID: id, Text: text})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRecoveryComplete(w http.ResponseWriter, r *http.Request) error {
	var req api.PasswordRecoveryCompleteRequest
	if err := s.decodeLimited(r, &req, "recovery"); err != nil {
		return err
	}
	ctx := r.Context()
	failed := api.NewProblem(api.CodeRecoveryInvalid,
		"The code or the answers are wrong, or this recovery has expired. Check the newest email, or start again.")
	if len(req.RecoveryID) > 64 {
		return failed
	}
	rec, err := s.st.RecoveryByID(ctx, req.RecoveryID)
	if errors.Is(err, store.ErrNotFound) {
		return failed
	}
	if err != nil {
		return err
	}
	if !rec.ConsumedAt.IsZero() || !s.now().Before(rec.ExpiresAt) || rec.Attempts > recoveryMaxAttempts {
		return failed
	}
	if req.Password != req.PasswordConfirm {
		return api.NewProblem(api.CodePasswordMismatch, "The two passwords are not the same. Type the same password in both fields.")
	}
	// The general policy first (it says nothing about the account), the account's own words
	// only once the proof holds, so that no answer differs between a real and a decoy recovery.
	if err := s.policy.Check(req.Password); err != nil {
		return err
	}
	ok, err := s.checkRecoveryProof(ctx, rec, req)
	if err != nil {
		return err
	}
	if !ok || rec.AccountID == "" {
		if err := s.audit(ctx, s.st.Q, r, "recovery.password_failed", "", rec.UserKey, rec.ID); err != nil {
			return err
		}
		return failed
	}
	acct, err := s.st.AccountByID(ctx, rec.AccountID)
	if err != nil {
		return err
	}
	if err := s.policy.Check(req.Password, acct.UserID, acct.FirstName, acct.LastName, acct.OrgName, emailLocal(acct.Email)); err != nil {
		return err
	}
	phc, err := s.hash(ctx, req.Password)
	if err != nil {
		return err
	}
	now := s.now()
	var ended int64
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.ConsumeRecovery(ctx, rec.ID, now); err != nil {
			return err
		}
		if err := q.SetPassword(ctx, acct.ID, phc); err != nil {
			return err
		}
		var err error
		if ended, err = q.RevokeAccountSessions(ctx, acct.ID, now); err != nil {
			return err
		}
		if err := s.clearGuard(ctx, q, r, acct.UserID, ""); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "recovery.password_changed", acct.UserID, acct.UserID, fmt.Sprintf("sessions_ended=%d", ended))
	})
	s.sessions.dropAccount(acct.ID)
	if errors.Is(err, store.ErrNotFound) {
		return failed
	}
	if err != nil {
		return err
	}
	if err := s.outbox.Send(ctx, mail.Message{To: acct.Email, Subject: "Your MAG password was changed",
		Body: "Hello " + acct.DisplayName() + ",\n\nThe password of " + acct.UserID + " was changed with a recovery code, and every session was ended.\n" +
			"If this was not you, contact your organisation administrator at once.\n",
		Template: "password_changed", Date: now}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ActivationCompleteResponse{UserID: acct.UserID, Status: store.AccountActive, Next: "login"})
}

// checkRecoveryProof checks the emailed code and the answers; a decoy recovery does the same
// hashing work against the dummy hash, so it takes as long and never succeeds. A question the
// account never answered is a decoy too (the account was activated while questions were off):
// its answer is hashed alike and ignored, and the code is the proof.
func (s *Server) checkRecoveryProof(ctx context.Context, rec store.Recovery, req api.PasswordRecoveryCompleteRequest) (bool, error) {
	ok := hmac.Equal([]byte(s.codeHash(strings.TrimSpace(req.Code))), []byte(rec.CodeHash))
	want := strings.Fields(rec.Questions)
	stored := map[string]string{}
	if rec.AccountID != "" {
		var err error
		if stored, err = s.st.SecurityAnswers(ctx, rec.AccountID); err != nil {
			return false, err
		}
	}
	if len(req.SecurityAnswers) != len(want) {
		ok = false
	}
	for i, id := range want {
		answer := ""
		if i < len(req.SecurityAnswers) {
			if req.SecurityAnswers[i].QuestionID != id {
				ok = false
			}
			answer = req.SecurityAnswers[i].Answer
		}
		phc, answered := stored[id]
		good, err := s.verify(ctx, phc, password.NormalizeAnswer(answer))
		if err != nil {
			return false, err
		}
		ok = ok && (good || rec.AccountID != "" && !answered)
	}
	return ok, nil
}
