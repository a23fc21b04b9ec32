package service

import (
	"slices"

	"github.com/mag-desktop/magdesk/internal/netconf"
)

// network is the proxy resolver of this run, shared by every client so that a PAC script is
// fetched once; it is rebuilt when the proxy settings change.
func (s *Service) network() *netconf.Resolver {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.settings.Proxy()
	if s.net == nil || !sameProxy(s.netCfg, cfg) {
		s.net, s.netCfg = netconf.New(netconf.Options{Config: cfg}), cfg
	}
	return s.net
}

func sameProxy(a, b netconf.Config) bool {
	return a.Mode == b.Mode && a.URL == b.URL && a.PACURL == b.PACURL && a.Origin == b.Origin && slices.Equal(a.Bypass, b.Bypass)
}
