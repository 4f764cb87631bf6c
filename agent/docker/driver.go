package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/berth-run/berth/agent"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// DefaultScope is the scope of a driver given none.
const DefaultScope = "default"

// Options configure a Driver.
type Options struct {
	// Client talks to the engine; nil means a client from the standard
	// environment (DOCKER_HOST, ...) with API version negotiation.
	Client client.APIClient
	// Scope labels this agent's containers (LabelScope); agents sharing an
	// engine need different scopes. Empty means DefaultScope.
	Scope string
	// Auth resolves registry credentials for pulls; nil means
	// NewRegistryAuth(RegistryAuthOptions{}).
	Auth *RegistryAuth
	// Logger receives the driver's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Driver runs task containers with the Docker Engine API.
type Driver struct {
	cli   client.APIClient
	scope string
	auth  *RegistryAuth
	log   *slog.Logger
}

var _ agent.Driver = (*Driver)(nil)

// New makes a Driver.
func New(opts Options) (*Driver, error) {
	d := &Driver{cli: opts.Client, scope: opts.Scope, auth: opts.Auth, log: opts.Logger}
	if d.cli == nil {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, fmt.Errorf("docker driver: client: %w", err)
		}
		d.cli = cli
	}
	if d.scope == "" {
		d.scope = DefaultScope
	}
	if d.auth == nil {
		d.auth = NewRegistryAuth(RegistryAuthOptions{})
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	return d, nil
}

// Name is "docker".
func (d *Driver) Name() string { return "docker" }

// Info reports the engine's version and the negotiated API version.
func (d *Driver) Info(ctx context.Context) (agent.RuntimeInfo, error) {
	v, err := d.cli.ServerVersion(ctx)
	if err != nil {
		return agent.RuntimeInfo{}, fmt.Errorf("docker version: %w", err)
	}
	return agent.RuntimeInfo{Driver: d.Name(), Version: v.Version, APIVersion: d.cli.ClientVersion()}, nil
}

// Create pulls the image if the engine lacks it, then creates the container.
// Errors start with ECS's reason names (CannotPullContainerError,
// CannotCreateContainerError) so the agent can report them as they are.
func (d *Driver) Create(ctx context.Context, spec agent.ContainerSpec) (string, error) {
	if spec.TaskARN == "" || spec.ContainerName == "" {
		return "", fmt.Errorf("CannotCreateContainerError: container spec needs a task ARN and a container name")
	}
	digest, err := d.ensureImage(ctx, spec.Image)
	if err != nil {
		return "", fmt.Errorf("CannotPullContainerError: %w", err)
	}
	req, err := buildCreateRequest(spec, d.scope, digest)
	if err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: %s/%s: %w", spec.TaskARN, spec.ContainerName, err)
	}
	resp, err := d.cli.ContainerCreate(ctx, req.config, req.host, nil, nil, containerName(spec))
	if err != nil {
		return "", fmt.Errorf("CannotCreateContainerError: create %s/%s: %w", spec.TaskARN, spec.ContainerName, err)
	}
	for _, w := range resp.Warnings {
		d.log.Warn("docker create", "container", resp.ID, "warning", w)
	}
	return resp.ID, nil
}

var unsafeNameChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// containerName follows the ECS agent's pattern (ecs-<family>-<revision>-
// <name>-<random>) so that `docker ps` tells what runs.
func containerName(spec agent.ContainerSpec) string {
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := fmt.Sprintf("berth-%s-%d-%s-%s", spec.Family, spec.Revision, spec.ContainerName, hex.EncodeToString(suffix[:]))
	return unsafeNameChars.ReplaceAllString(name, "_")
}

// Start starts a created container.
func (d *Driver) Start(ctx context.Context, id string) error {
	if err := d.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("start container %s: %w", id, agent.ErrNotFound)
		}
		return fmt.Errorf("CannotStartContainerError: start container %s: %w", id, err)
	}
	return nil
}

// Stop is `docker stop`: SIGTERM, then SIGKILL after timeout (rounded up to
// whole seconds, the Engine API's unit).
func (d *Driver) Stop(ctx context.Context, id string, timeout time.Duration) error {
	secs := ceilSeconds(timeout)
	if err := d.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs}); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stop container %s: %w", id, agent.ErrNotFound)
		}
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	return nil
}

// Inspect reads a container's state.
func (d *Driver) Inspect(ctx context.Context, id string) (agent.ContainerState, error) {
	resp, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return agent.ContainerState{}, fmt.Errorf("inspect container %s: %w", id, agent.ErrNotFound)
		}
		return agent.ContainerState{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	if mayAwaitOOMFlag(resp) {
		resp = d.awaitOOMFlag(ctx, id, resp)
	}
	return stateOf(resp), nil
}

// oomFlagWait bounds how long Inspect waits for the engine to mark a
// just-killed container OOMKilled.
const oomFlagWait = 3 * time.Second

// mayAwaitOOMFlag: a container with a memory limit that died of SIGKILL
// moments ago may have been OOM-killed before the engine, which learns of
// the kill and the OOM separately, has recorded it.
func mayAwaitOOMFlag(resp container.InspectResponse) bool {
	s := resp.State
	if s == nil || s.Running || s.OOMKilled || s.ExitCode != 137 || resp.HostConfig == nil || resp.HostConfig.Memory == 0 {
		return false
	}
	finished := parseDockerTime(s.FinishedAt)
	return !finished.IsZero() && time.Since(finished) < oomFlagWait
}

// awaitOOMFlag re-inspects until the OOM flag shows or the wait is over,
// so the exit is reported once, with its cause.
func (d *Driver) awaitOOMFlag(ctx context.Context, id string, resp container.InspectResponse) container.InspectResponse {
	deadline := parseDockerTime(resp.State.FinishedAt).Add(oomFlagWait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return resp
		case <-time.After(50 * time.Millisecond):
		}
		again, err := d.cli.ContainerInspect(ctx, id)
		if err != nil || again.State == nil {
			return resp
		}
		resp = again
		if resp.State.OOMKilled {
			return resp
		}
	}
	return resp
}

// List inspects every container of this driver's scope.
func (d *Driver) List(ctx context.Context) ([]agent.ContainerState, error) {
	summaries, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: d.scopeFilter()})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]agent.ContainerState, 0, len(summaries))
	for _, s := range summaries {
		st, err := d.Inspect(ctx, s.ID)
		if err != nil {
			if cerrdefs.IsNotFound(err) || isNotFound(err) {
				continue // removed since the listing
			}
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (d *Driver) scopeFilter() filters.Args {
	return filters.NewArgs(
		filters.Arg("label", LabelTaskARN),
		filters.Arg("label", LabelScope+"="+d.scope),
	)
}

// Remove kills the container if it runs and deletes it with its anonymous
// volumes.
func (d *Driver) Remove(ctx context.Context, id string) error {
	err := d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

var _ agent.UsageMeter = (*Driver)(nil)

// Usage takes one sample of a running container's stats from the engine.
func (d *Driver) Usage(ctx context.Context, id string) (agent.ContainerUsage, error) {
	resp, err := d.cli.ContainerStats(ctx, id, false)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return agent.ContainerUsage{}, fmt.Errorf("measure container %s: %w", id, agent.ErrNotFound)
		}
		return agent.ContainerUsage{}, fmt.Errorf("measure container %s: %w", id, err)
	}
	defer resp.Body.Close()
	return agent.DockerStatsUsage(resp.Body, time.Now())
}
