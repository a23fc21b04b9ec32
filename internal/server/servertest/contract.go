package servertest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/mag-desktop/magdesk/api"
)

var contract = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, err
	}
	// Match paths on whatever loopback port the test server got.
	doc.Servers = nil
	closeObjects(doc)
	return legacy.NewRouter(doc)
})

// closeObjects makes every object schema with named properties refuse other properties, unless
// it says otherwise: a field the server sends must be in the document, so that the contract
// cannot fall behind the code.
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(*openapi3.SchemaRef)
	visit = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			visit(p)
		}
		visit(s.Items)
		visit(s.AdditionalProperties.Schema)
		for _, l := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range l {
				visit(r)
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		visit(s)
	}
	for _, r := range doc.Components.Responses {
		for _, mt := range r.Value.Content {
			visit(mt.Schema)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						visit(mt.Schema)
					}
				}
			}
		}
	}
}

// CheckContract wraps a transport so that every answer to a request for an operation of
// api/openapi.yaml is validated against the document (status, headers, body); a mismatch fails
// t. Answers to paths or methods the document does not describe (HTML pages, probes) are not
// checked. Env.Client already uses it; wrap any other client of a test server with it.
func CheckContract(t testing.TB, next http.RoundTripper) http.RoundTripper {
	router, err := contract()
	if err != nil {
		t.Fatalf("servertest: api/openapi.yaml: %v", err)
	}
	return contractChecker{t: t, next: next, router: router}
}

type contractChecker struct {
	t      testing.TB
	next   http.RoundTripper
	router routers.Router
}

func (c contractChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, nil // the caller sees the short body and reports it
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()}}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("servertest: %s %s answered %d, which api/openapi.yaml does not allow: %v\nbody: %.600s",
			req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}
