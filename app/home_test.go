package app

import (
	"net/http"
	"strings"
	"testing"

	"fyne.io/fyne/v2/dialog"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

func (h *harness) appStatus(appID string) string {
	for _, a := range h.u.home.apps {
		if a.AppID == appID {
			return a.Status
		}
	}
	return ""
}

// closeInfo dismisses the information dialog on top and returns what it said.
func (h *harness) closeInfo() string {
	h.t.Helper()
	d := h.u.TopDialog()
	if d == nil {
		h.t.Fatal("no dialog shown")
	}
	d.Hide()
	return h.u.lastInfo
}

func TestHomeTermsRequestApproveOpen(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	demo := h.env.Server.Demo()

	// The org admin sees every status with a badge and plain words.
	h.login(demo.AdminUserID, demo.AdminPassword)
	if h.u.LoggedIn() == nil {
		t.Fatalf("admin login: %q", h.u.login.err.Text)
	}
	home := labels(h.u.home.content)
	for _, want := range []string{"Waiting for Terms", "Available to request", "Flight Planning", "Review Terms and Conditions"} {
		h.mustContain(home, want)
	}
	if h.appStatus("flightplan") != api.StatusPendingTerms {
		t.Fatalf("flightplan status %q", h.appStatus("flightplan"))
	}

	// Terms and Conditions in full, "I Agree", and a confirmation naming what users can do now.
	review := h.u.home.buttons["flightplan/"+api.ActionAcceptTerms]
	h.tap(review)
	if h.u.admin.terms.Body == "" || h.u.Screen() != TabAdmin {
		t.Fatalf("terms not shown (screen %q)", h.u.Screen())
	}
	h.tap(h.u.admin.agree)
	msg := h.closeInfo()
	h.mustContain(msg, "can now request access to Flight Planning")
	h.u.showTab(TabHome)
	h.u.Wait()
	if st := h.appStatus("flightplan"); st == api.StatusPendingTerms {
		t.Fatal("still pending terms after I Agree")
	}
	h.u.Logout()
	h.u.Wait()

	// The user requests access to an available application.
	h.login(demo.UserUserID, demo.UserPassword)
	if h.u.LoggedIn() == nil {
		t.Fatalf("user login: %q", h.u.login.err.Text)
	}
	if h.u.admin != nil {
		t.Fatal("a plain user sees Administration")
	}
	home = labels(h.u.home.content)
	for _, want := range []string{"Ready", "Requested", "Denied", "Suspended", "[Open Application]"} {
		h.mustContain(home, want)
	}
	h.tap(h.u.home.buttons["supplychain/"+api.ActionRequestAccess])
	h.mustContain(h.closeInfo(), "sent to your organisation administrator")
	h.u.Wait()
	if st := h.appStatus("supplychain"); st != api.StatusAccessRequested {
		t.Fatalf("after request: %q", st)
	}
	h.u.Logout()
	h.u.Wait()

	// The admin approves it from the queue.
	h.login(demo.AdminUserID, demo.AdminPassword)
	h.u.showTab(TabAdmin)
	h.u.Wait()
	var reqID string
	for _, r := range h.u.admin.queue {
		if r.AppID == "supplychain" && r.UserID == demo.UserUserID {
			reqID = r.ID
		}
	}
	if reqID == "" {
		t.Fatalf("request not in the queue: %+v", h.u.admin.queue)
	}
	h.tap(h.u.admin.decide[reqID][0])
	h.mustContain(h.closeInfo(), "approved")
	h.u.Logout()
	h.u.Wait()

	// The user opens it: a single-use launch link goes to the browser.
	h.login(demo.UserUserID, demo.UserPassword)
	if st := h.appStatus("supplychain"); st != api.StatusAccessGranted {
		t.Fatalf("after approval: %q", st)
	}
	h.tap(h.u.home.buttons["supplychain/"+api.ActionOpen])
	if len(h.opened) != 1 || !strings.HasPrefix(h.opened[0], h.env.URL) {
		t.Fatalf("browser got %v", h.opened)
	}
	c := h.env.Client(t, nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for i, want := range []int{http.StatusSeeOther, 0} {
		resp, err := c.Get(h.opened[0])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if i == 0 && resp.StatusCode != want {
			t.Fatalf("first use of the launch link: %d", resp.StatusCode)
		}
		if i == 1 && resp.StatusCode == http.StatusSeeOther {
			t.Fatal("the launch link worked twice")
		}
	}
}

func TestAdminDeniesWithReason(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	demo := h.env.Server.Demo()
	h.login(demo.AdminUserID, demo.AdminPassword)
	h.u.showTab(TabAdmin)
	h.u.Wait()
	var req api.AccessRequest
	for _, r := range h.u.admin.queue {
		if r.Status == "" || r.Status == "pending" {
			req = r
		}
	}
	if req.ID == "" {
		t.Fatal("the demo data has no pending request")
	}
	h.tap(h.u.admin.decide[req.ID][1])
	form, ok := h.u.TopDialog().(*dialog.FormDialog)
	if !ok {
		t.Fatal("no reason form")
	}
	// An empty reason is refused by the form's validation.
	form.Submit()
	h.u.Wait()
	if h.u.TopDialog() != form {
		t.Fatal("denied without a reason")
	}
	h.typeIn(h.u.admin.reason, "Not needed for your role")
	form.Submit()
	h.u.Wait()
	h.mustContain(h.closeInfo(), "denied")
}
