package cli

func browserCommand(link string) (string, []string) { return "open", []string{link} }
