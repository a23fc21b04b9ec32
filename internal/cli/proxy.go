package cli

import (
	"fmt"
	"io"

	"github.com/mag-desktop/magdesk/internal/netconf"
)

// runProxyLogin is proxy-login HOST:PORT --user NAME [--password-stdin]: the proxy credentials
// go to the OS keyring, where every request of the app finds them for that proxy.
func runProxyLogin(e *Env, args []string) int {
	fs := e.Flags("proxy-login")
	user := fs.String("user", "", "the proxy user name your IT department gave you")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the proxy password from standard input")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 1, "the proxy as HOST:PORT (as magdesk doctor shows it)")
	}
	if err == nil && *user == "" {
		err = usageErrorf("pass --user NAME: the proxy user name")
	}
	if err != nil {
		return e.Fail(err)
	}
	p, err := netconf.ParseProxy(pos[0])
	if err != nil {
		return e.Fail(usageErrorf("%v", err))
	}
	pw, err := e.Secret(fmt.Sprintf("Proxy password for %s at %s: ", *user, p.Host))
	if err != nil {
		return e.Fail(err)
	}
	if err := netconf.SaveCredentials(p.Host, *user, pw); err != nil {
		return e.Fail(fmt.Errorf("the proxy credentials could not be saved in the system keyring: %w", err))
	}
	return e.Output(map[string]string{"proxy": p.Host, "user": *user}, func(w io.Writer) {
		fmt.Fprintf(w, "The proxy credentials of %s for %s are saved in the system keyring.\n", *user, p.Host)
	})
}
