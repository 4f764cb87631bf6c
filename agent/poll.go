package agent

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// Poll retry delays after failures.
const (
	minPollRetry = 200 * time.Millisecond
	maxPollRetry = 10 * time.Second
)

// firstPoll reads the desired state without waiting, retrying until the
// control plane answers.
func (a *Agent) firstPoll(ctx context.Context) (*PollOutput, error) {
	retry := minPollRetry
	for {
		out, err := a.pollOnce(ctx, "", 0)
		if err == nil {
			return out, nil
		}
		if err == ErrDeregistered || ctx.Err() != nil {
			return nil, err
		}
		if !sleep(ctx, retry) {
			return nil, ctx.Err()
		}
		retry = min(retry*2, maxPollRetry)
	}
}

// pollLoop long-polls the desired state and delivers every answer to out,
// replacing one not yet taken. It returns ErrDeregistered if the instance
// is deregistered, or nil when ctx ends.
func (a *Agent) pollLoop(ctx context.Context, digest string, out chan *PollOutput) error {
	wait := a.cfg.PollWait
	retry := minPollRetry
	for ctx.Err() == nil {
		began := time.Now()
		res, err := a.pollOnce(ctx, digest, wait)
		if err == ErrDeregistered {
			return err
		}
		if err != nil {
			if !sleep(ctx, retry) {
				return nil
			}
			retry = min(retry*2, maxPollRetry)
			continue
		}
		retry = minPollRetry
		deliver(out, res)
		// A control plane that cannot hold polls (no change feed) answers
		// at once: then poll at the interval it names.
		if res.Digest == digest && time.Since(began) < wait/2 {
			if !sleep(ctx, time.Duration(max(res.PollIntervalSeconds, 1))*time.Second) {
				return nil
			}
		}
		digest = res.Digest
	}
	return nil
}

// pollOnce polls once. An instance the control plane no longer knows is
// registered again; a deregistered one is ErrDeregistered.
func (a *Agent) pollOnce(ctx context.Context, digest string, wait time.Duration) (*PollOutput, error) {
	in := &PollInput{Cluster: a.cfg.Cluster, ContainerInstanceArn: a.ContainerInstanceArn(), Digest: digest, WaitSeconds: int(wait / time.Second)}
	pctx, cancel := context.WithTimeout(ctx, wait+30*time.Second)
	defer cancel()
	res, err := a.client.Poll(pctx, in)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		a.log.Warn("poll failed", "error", err)
		if ecs.IsCode(err, ecs.InvalidParameterException) {
			if rerr := a.register(ctx); rerr != nil {
				a.log.Warn("re-registration failed", "error", rerr)
			}
		}
		return nil, fmt.Errorf("poll: %w", err)
	}
	if res.InstanceStatus == ecs.InstanceInactive {
		a.log.Error("the control plane reports this container instance INACTIVE (deregistered); stopping the agent and leaving its tasks running",
			"containerInstanceArn", in.ContainerInstanceArn)
		return nil, ErrDeregistered
	}
	return res, nil
}

// deliver puts v in a one-slot channel, replacing what the reader has not
// taken: only the latest desired state matters.
func deliver[T any](ch chan T, v T) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
