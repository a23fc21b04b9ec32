// Package testenv is what tests need from the machine they run on: an external tool, or a
// service that scripts/test.sh started. Outside scripts/test.sh a missing tool skips the test,
// so `go test ./pkg` works on a bare machine; under scripts/test.sh (MAGDESK_REQUIRE_TOOLS=1) it
// fails it, so a missing install step cannot turn into a silently skipped suite.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing tools and services fail tests instead of skipping them.
func Required() bool { return os.Getenv("MAGDESK_REQUIRE_TOOLS") == "1" }

// NeedTool returns the path of the named program, or skips (fails under scripts/test.sh)
// when it is not installed.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed (scripts/deps.sh installs it)")
	}
	return p
}

// Missing skips the test with why, or fails it under scripts/test.sh.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatal(why)
	}
	t.Skip(why)
}
