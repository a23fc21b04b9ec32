// Package help is MAG Desktop's offline help: one Markdown page per question of the portal's
// help page, each naming the screen that fixes the problem.
package help

import (
	"embed"
	"fmt"
)

//go:embed *.md
var pages embed.FS

// Screens a topic can link to (the app maps them to its screens).
const (
	ScreenSetup     = "setup"
	ScreenLogin     = "login"
	ScreenCerts     = "certificates"
	ScreenOTP       = "otp"
	ScreenSessions  = "clear-sessions"
	ScreenRecover   = "recover-activation"
	ScreenForgotPwd = "recover-password"
	ScreenHome      = "home"
)

// Topic is one help page.
type Topic struct {
	ID, Title string
	// Action is the button under the page and Screen where it goes.
	Action, Screen string
	Body           string
}

var topics = []Topic{
	{ID: "first-time", Title: "First-time login", Action: "Start first-time setup", Screen: ScreenSetup},
	{ID: "returning", Title: "Returning to credentialing", Action: "Manage one-time codes", Screen: ScreenOTP},
	{ID: "regular-login", Title: "Regular login", Action: "Go to Login", Screen: ScreenLogin},
	{ID: "login-error", Title: "Error during login", Action: "Clear cached sessions", Screen: ScreenSessions},
	{ID: "error-2035", Title: "Error 2035", Action: "Open Certificates", Screen: ScreenCerts},
	{ID: "link", Title: "The activation link doesn't work", Action: "Get a new activation email", Screen: ScreenRecover},
	{ID: "forgot", Title: "Forgot your password or user ID", Action: "Reset my password", Screen: ScreenForgotPwd},
	{ID: "tips", Title: "Tips", Action: "Go to Home", Screen: ScreenHome},
	{ID: "keyboard", Title: "Keyboard shortcuts", Action: "Go to Home", Screen: ScreenHome},
}

// Topics returns every page, in reading order, with its text.
func Topics() []Topic {
	out := make([]Topic, len(topics))
	for i, t := range topics {
		b, err := pages.ReadFile(t.ID + ".md")
		if err != nil {
			panic(fmt.Sprintf("help page %s.md is not embedded: %v", t.ID, err))
		}
		t.Body = string(b)
		out[i] = t
	}
	return out
}
