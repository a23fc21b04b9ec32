package oidcop

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/mag-desktop/magdesk/internal/server/store"
)

// storage implements op.Storage over the store.
type storage struct{ cfg Config }

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *storage) now() time.Time { return s.cfg.Now().UTC() }

func (s *storage) load(ctx context.Context, id string) (*authRequest, error) {
	row, err := s.cfg.Store.OIDCAuthRequestByID(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	var a authRequest
	return &a, json.Unmarshal(row.Data, &a)
}

// CreateAuthRequest stores a validated authorization request. Public clients must send a PKCE
// challenge with S256: without a secret, the verifier is what binds the code to the client.
func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.cfg.Store.OIDCClientByID(ctx, r.ClientID)
	if err != nil {
		return nil, err
	}
	if c.Public && (r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256) {
		return nil, oidc.ErrInvalidRequest().WithDescription("This client must use PKCE with code_challenge_method=S256.")
	}
	a := &authRequest{ID: randomID(), ClientID: r.ClientID, RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce,
		LoginHint: r.LoginHint, Scopes: r.Scopes, Prompt: r.Prompt, ResponseType: r.ResponseType, ResponseMode: r.ResponseMode,
		CodeChallenge: r.CodeChallenge, CodeChallengeMethod: string(r.CodeChallengeMethod)}
	if a.CodeChallenge != "" && a.CodeChallengeMethod == "" {
		a.CodeChallengeMethod = string(oidc.CodeChallengeMethodPlain)
	}
	data, _ := json.Marshal(a) // plain struct
	now := s.now()
	if err := s.cfg.Store.CreateOIDCAuthRequest(ctx, store.OIDCAuthRequest{ID: a.ID, ClientID: a.ClientID, Data: data,
		ExpiresAt: now.Add(authRequestTTL)}, now); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("The sign-in request is unknown or has expired; start again from the application.")
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	row, err := s.cfg.Store.OIDCAuthRequestByCode(ctx, codeHash(code), s.now())
	if err != nil {
		return nil, err
	}
	var a authRequest
	return &a, json.Unmarshal(row.Data, &a)
}

// SaveAuthCode attaches the code once; the request then lives only as long as the code.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.cfg.Store.SaveOIDCCode(ctx, id, codeHash(code), s.now().Add(codeTTL))
}

// DeleteAuthRequest runs when the code is redeemed: a second redemption finds nothing.
func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.cfg.Store.DeleteOIDCAuthRequest(ctx, id)
}

func (s *storage) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	t := token{ID: randomID(), Subject: r.GetSubject(), Audience: r.GetAudience(), Scopes: r.GetScopes(),
		Expires: s.now().Add(accessTokenTTL)}
	a, ok := r.(*authRequest)
	if !ok {
		return "", time.Time{}, fmt.Errorf("unsupported token request %T", r)
	}
	// The code is spent here, once the client and the verifier have been checked: of token
	// requests racing with one code, one removes the request and the others get invalid_grant.
	if err := s.cfg.Store.ConsumeOIDCAuthRequest(ctx, a.ID); errors.Is(err, store.ErrNotFound) {
		return "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("invalid code")
	} else if err != nil {
		return "", time.Time{}, err
	}
	t.ClientID = a.ClientID
	data, _ := json.Marshal(t) // plain struct
	if err := s.cfg.Store.CreateOIDCToken(ctx, store.OIDCToken{ID: t.ID, ClientID: t.ClientID, Subject: t.Subject, Data: data,
		ExpiresAt: t.Expires}); err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.Expires, nil
}

// Refresh tokens are not offered: a launch is short and the next one signs in again.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession ends the user's tokens at the client (RP-initiated logout).
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return s.cfg.Store.DeleteOIDCTokensOf(ctx, userID, clientID)
}

func (s *storage) RevokeToken(ctx context.Context, tokenID, _, clientID string) *oidc.Error {
	t, err := s.cfg.Store.OIDCTokenByID(ctx, tokenID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // unknown or already gone: the outcome the caller wants (RFC 7009)
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if t.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("The token was not issued to this client.")
	}
	if err := s.cfg.Store.DeleteOIDCToken(ctx, tokenID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.cfg.Keys.Current(ctx, keyPurpose, keyRotation)
	if err != nil {
		return nil, err
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet publishes every unexpired key, so tokens signed before a rotation still verify.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	if _, err := s.cfg.Keys.Current(ctx, keyPurpose, keyRotation); err != nil {
		return nil, err
	}
	keys, err := s.cfg.Keys.All(ctx, keyPurpose)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(keys))
	for _, k := range keys {
		out = append(out, publicKey{k})
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.cfg.Store.OIDCClientByID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return loginClient{client{c}, s.cfg.LoginPath}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	c, err := s.cfg.Store.OIDCClientByID(ctx, clientID)
	if err != nil {
		return err
	}
	if c.Public || c.SecretHash == "" || subtle.ConstantTimeCompare([]byte(SecretHash(secret)), []byte(c.SecretHash)) != 1 {
		return errors.New("wrong client secret")
	}
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, u *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	return s.userinfo(ctx, u, r.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, u *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.token(ctx, tokenID)
	if err != nil {
		return err
	}
	if t.Subject != subject {
		return errors.New("token subject mismatch")
	}
	return s.userinfo(ctx, u, t.Subject, t.Scopes)
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.token(ctx, tokenID)
	if err != nil {
		return err
	}
	if !slices.Contains(t.Audience, clientID) {
		return errors.New("the token is not for this client")
	}
	u := new(oidc.UserInfo)
	if err := s.userinfo(ctx, u, subject, t.Scopes); err != nil {
		return err
	}
	in.SetUserInfo(u)
	in.Scope, in.ClientID, in.Expiration = t.Scopes, t.ClientID, oidc.FromTime(t.Expires)
	return nil
}

func (s *storage) token(ctx context.Context, id string) (token, error) {
	var t token
	row, err := s.cfg.Store.OIDCTokenByID(ctx, id)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(row.Data, &t); err != nil {
		return t, err
	}
	if !t.Expires.After(s.now()) {
		return t, errors.New("the token has expired")
	}
	return t, nil
}

// userinfo fills in the claims of the scopes from the account; sub is the user id.
func (s *storage) userinfo(ctx context.Context, u *oidc.UserInfo, subject string, scopes []string) error {
	a, err := s.cfg.Store.AccountByUserID(ctx, subject)
	if err != nil {
		return err
	}
	if a.Status != store.AccountActive {
		return errors.New("the account is not active")
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeOpenID:
			u.Subject = a.UserID
		case oidc.ScopeProfile:
			u.Name, u.GivenName, u.FamilyName, u.PreferredUsername = a.DisplayName(), a.FirstName, a.LastName, a.UserID
			u.AppendClaims("org", a.OrgName)
			u.AppendClaims("org_id", a.OrgID)
		case oidc.ScopeEmail:
			u.Email, u.EmailVerified = a.Email, oidc.Bool(true)
		}
	}
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNotFound
}

func (s *storage) Health(ctx context.Context) error {
	_, err := s.cfg.Store.Setting(ctx, "public_url")
	return err
}
