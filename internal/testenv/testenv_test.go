package testenv

import "testing"

func TestNeedToolFindsAnInstalledProgram(t *testing.T) {
	if p := NeedTool(t, "go"); p == "" {
		t.Fatal("NeedTool returned an empty path for go")
	}
}

func TestRequiredFollowsTheEnvironment(t *testing.T) {
	for _, c := range []struct {
		val  string
		want bool
	}{{"1", true}, {"", false}, {"0", false}} {
		t.Setenv("MAGDESK_REQUIRE_TOOLS", c.val)
		if got := Required(); got != c.want {
			t.Errorf("MAGDESK_REQUIRE_TOOLS=%q: Required() = %v, want %v", c.val, got, c.want)
		}
	}
}
