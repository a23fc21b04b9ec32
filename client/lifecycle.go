package client

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// RenewCertificate asks for a successor of certificate id from a CSR for a new key (PEM). The
// old certificate stays valid until the new one is used to log in.
func (c *Client) RenewCertificate(ctx context.Context, id, csrPEM, label string) (*api.Certificate, error) {
	var out api.Certificate
	err := c.do(ctx, call{op: "renew certificate", method: http.MethodPost, path: api.PathCertificateRenewal,
		params: map[string]string{"id": id}, body: api.RenewalRequest{CSRPEM: csrPEM, Label: label}, out: &out, auth: true})
	return ret(&out, err)
}

// RevokeCertificate revokes a certificate issued to this account.
func (c *Client) RevokeCertificate(ctx context.Context, id string) (*api.Certificate, error) {
	var out api.Certificate
	err := c.do(ctx, call{op: "revoke certificate", method: http.MethodDelete, path: api.PathCertificate,
		params: map[string]string{"id": id}, out: &out, auth: true, idempotent: true})
	return ret(&out, err)
}

// Events reads the account's events feed after cursor ("" for the newest cursor and no
// events), waiting up to wait on the server while nothing has happened. It is retried like any
// read; the wait is added to this call's timeout.
func (c *Client) Events(ctx context.Context, cursor string, wait time.Duration) (*api.EventPage, error) {
	var out api.EventPage
	q := map[string]string{}
	if cursor != "" {
		q["after"] = cursor
	}
	secs := int(wait / time.Second)
	if secs > 0 {
		q["wait"] = strconv.Itoa(min(secs, api.EventsMaxWait))
	}
	err := c.do(ctx, call{op: "events", method: http.MethodGet, path: api.PathEvents, query: q, out: &out,
		auth: true, idempotent: true, timeout: c.timeout + time.Duration(secs)*time.Second})
	return ret(&out, err)
}
