// Package service is what the MAG Desktop window asks of the outside world: the Backend interface
// the Fyne screens (package app) are written against, the plain types it uses, and Service, its
// implementation over the client, certstore and config packages. No Fyne here.
package service

import (
	"context"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/setup"
)

// Backend is every operation a screen needs. Methods that take a context may block on the
// network, the keyring or a certificate store: the UI calls them off its goroutine.
type Backend interface {
	// Settings and connection.
	Settings() Settings
	SaveSettings(Settings) error
	CheckServer(ctx context.Context) (api.Meta, error)

	// First-time setup: package setup decides the steps, these keep them (file and keyring).
	SetupProgress(ctx context.Context) (setup.State, error)
	SetupBegin(ctx context.Context, token string, info setup.Info) (setup.State, error)
	SetupStep(ctx context.Context, t setup.Transition) (setup.State, error)
	SetupResume(ctx context.Context) (token string, err error)
	SetupDone(ctx context.Context) error
	SetupAbandon(ctx context.Context) error
	ParseActivationLink(s string) (token string, err error)
	InspectActivation(ctx context.Context, token string) (api.ActivationInfo, error)
	SecurityQuestions(ctx context.Context) ([]api.SecurityQuestion, error)
	CompleteActivation(ctx context.Context, req api.ActivationCompleteRequest) (api.ActivationCompleteResponse, error)

	// Login. The certificate is chosen automatically for the user unless the request names one
	// (or none).
	RememberedUserID() string
	Login(ctx context.Context, req LoginRequest) (api.Me, error)
	LoginMFA(ctx context.Context, ticket, otp string) (api.Me, error)
	// ResumeSession continues the current account's cached session (ErrNoCachedSession if none).
	ResumeSession(ctx context.Context) (api.Me, error)
	// SwitchSession continues another account's cached session on this server.
	SwitchSession(ctx context.Context, userID string) (api.Me, error)
	Logout(ctx context.Context) (LogoutReport, error)
	Me(ctx context.Context) (api.Me, error)

	// Home, terms and access requests.
	Applications(ctx context.Context) ([]api.Application, error)
	RequestAccess(ctx context.Context, appID string) (api.AccessRequest, error)
	Launch(ctx context.Context, appID string) (api.LaunchResponse, error)
	Terms(ctx context.Context, orgID, appID string) (api.Terms, error)
	AcceptTerms(ctx context.Context, orgID, appID, termsVersionID string) (api.Acceptance, error)
	AccessRequests(ctx context.Context, orgID string) ([]api.AccessRequest, error)
	DecideAccess(ctx context.Context, orgID, requestID, decision, reason string) (api.AccessRequest, error)

	// One-time codes.
	StartTOTP(ctx context.Context) (api.TOTPEnrollment, error)
	VerifyTOTP(ctx context.Context, enrollmentID, code string) (api.TOTPCredential, error)

	// Certificates on this computer and the Error 2035 fix.
	Identities(ctx context.Context) ([]Identity, error)
	RequestCertificate(ctx context.Context) (Identity, error)
	ImportIdentity(ctx context.Context, path, password string) (Identity, error)
	ExportIdentity(ctx context.Context, sha256, path, password string) error
	RemoveIdentity(ctx context.Context, req RemoveRequest) (RemoveResult, error)
	ConnectIdentity(ctx context.Context, sha256, fromUserID, password, otp string) error

	// Cached sessions.
	CachedSessions(ctx context.Context) ([]CachedSession, error)
	ClearSessions(ctx context.Context) (ClearReport, error)

	// Account recovery.
	RecoverActivation(ctx context.Context, userID, email string) (api.RecoveryAccepted, error)
	RecoverUserIDs(ctx context.Context, email string) (api.RecoveryAccepted, error)
	StartPasswordRecovery(ctx context.Context, userID string) (api.PasswordRecovery, error)
	CompletePasswordRecovery(ctx context.Context, userID string, req api.PasswordRecoveryCompleteRequest) (api.RecoveryAccepted, error)

	// SupportBundle writes the help desk's zip (versions, settings, log tail, certificate
	// inventory; no secret) to path, which must not exist yet.
	SupportBundle(ctx context.Context, path string) error

	// Doctor checks the connection and the setup of this computer, and with app set explains
	// why that application can or cannot be opened. It never fails: problems are its lines.
	Doctor(ctx context.Context, app string) DoctorReport
	// ClockWarning says, before a one-time code is typed, when this computer's clock is too far
	// from the gateway's for codes to work; "" when it is fine or cannot be told.
	ClockWarning(ctx context.Context) string

	Versions() Versions
}

// Setting keys, config's own; Settings.Locked uses them.
const (
	KeyServerURL      = config.KeyServerURL
	KeyCABundle       = config.KeyCABundle
	KeyLogLevel       = config.KeyLogLevel
	KeyTheme          = config.KeyTheme
	KeyRememberUserID = config.KeyRememberUserID
)

// Settings is what the Settings screen edits.
type Settings struct {
	ServerURL      string
	CABundle       string // path of an extra CA bundle (PEM)
	Theme          string // "", "system", "light", "dark"
	LogLevel       string
	RememberUserID bool
	// Locked names the settings fixed by IT policy (keys above).
	Locked map[string]bool
	// Demo is set when the app runs against its embedded demo server.
	Demo bool
}

// LoginRequest is the first login step.
type LoginRequest struct {
	UserID, Password, OTP string
	// NoCertificate logs in without a client certificate (first-time setup; the seed page
	// tells users to press Cancel on the certificate prompt there).
	NoCertificate bool
	// CertSHA256 presents that certificate, from the first store that can give it.
	CertSHA256 string
}

// Certificate statuses: certstore's classes of an identity for the logged-in account.
const (
	CertBound        = string(certstore.ClassBound)
	CertWrongAccount = string(certstore.ClassWrongAccount)
	CertNotBound     = string(certstore.ClassNotBound)
	CertExpired      = string(certstore.ClassExpired)
	CertRevoked      = string(certstore.ClassRevoked)
	CertForeign      = string(certstore.ClassForeign)
)

// Identity is a certificate with its private key in one of the local stores.
type Identity struct {
	SHA256, Subject, Issuer, Serial string
	Store, Location                 string
	NotBefore, NotAfter             time.Time
	KeyAlgorithm                    string
	Status                          string
	// StatusText says in plain words what the status means for the user.
	StatusText string
	// Account is the user id this certificate is known to belong to, when known.
	Account    string
	Exportable bool
}

// RemoveRequest removes a certificate and its private key from every store holding it (or
// only from Store, its path or label); BackupPath empty means the user explicitly declined a
// backup.
type RemoveRequest struct {
	SHA256, BackupPath, BackupPassword string
	Store                              string
}

// RemoveResult proves what was done.
type RemoveResult struct {
	BackupPath string
	// Verified is true when every store was listed again and neither certificate nor key is left.
	Verified bool
	Message  string
	// Outcomes is what was done in each store.
	Outcomes []certstore.RemoveOutcome
}

// Versions for About.
type Versions struct {
	App, Go, Fyne, Server, API string
}
