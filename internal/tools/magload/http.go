package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// caller is one simulated desktop client: its own TLS connection pool to magd, as each
// MAG Desktop instance has, speaking the JSON API with the api package's types.
type caller struct {
	base string
	c    *http.Client
	tr   *http.Transport
}

func newCaller(base string, roots *x509.CertPool) *caller {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
	}
	return &caller{base: base, tr: tr, c: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *caller) close() { c.tr.CloseIdleConnections() }

// callError is a failed call, classified by the code the load report counts it under: the
// problem's code, HTTP_<status> for an answer that is not problem+json, or NETWORK.
type callError struct {
	Code    string
	Problem *api.Problem
	Err     error
}

func (e *callError) Error() string {
	switch {
	case e.Problem != nil:
		return fmt.Sprintf("%s: %s", e.Code, e.Problem.Detail)
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Code, e.Err)
	}
	return e.Code
}

func (e *callError) Unwrap() error { return e.Err }

// errorCode is how err is counted in the report.
func errorCode(err error) string {
	var ce *callError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return "OTHER"
}

// do sends one request (a JSON body when body is not nil, the bearer token when not empty) and
// decodes a 2xx answer into out.
func (c *caller) do(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		code := "NETWORK"
		if ctx.Err() != nil {
			code = "CANCELLED"
		}
		return &callError{Code: code, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &callError{Code: "NETWORK", Err: err}
	}
	if resp.StatusCode >= 300 {
		var p api.Problem
		if resp.Header.Get("Content-Type") != api.ProblemContentType || json.Unmarshal(data, &p) != nil || p.Code == "" {
			return &callError{Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Err: fmt.Errorf("%s %s: %.200s", method, path, data)}
		}
		return &callError{Code: string(p.Code), Problem: &p}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return &callError{Code: "BAD_ANSWER", Err: fmt.Errorf("%s %s: %w", method, path, err)}
		}
	}
	return nil
}

// backPressure reports whether err is the server's documented "slow down" (SERVER_BUSY,
// RATE_LIMITED) and how long it asked to wait.
func backPressure(err error) (time.Duration, bool) {
	var ce *callError
	if !errors.As(err, &ce) || ce.Problem == nil {
		return 0, false
	}
	switch ce.Problem.Code {
	case api.CodeServerBusy, api.CodeRateLimited:
		return time.Duration(max(ce.Problem.RetryAfter, 1)) * time.Second, true
	}
	return 0, false
}
