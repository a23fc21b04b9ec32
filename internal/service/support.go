package service

import (
	"context"
	"path/filepath"

	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/logging"
	"github.com/mag-desktop/magdesk/internal/support"
)

// SupportBundle implements Backend with package support, as `magdesk support-bundle` does.
func (s *Service) SupportBundle(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	_, settingsErr := config.Load(s.o.Home) // its problems, for the bundle
	s.mu.Lock()
	eff := s.settings
	s.mu.Unlock()
	certs, problems := s.o.Certs.SupportInventory(ctx)
	err = support.WriteFile(abs, support.Inputs{AppVersion: s.o.Version, Settings: eff, SettingsErr: settingsErr,
		LogDir: logging.Dir(s.o.Home), Certs: certs, CertErrors: problems, Doctor: s.Doctor(ctx, "")})
	if err == nil {
		s.o.Log.Info("support bundle written", "file", abs, "certificates", len(certs))
	}
	return err
}
