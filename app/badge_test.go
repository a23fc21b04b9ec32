package app

import (
	"testing"

	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

func TestBadgeLabel(t *testing.T) {
	cases := []struct {
		badges   map[string]badge
		status   string
		wantText string
		wantImp  widget.Importance
	}{
		{appBadges, api.StatusAccessGranted, "Ready", widget.SuccessImportance},
		{appBadges, api.StatusAccessDenied, "Denied", widget.DangerImportance},
		{certBadges, service.CertWrongAccount, "Error 2035: belongs to another account", widget.DangerImportance},
		{certBadges, service.CertNotBound, "Not connected to an account", widget.WarningImportance},
		{appBadges, "some_new_status", "some_new_status", widget.MediumImportance}, // a newer server's status shows as is
	}
	for _, tc := range cases {
		l := badgeLabel(tc.badges, tc.status)
		if l.Text != tc.wantText || l.Importance != tc.wantImp || !l.TextStyle.Bold {
			t.Errorf("badgeLabel(%q) = %q importance %v bold %v; want %q importance %v, bold", tc.status, l.Text, l.Importance, l.TextStyle.Bold, tc.wantText, tc.wantImp)
		}
	}
}
