package api

import "time"

// Event types of the events feed (GET /v1/me/events).
const (
	// EventAccessDecided: an administrator approved or denied an access request of this account.
	EventAccessDecided = "access_request.decided"
	// EventAppRequestable: the organisation administrator accepted an application's terms, so
	// users can now request access to it.
	EventAppRequestable = "application.requestable"
	// EventLogin: a new session of this account began (the client ignores its own SessionID).
	EventLogin = "login"
	// EventCertExpiring: a certificate of this account entered its renewal window.
	EventCertExpiring = "certificate.expiring"
	// EventCertRenewed: a renewed certificate was used to log in and its predecessor revoked.
	EventCertRenewed = "certificate.renewed"
	// EventCertRevoked: a certificate of this account was revoked.
	EventCertRevoked = "certificate.revoked"
)

// Long-poll bounds of the events feed, in seconds: the server holds a request with wait=N for
// up to N seconds (at most EventsMaxWait) while nothing new has happened.
const (
	EventsMaxWait     = 300
	EventsDefaultWait = 90
)

// Event is one change that concerns the account. Only the fields of its type are set.
type Event struct {
	// ID is this event's position in the account's feed; pass the last one seen as after=.
	ID   string    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`

	AppID   string `json:"app_id,omitempty"`
	AppName string `json:"app_name,omitempty"`
	// Status is approved or denied (EventAccessDecided).
	Status string `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`

	CertificateID string     `json:"certificate_id,omitempty"`
	CertSHA256    string     `json:"cert_sha256,omitempty"`
	NotAfter      *time.Time `json:"not_after,omitempty"`
	// Replaced is the revoked predecessor of CertificateID (EventCertRenewed).
	Replaced string `json:"replaced,omitempty"`

	SessionID  string   `json:"session_id,omitempty"`
	IP         string   `json:"ip,omitempty"`
	ClientName string   `json:"client_name,omitempty"`
	AMR        []string `json:"amr,omitempty"`
}

// EventPage is an answer of the events feed: the events after the cursor, oldest first, and
// the cursor to send next time (unchanged when nothing happened).
type EventPage struct {
	Events []Event `json:"events"`
	Cursor string  `json:"cursor"`
}

// RenewalRequest renews a certificate: a CSR for a new key made on the same computer.
type RenewalRequest struct {
	CSRPEM string `json:"csr_pem"`
	Label  string `json:"label,omitempty"`
}
