package opener

// command is open(1), the Finder's opener.
func command(target string) (string, []string) { return "open", []string{target} }
