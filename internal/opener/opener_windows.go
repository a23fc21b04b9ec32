package opener

// command is the shell's URL and file handler (what Explorer runs on a double-click).
func command(target string) (string, []string) {
	return "rundll32", []string{"url.dll,FileProtocolHandler", target}
}
