package cli

import "github.com/mag-desktop/magdesk/internal/netconf"

// Network is the proxy resolver of this run, from the settings and policy; every client of the
// run shares it, so a PAC script is fetched once.
func (e *Env) Network() *netconf.Resolver {
	e.netOnce.Do(func() { e.net = netconf.New(netconf.Options{Config: e.Settings.Proxy()}) })
	return e.net
}
