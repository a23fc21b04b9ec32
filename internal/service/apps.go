package service

import (
	"context"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// Applications implements Backend.
func (s *Service) Applications(ctx context.Context) ([]api.Application, error) {
	c, err := s.current()
	if err != nil {
		return nil, err
	}
	return c.Applications(ctx)
}

// RequestAccess implements Backend.
func (s *Service) RequestAccess(ctx context.Context, appID string) (api.AccessRequest, error) {
	c, err := s.current()
	if err != nil {
		return api.AccessRequest{}, err
	}
	return deref(c.RequestAccess(ctx, appID))
}

// Launch implements Backend.
func (s *Service) Launch(ctx context.Context, appID string) (api.LaunchResponse, error) {
	c, err := s.current()
	if err != nil {
		return api.LaunchResponse{}, err
	}
	return deref(c.Launch(ctx, appID))
}

// Terms implements Backend.
func (s *Service) Terms(ctx context.Context, orgID, appID string) (api.Terms, error) {
	c, err := s.current()
	if err != nil {
		return api.Terms{}, err
	}
	return deref(c.Terms(ctx, orgID, appID))
}

// AcceptTerms implements Backend.
func (s *Service) AcceptTerms(ctx context.Context, orgID, appID, termsVersionID string) (api.Acceptance, error) {
	c, err := s.current()
	if err != nil {
		return api.Acceptance{}, err
	}
	return deref(c.AcceptTerms(ctx, orgID, appID, termsVersionID))
}

// AccessRequests implements Backend.
func (s *Service) AccessRequests(ctx context.Context, orgID string) ([]api.AccessRequest, error) {
	c, err := s.current()
	if err != nil {
		return nil, err
	}
	return c.AccessRequests(ctx, orgID)
}

// DecideAccess implements Backend.
func (s *Service) DecideAccess(ctx context.Context, orgID, requestID, decision, reason string) (api.AccessRequest, error) {
	c, err := s.current()
	if err != nil {
		return api.AccessRequest{}, err
	}
	return deref(c.Decide(ctx, orgID, requestID, decision, reason))
}

// StartTOTP implements Backend.
func (s *Service) StartTOTP(ctx context.Context) (api.TOTPEnrollment, error) {
	c, err := s.current()
	if err != nil {
		return api.TOTPEnrollment{}, err
	}
	return deref(c.StartTOTP(ctx))
}

// VerifyTOTP implements Backend.
func (s *Service) VerifyTOTP(ctx context.Context, enrollmentID, code string) (api.TOTPCredential, error) {
	c, err := s.current()
	if err != nil {
		return api.TOTPCredential{}, err
	}
	return deref(c.VerifyTOTP(ctx, enrollmentID, code))
}

// recovery is a client of the configured server when that server offers account recovery
// (its meta says so): both front ends say so before asking for anything.
func (s *Service) recovery(ctx context.Context) (*client.Client, error) {
	c, err := s.anon()
	if err != nil {
		return nil, err
	}
	meta, err := c.Meta(ctx)
	if err != nil {
		return nil, err
	}
	if !meta.Features.Recovery {
		return nil, newError(CodeNoRecovery, "", nil)
	}
	return c, nil
}

// RecoverActivation implements Backend.
func (s *Service) RecoverActivation(ctx context.Context, userID, email string) (api.RecoveryAccepted, error) {
	c, err := s.recovery(ctx)
	if err != nil {
		return api.RecoveryAccepted{}, err
	}
	return deref(c.RecoverActivation(ctx, userID, email))
}

// RecoverUserIDs implements Backend.
func (s *Service) RecoverUserIDs(ctx context.Context, email string) (api.RecoveryAccepted, error) {
	c, err := s.recovery(ctx)
	if err != nil {
		return api.RecoveryAccepted{}, err
	}
	return deref(c.RecoverUserIDs(ctx, email))
}

// StartPasswordRecovery implements Backend.
func (s *Service) StartPasswordRecovery(ctx context.Context, userID string) (api.PasswordRecovery, error) {
	c, err := s.recovery(ctx)
	if err != nil {
		return api.PasswordRecovery{}, err
	}
	return deref(c.StartPasswordRecovery(ctx, userID))
}

// CompletePasswordRecovery implements Backend. The server ends every session of the account,
// so the one cached here for it is forgotten too.
func (s *Service) CompletePasswordRecovery(ctx context.Context, userID string, req api.PasswordRecoveryCompleteRequest) (api.RecoveryAccepted, error) {
	c, err := s.anon()
	if err != nil {
		return api.RecoveryAccepted{}, err
	}
	res, err := deref(c.CompletePasswordRecovery(ctx, req))
	if err != nil {
		return res, err
	}
	if derr := s.sessions().Delete(c.Server(), userID); derr != nil {
		s.o.Log.Warn("could not forget the ended session", "err", derr)
	}
	return res, nil
}
