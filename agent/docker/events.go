package docker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// Reconnect delays of the event stream.
const (
	minEventRetry = 100 * time.Millisecond
	maxEventRetry = 5 * time.Second
)

// Events follows the engine's event stream for this scope's containers and
// yields the id of each container that started, exited, was OOM-killed,
// changed health or was removed. A broken stream is reopened from the last
// event seen, so nothing is missed while the engine stays up.
func (d *Driver) Events(ctx context.Context) <-chan string {
	out := make(chan string, 64)
	go d.followEvents(ctx, out)
	return out
}

func (d *Driver) followEvents(ctx context.Context, out chan<- string) {
	defer close(out)
	since := ""
	retry := minEventRetry
	for ctx.Err() == nil {
		opts := events.ListOptions{Since: since, Filters: filters.NewArgs(
			filters.Arg("type", string(events.ContainerEventType)),
			filters.Arg("label", LabelScope+"="+d.scope),
		)}
		streamCtx, cancel := context.WithCancel(ctx)
		msgs, errs := d.cli.Events(streamCtx, opts)
		last, err := forwardEvents(ctx, msgs, errs, out)
		cancel()
		if last != "" {
			since = last
			retry = minEventRetry
		}
		if ctx.Err() != nil {
			return
		}
		d.log.Warn("docker event stream broke; reopening", "error", err, "after", retry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		retry = min(retry*2, maxEventRetry)
	}
}

// forwardEvents copies one stream's interesting events to out until the
// stream fails; it returns the time of the last event seen, in the form the
// Since option takes.
func forwardEvents(ctx context.Context, msgs <-chan events.Message, errs <-chan error, out chan<- string) (string, error) {
	last := ""
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case err := <-errs:
			return last, err
		case m := <-msgs:
			if m.TimeNano != 0 {
				last = fmt.Sprintf("%d.%09d", m.TimeNano/int64(time.Second), m.TimeNano%int64(time.Second))
			}
			if !interesting(m.Action) {
				continue
			}
			select {
			case out <- m.Actor.ID:
			case <-ctx.Done():
				return last, ctx.Err()
			}
		}
	}
}

// interesting filters out what changes no container state the agent reads,
// notably the exec_* events every health-check probe causes.
func interesting(action events.Action) bool {
	a := string(action)
	switch {
	case strings.HasPrefix(a, "health_status"):
		return true
	case a == "create", a == "start", a == "die", a == "oom", a == "destroy", a == "stop", a == "kill",
		a == "pause", a == "unpause", a == "restart":
		return true
	default:
		return false
	}
}
