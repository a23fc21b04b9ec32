//go:build !windows && !darwin

package cli

func browserCommand(link string) (string, []string) { return "xdg-open", []string{link} }
