package service

import (
	"context"
	"path/filepath"

	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/logging"
	"github.com/mag-desktop/magdesk/internal/support"
)

// SupportResult says what a support bundle holds.
type SupportResult struct {
	File          string   `json:"file"`
	Certificates  int      `json:"certificates"`
	StoreProblems []string `json:"store_problems"`
}

// WriteSupportBundle writes the help desk's zip (versions, settings, log tail, certificate
// inventory, the checks of Doctor; no secret) to path, which must not exist yet.
func (s *Service) WriteSupportBundle(ctx context.Context, path string) (SupportResult, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return SupportResult{}, err
	}
	_, settingsErr := config.Load(s.o.Home) // its problems, for the bundle
	s.mu.Lock()
	eff := s.settings
	s.mu.Unlock()
	certs, problems := s.o.Certs.SupportInventory(ctx)
	err = support.WriteFile(abs, support.Inputs{AppVersion: s.o.Version, Settings: eff, SettingsErr: settingsErr,
		LogDir: logging.Dir(s.o.Home), Certs: certs, CertErrors: problems, Doctor: s.Doctor(ctx, "")})
	if err != nil {
		return SupportResult{}, err
	}
	s.o.Log.Info("support bundle written", "file", abs, "certificates", len(certs))
	return SupportResult{File: abs, Certificates: len(certs), StoreProblems: problems}, nil
}

// SupportBundle implements Backend.
func (s *Service) SupportBundle(ctx context.Context, path string) error {
	_, err := s.WriteSupportBundle(ctx, path)
	return err
}
