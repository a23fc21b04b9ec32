//go:build !windows && !darwin

package opener

// command is xdg-open, which follows the desktop's default browser and file manager.
func command(target string) (string, []string) { return "xdg-open", []string{target} }
