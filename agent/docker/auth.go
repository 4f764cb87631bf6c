package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"
)

// RegistryAuthOptions configure RegistryAuth.
type RegistryAuthOptions struct {
	// LoadAWSConfig loads the AWS configuration used to ask ECR for a token
	// in region; nil means the standard chain (environment, shared files,
	// instance role; AWS_ENDPOINT_URL_ECR overrides the endpoint).
	LoadAWSConfig func(ctx context.Context, region string) (aws.Config, error)
	// DockerConfig is the path of a Docker CLI config.json holding registry
	// logins; empty means $DOCKER_CONFIG/config.json, else
	// ~/.docker/config.json.
	DockerConfig string
	// Now is the clock that expires cached ECR tokens; nil means time.Now.
	Now func() time.Time
}

// RegistryAuth finds the credentials to pull an image: an ECR token for
// <account>.dkr.ecr.<region>.amazonaws.com images, else the login stored in
// the Docker CLI's config.json for the image's registry (inline "auth"
// entries; credential helpers are not run), else none.
type RegistryAuth struct {
	opts RegistryAuthOptions

	mu     sync.Mutex
	tokens map[string]ecrToken // by registry host
}

type ecrToken struct {
	auth    registry.AuthConfig
	expires time.Time
}

// NewRegistryAuth makes a RegistryAuth.
func NewRegistryAuth(opts RegistryAuthOptions) *RegistryAuth {
	if opts.LoadAWSConfig == nil {
		opts.LoadAWSConfig = func(ctx context.Context, region string) (aws.Config, error) {
			return config.LoadDefaultConfig(ctx, config.WithRegion(region))
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &RegistryAuth{opts: opts, tokens: map[string]ecrToken{}}
}

// ecrHost matches ECR private registries: account, optional FIPS, region.
// An ECR token opens every registry the caller may read, so the account
// only identifies the registry.
var ecrHost = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// For returns the credentials to pull image; the zero AuthConfig means an
// anonymous pull.
func (a *RegistryAuth) For(ctx context.Context, image string) (registry.AuthConfig, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return registry.AuthConfig{}, fmt.Errorf("image %q: %w", image, err)
	}
	host := reference.Domain(named)
	if m := ecrHost.FindStringSubmatch(host); m != nil {
		return a.ecrAuth(ctx, host, m[3])
	}
	return a.dockerConfigAuth(host)
}

// ecrTokenMargin renews a cached ECR token this long before it expires, so
// that a pull never starts with a token about to lapse.
const ecrTokenMargin = 10 * time.Minute

func (a *RegistryAuth) ecrAuth(ctx context.Context, host, region string) (registry.AuthConfig, error) {
	a.mu.Lock()
	cached, ok := a.tokens[host]
	a.mu.Unlock()
	if ok && a.opts.Now().Before(cached.expires.Add(-ecrTokenMargin)) {
		return cached.auth, nil
	}
	cfg, err := a.opts.LoadAWSConfig(ctx, region)
	if err != nil {
		return registry.AuthConfig{}, fmt.Errorf("ECR credentials for %s: AWS config: %w", host, err)
	}
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return registry.AuthConfig{}, fmt.Errorf("ECR credentials for %s: GetAuthorizationToken: %w", host, err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return registry.AuthConfig{}, fmt.Errorf("ECR credentials for %s: GetAuthorizationToken returned no token", host)
	}
	data := out.AuthorizationData[0]
	user, pass, err := decodeBasicAuth(*data.AuthorizationToken)
	if err != nil {
		return registry.AuthConfig{}, fmt.Errorf("ECR credentials for %s: %w", host, err)
	}
	auth := registry.AuthConfig{Username: user, Password: pass, ServerAddress: "https://" + host}
	expires := a.opts.Now().Add(time.Hour)
	if data.ExpiresAt != nil {
		expires = *data.ExpiresAt
	}
	a.mu.Lock()
	a.tokens[host] = ecrToken{auth: auth, expires: expires}
	a.mu.Unlock()
	return auth, nil
}

// decodeBasicAuth splits a base64 "user:password", the shape of both ECR
// tokens and config.json "auth" entries.
func decodeBasicAuth(encoded string) (string, string, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", "", fmt.Errorf("credentials are not base64: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("credentials are not user:password")
	}
	return user, pass, nil
}

type dockerConfigFile struct {
	Auths map[string]struct {
		Auth          string `json:"auth"`
		IdentityToken string `json:"identitytoken"`
	} `json:"auths"`
}

func (a *RegistryAuth) dockerConfigPath() string {
	if a.opts.DockerConfig != "" {
		return a.opts.DockerConfig
	}
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

func (a *RegistryAuth) dockerConfigAuth(host string) (registry.AuthConfig, error) {
	path := a.dockerConfigPath()
	if path == "" {
		return registry.AuthConfig{}, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return registry.AuthConfig{}, nil
	}
	if err != nil {
		return registry.AuthConfig{}, fmt.Errorf("registry credentials: %w", err)
	}
	var file dockerConfigFile
	if err := json.Unmarshal(raw, &file); err != nil {
		return registry.AuthConfig{}, fmt.Errorf("registry credentials: %s: %w", path, err)
	}
	for _, key := range configKeys(host) {
		entry, ok := file.Auths[key]
		if !ok {
			continue
		}
		auth := registry.AuthConfig{ServerAddress: key, IdentityToken: entry.IdentityToken}
		if entry.Auth != "" {
			if auth.Username, auth.Password, err = decodeBasicAuth(entry.Auth); err != nil {
				return registry.AuthConfig{}, fmt.Errorf("registry credentials for %s in %s: %w", key, path, err)
			}
		}
		return auth, nil
	}
	return registry.AuthConfig{}, nil
}

// configKeys are the spellings under which the Docker CLI may have stored a
// registry's login.
func configKeys(host string) []string {
	if host == "docker.io" {
		return []string{"https://index.docker.io/v1/", "index.docker.io", "docker.io"}
	}
	return []string{host, "https://" + host, "http://" + host}
}
