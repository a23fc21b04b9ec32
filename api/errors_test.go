package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestCatalogue(t *testing.T) {
	for code, info := range Catalogue {
		if info.Status < 400 || info.Status > 599 {
			t.Errorf("%s: status %d is not an error status", code, info.Status)
		}
		if info.Title == "" {
			t.Errorf("%s: no title", code)
		}
	}
	if Catalogue[CodeCertWrongAccount].MagCode != 2035 {
		t.Errorf("CERT_WRONG_ACCOUNT must carry mag_code 2035")
	}
}

func TestProblemRoundTripAndMatch(t *testing.T) {
	tests := []struct {
		code    Code
		status  int
		magCode int
	}{
		{CodeCertWrongAccount, 403, 2035},
		{CodeAccountLocked, 423, 0},
		{CodeInvalidCredentials, 401, 0},
		{Code("NO_SUCH_CODE"), 500, 0},
	}
	for _, tc := range tests {
		p := NewProblem(tc.code, "detail")
		if p.Status != tc.status || p.MagCode != tc.magCode {
			t.Errorf("%s: got status %d mag %d", tc.code, p.Status, p.MagCode)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Problem
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		wrapped := fmt.Errorf("login: %w", &back)
		if !errors.Is(wrapped, &Problem{Code: tc.code}) {
			t.Errorf("%s: errors.Is does not match by code", tc.code)
		}
		if errors.Is(wrapped, &Problem{Code: CodeNotFound}) && tc.code != CodeNotFound {
			t.Errorf("%s: matched a different code", tc.code)
		}
	}
}
