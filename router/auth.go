package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookgate/hookgate/configs"
)

// tokenRefreshMargin is how long before its expiry a cached OAuth2 token is
// replaced, so that a token never expires while a request is on the wire.
const tokenRefreshMargin = 30 * time.Second

// credentials puts one auth profile on outgoing requests.
type credentials struct {
	profile configs.AuthProfile
	oauth   *tokenCache // only for oauth2_client_credentials
}

// newCredentials builds a profile for the outgoing o, whose settings the
// token endpoint is reached with.
func newCredentials(p configs.AuthProfile, o configs.Outgoing) (*credentials, error) {
	if len(p.AllowedDomains) == 0 {
		return nil, fmt.Errorf("auth profile %q: allowed_domains is empty; list the hosts its credentials may be sent to", p.Name)
	}
	c := &credentials{profile: p}
	switch p.Type {
	case "basic", "bearer":
	case "header":
		if p.Header == "" {
			return nil, fmt.Errorf("auth profile %q: type header needs header: the name of the header to send", p.Name)
		}
	case "oauth2_client_credentials":
		if p.TokenURL == "" {
			return nil, fmt.Errorf("auth profile %q: token_url is empty; give the token endpoint of the authorization server", p.Name)
		}
		if err := checkTokenURL(p); err != nil {
			return nil, err
		}
		client, tr := newTokenClient(o)
		c.oauth = &tokenCache{
			cfg: clientcredentials.Config{
				ClientID:     p.ClientID,
				ClientSecret: p.ClientSecret,
				TokenURL:     p.TokenURL,
				Scopes:       strings.Fields(p.Scope),
			},
			client:    client,
			transport: tr,
		}
	default:
		return nil, fmt.Errorf("auth profile %q: unknown type %q; use basic, bearer, header or oauth2_client_credentials", p.Name, p.Type)
	}
	return c, nil
}

// allows reports whether the profile may be sent to host.
func (c *credentials) allows(host string) bool { return allowedHost(c.profile.AllowedDomains, host) }

// apply sets the credentials on req. It returns the OAuth2 token used (nil
// for the other types) so that a 401 can invalidate exactly that token.
func (c *credentials) apply(ctx context.Context, req *http.Request) (*oauth2.Token, error) {
	p := c.profile
	switch p.Type {
	case "basic":
		req.SetBasicAuth(p.Username, p.Password)
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+p.Token)
	case "header":
		req.Header.Set(p.Header, p.Value)
	case "oauth2_client_credentials":
		tok, err := c.oauth.token(ctx)
		if err != nil {
			return nil, err
		}
		tok.SetAuthHeader(req)
		return tok, nil
	}
	return nil, nil
}

// tokenCache holds one client-credentials token until shortly before it
// expires. clientcredentials.Config.TokenSource caches too, but cannot be
// told that the destination rejected its token, hence this small cache.
type tokenCache struct {
	cfg       clientcredentials.Config
	client    *http.Client
	transport *http.Transport    // client's, for Stop to close idle connections
	onToken   func(token string) // told every new access token, to mask it

	mu  sync.Mutex
	tok *oauth2.Token
}

// token returns the cached token or fetches a new one. The lock is held
// while fetching so that concurrent deliveries wait for one fetch instead
// of each asking the authorization server.
func (c *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && (c.tok.Expiry.IsZero() || time.Until(c.tok.Expiry) > tokenRefreshMargin) {
		return c.tok, nil
	}
	tok, err := c.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, c.client))
	if err != nil {
		return nil, fmt.Errorf("oauth2 token from %s: %w", redactURL(c.cfg.TokenURL), tokenError(err))
	}
	if c.onToken != nil {
		c.onToken(tok.AccessToken)
	}
	c.tok = tok
	return tok, nil
}

// invalidate drops used from the cache after the destination answered 401,
// unless another delivery has already replaced it.
func (c *tokenCache) invalidate(used *oauth2.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == used {
		c.tok = nil
	}
}

// tokenError keeps the status and OAuth2 error code of a token failure but
// not the response body, which a careless server may fill with credentials;
// nor the URL of a transport error, said once by the caller.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		if re.ErrorCode != "" {
			return fmt.Errorf("status %d, error %q", re.Response.StatusCode, clip(re.ErrorCode, 64))
		}
		return fmt.Errorf("status %d", re.Response.StatusCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// clip cuts s to at most n bytes of valid UTF-8, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
