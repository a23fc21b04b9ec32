package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/mag-desktop/magdesk/api"
)

var errBodyTooLarge = resty.ErrResponseBodyTooLarge

// Retry pacing for idempotent calls.
const (
	backoffBase = 200 * time.Millisecond
	backoffMax  = 3 * time.Second
	// maxRetryAfter is the longest Retry-After the client waits out by itself; beyond it the
	// error goes to the user, who is told how long to wait.
	maxRetryAfter = 10 * time.Second
)

// call is one API request.
type call struct {
	op         string
	method     string
	path       string
	params     map[string]string
	query      map[string]string
	body       any
	out        any  // decoded from a 2xx JSON body; nil ignores the body
	auth       bool // needs the session token
	idempotent bool
	noExpected bool // do not send Expected-User-Id (revoking a token of unknown owner)
	token      string
	timeout    time.Duration // this call's per-attempt timeout instead of the client's (a long-poll)
}

// do runs c with a timeout per attempt, retrying idempotent calls on network errors and
// 429/503. Non-idempotent calls are sent once: a lost answer to a POST is reported, not
// repeated blindly.
func (c *Client) do(ctx context.Context, cl call) error {
	userID, token := c.session()
	if cl.token != "" {
		token = cl.token
	}
	if cl.auth && token == "" {
		return &Error{Kind: KindProblem, Op: cl.op, Server: c.server.Host, Status: http.StatusUnauthorized,
			Problem: api.NewProblem(api.CodeUnauthenticated, "no session: log in first"), ExpectedUser: userID}
	}
	attempts := 1
	if cl.idempotent {
		attempts += c.retries
	}
	var last *Error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			delay := backoff(i)
			if ra := retryAfter(last); ra > 0 {
				delay = ra
			}
			if delay > maxRetryAfter {
				break
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return classifyTransport(ctx, cl.op, c.server.Host, ctx.Err())
			case <-t.C:
			}
		}
		last = c.once(ctx, cl, userID, token)
		if last == nil {
			return nil
		}
		if !retryable(last) {
			break
		}
	}
	return last
}

func backoff(attempt int) time.Duration {
	d := backoffBase << (attempt - 1)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	// Full jitter in [d/2, d): several clients retrying after an outage do not move in step.
	return d/2 + rand.N(d/2)
}

func retryable(e *Error) bool {
	switch e.Kind {
	case KindOffline:
		return true
	case KindProblem, KindServer:
		return e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests
	}
	return false
}

// retryAfter is the server's requested wait for a retryable error, 0 if none.
func retryAfter(e *Error) time.Duration {
	if e == nil {
		return 0
	}
	if e.Problem != nil && e.Problem.RetryAfter > 0 {
		return seconds(e.Problem.RetryAfter)
	}
	return seconds(e.retryAfter)
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, cl call, userID, token string) *Error {
	timeout := c.timeout
	if cl.timeout > 0 {
		timeout = cl.timeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := c.rc.R().SetContext(actx).SetDoNotParseResponse(false)
	if cl.params != nil {
		req.SetPathParams(cl.params)
	}
	if cl.query != nil {
		req.SetQueryParams(cl.query)
	}
	if cl.body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(cl.body)
	}
	if cl.auth {
		req.SetAuthToken(token)
	}
	if userID != "" && !cl.noExpected {
		req.SetHeader(api.HeaderExpectedUserID, userID)
	}
	start := time.Now()
	resp, err := req.Execute(cl.method, cl.path)
	if err != nil {
		e := classifyTransport(ctx, cl.op, c.server.Host, err)
		if e.Kind == KindUntrustedServer {
			c.refineTLS(e)
		}
		c.log.Debug("api call failed", "op", cl.op, "method", cl.method, "path", cl.path,
			"kind", e.Kind.String(), "ms", time.Since(start).Milliseconds())
		return e
	}
	c.log.Debug("api call", "op", cl.op, "method", cl.method, "path", cl.path, "status", resp.StatusCode(),
		"request_id", resp.Header().Get(api.HeaderRequestID), "ms", time.Since(start).Milliseconds())
	return c.interpret(cl.op, userID, resp.StatusCode(), resp.Header(), resp.Body(), cl.out)
}

// interpret turns an HTTP answer into nil (decoded into out) or an *Error. Anything that is
// not JSON where JSON was due, or not a problem+json with a code on an error status, is a
// server error: HTML from a proxy, a bare 500, garbage.
func (c *Client) interpret(op, userID string, status int, h http.Header, body []byte, out any) *Error {
	ct := h.Get("Content-Type")
	e := &Error{Op: op, Server: c.server.Host, Status: status, ExpectedUser: userID}
	e.ClockSkew, _ = c.ClockSkew()
	if status >= 200 && status < 300 {
		switch {
		case out == nil || status == http.StatusNoContent:
			return nil
		case !isJSON(ct):
			e.Kind, e.Err = KindServer, fmt.Errorf("expected JSON, got %s", describeBody(ct, body))
			return e
		}
		if err := json.Unmarshal(body, out); err != nil {
			e.Kind, e.Err = KindServer, fmt.Errorf("the answer is not valid JSON: %w", err)
			return e
		}
		return nil
	}
	var p api.Problem
	if isJSON(ct) && json.Unmarshal(body, &p) == nil && p.Code != "" {
		if p.Status == 0 {
			p.Status = status
		}
		if p.RetryAfter <= 0 {
			p.RetryAfter = parseRetryAfter(h.Get("Retry-After"))
		}
		e.Kind, e.Problem = KindProblem, &p
		if p.Code == api.CodeSessionAccountMismatch {
			e.Kind = KindAccountMismatch
		}
		return e
	}
	e.Kind = KindServer
	e.Err = fmt.Errorf("HTTP %d with %s", status, describeBody(ct, body))
	e.retryAfter = parseRetryAfter(h.Get("Retry-After"))
	return e
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || mt == api.ProblemContentType)
}

// describeBody says what came back without echoing much of it (it may be a login page).
func describeBody(ct string, body []byte) string {
	trim := bytes.TrimSpace(body)
	switch {
	case len(trim) == 0:
		return "an empty body"
	case bytes.HasPrefix(bytes.ToLower(trim), []byte("<!doctype html")) || bytes.HasPrefix(bytes.ToLower(trim), []byte("<html")):
		return "an HTML page"
	case ct == "":
		return fmt.Sprintf("%d bytes of unlabelled data", len(body))
	default:
		mt, _, _ := mime.ParseMediaType(ct)
		if mt == "" {
			mt = "unknown"
		}
		return fmt.Sprintf("%d bytes of %s", len(body), mt)
	}
}

// seconds converts a server-given wait, within [0, one day] so that no value overflows.
func seconds(n int) time.Duration {
	const day = 24 * 60 * 60
	n = min(max(n, 0), day)
	return time.Duration(n) * time.Second
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string) int {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return n
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return int((d + time.Second - 1) / time.Second)
		}
	}
	return 0
}
