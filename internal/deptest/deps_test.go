// Package deptest holds the dependency rules of the tree: which layer may not reach which
// (go list -deps, for every OS the app ships on). It has tests only.
package deptest

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mag-desktop/magdesk/internal/testenv"
)

const module = "github.com/mag-desktop/magdesk"

// rule says that no package matching pkgs may depend, directly or not, on a package whose
// import path is one of forbid or below it.
type rule struct {
	pkgs   string
	forbid []string
	why    string
}

var (
	fyne   = []string{"fyne.io/fyne/v2"}
	server = []string{module + "/internal/server"}
	// SQLite is not among them: certstore reads the browsers' NSS databases with it.
	backend = []string{module + "/internal/server", "github.com/jackc/pgx/v5"}
)

var rules = []rule{
	{module + "/app/...", backend, "the window talks to a gateway over the network, never to a server or its store in-process"},
	{module + "/internal/service/...", append(slices.Clone(fyne), server...), "the service is under both front ends: no widgets, no server"},
	{module + "/client/...", append(slices.Clone(fyne), server...), "the client is the network side of both front ends"},
	{module + "/certstore/...", append(slices.Clone(fyne), server...), "the certificate stores are used by both front ends"},
	{module + "/internal/cli/...", fyne, "the command line runs where no window can open"},
}

// targets are the systems the app ships on; per-OS files differ in what they import.
var targets = []string{"linux", "windows", "darwin"}

// deps is `go list -deps` of pattern for goos, cached for the run.
var deps = struct {
	sync.Mutex
	m map[string][]string
}{m: map[string][]string{}}

func listDeps(t *testing.T, goos, pattern string) []string {
	t.Helper()
	key := goos + " " + pattern
	deps.Lock()
	got, ok := deps.m[key]
	deps.Unlock()
	if ok {
		return got
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pattern)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("GOOS=%s go list -deps %s: %v\n%s", goos, pattern, err, msg)
	}
	got = strings.Fields(string(out))
	deps.Lock()
	deps.m[key] = got
	deps.Unlock()
	return got
}

// violations are the dependencies of r's packages that r forbids, on goos.
func violations(t *testing.T, r rule, goos string) []string {
	var bad []string
	for _, d := range listDeps(t, goos, r.pkgs) {
		for _, f := range r.forbid {
			if d == f || strings.HasPrefix(d, f+"/") {
				bad = append(bad, d)
			}
		}
	}
	return bad
}

func TestDependencyRules(t *testing.T) {
	testenv.NeedTool(t, "go")
	for _, goos := range targets {
		for _, r := range rules {
			t.Run(goos+"/"+strings.TrimPrefix(r.pkgs, module+"/"), func(t *testing.T) {
				if bad := violations(t, r, goos); len(bad) > 0 {
					t.Errorf("%s depends on %v on %s; not allowed: %s", r.pkgs, bad, goos, r.why)
				}
			})
		}
	}
}

// The check finds a broken rule: these rules are broken by the tree on purpose, and each must
// be reported.
func TestDependencyRulesDetectViolations(t *testing.T) {
	testenv.NeedTool(t, "go")
	broken := []rule{
		{module + "/cmd/magdesk", fyne, "the GUI binary shows a window"},
		{module + "/cmd/magd", server, "the server binary is the server"},
		{module + "/internal/cli/...", []string{module + "/internal/service"}, "the CLI goes through the service"},
		{module + "/app/...", []string{module + "/client"}, "the window reaches the client through the service"},
	}
	for _, r := range broken {
		t.Run(strings.TrimPrefix(r.pkgs, module+"/"), func(t *testing.T) {
			if len(violations(t, r, "linux")) == 0 {
				t.Errorf("a rule %s does not hold was not reported (forbid %v)", r.pkgs, r.forbid)
			}
		})
	}
}

// Every package a rule names exists in the build of some binary, so a rule never goes
// vacuous when a package is renamed or moved.
func TestForbiddenPackagesExist(t *testing.T) {
	testenv.NeedTool(t, "go")
	all := listDeps(t, "linux", module+"/...")
	for _, r := range rules {
		for _, f := range r.forbid {
			if !slices.ContainsFunc(all, func(d string) bool { return d == f || strings.HasPrefix(d, f+"/") }) {
				t.Errorf("rule for %s forbids %s, which nothing in the tree uses any more: update the rule", r.pkgs, f)
			}
		}
		if len(listDeps(t, "linux", r.pkgs)) == 0 {
			t.Errorf("rule for %s matches no package", r.pkgs)
		}
	}
}
