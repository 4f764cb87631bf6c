package docker

import (
	"context"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/pkg/jsonmessage"
)

// ensureImage pulls ref unless the engine already has it, and returns the
// image's digest: its registry digest when it came from a registry, else its
// local ID.
func (d *Driver) ensureImage(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("no image given")
	}
	inspect, err := d.cli.ImageInspect(ctx, ref)
	if err == nil {
		return digestOf(inspect), nil
	}
	if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if err := d.pull(ctx, ref); err != nil {
		return "", err
	}
	inspect, err = d.cli.ImageInspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("inspect image %s after pulling it: %w", ref, err)
	}
	return digestOf(inspect), nil
}

func (d *Driver) pull(ctx context.Context, ref string) error {
	auth, err := d.auth.For(ctx, ref)
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	var encoded string
	if auth != (registry.AuthConfig{}) {
		if encoded, err = registry.EncodeAuthConfig(auth); err != nil {
			return fmt.Errorf("pull %s: %w", ref, err)
		}
	}
	d.log.Info("pulling image", "image", ref, "authenticated", encoded != "")
	stream, err := d.cli.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: encoded})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	defer stream.Close()
	// The engine reports pull failures inside the progress stream.
	if err := jsonmessage.DisplayJSONMessagesStream(stream, io.Discard, 0, false, nil); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}

func digestOf(inspect image.InspectResponse) string {
	for _, rd := range inspect.RepoDigests {
		if _, digest, ok := strings.Cut(rd, "@"); ok {
			return digest
		}
	}
	return inspect.ID
}
