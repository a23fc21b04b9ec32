package cli

func browserCommand(link string) (string, []string) {
	return "rundll32", []string{"url.dll,FileProtocolHandler", link}
}
