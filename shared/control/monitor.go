package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
)

// Tick is the monitor's periodic pass (every minute in AWS, every few
// seconds in `berth up`): it catches what no event announces, an agent
// falling silent, and reconciles every live service, so that an event lost
// on the way, a retry's back-off ending or a task turning healthy by age is
// acted on. An agent silent past DisconnectAfter is marked
// agentConnected=false, so nothing more is placed on its instance; past
// LostAfter its host is declared lost and its tasks are stopped with a
// reason, releasing their resources. If the agent comes back, its next poll
// no longer lists those tasks and it stops them.
func (c *Control) Tick(ctx context.Context) error {
	clusters, err := c.allClusters(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range clusters {
		if err := c.checkHosts(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("check hosts of cluster %s: %w", name, err))
		}
		if err := c.reconcileCluster(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("reconcile services of cluster %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Control) allClusters(ctx context.Context) ([]string, error) {
	var names []string
	token := ""
	for {
		page, err := c.db.ListClusters(ctx, token, nil)
		if err != nil {
			return nil, err
		}
		for _, arn := range page.Items {
			name, err := ecs.ClusterName(arn)
			if err != nil {
				return nil, err
			}
			names = append(names, name)
		}
		if page.NextToken == "" {
			return names, nil
		}
		token = page.NextToken
	}
}

func (c *Control) checkHosts(ctx context.Context, cluster string) error {
	instances, err := c.db.Instances(ctx, cluster)
	if err != nil {
		return err
	}
	var ids []string
	for _, in := range instances {
		if in.Status != ecs.InstanceInactive {
			ids = append(ids, in.ID())
		}
	}
	last, err := c.db.LastHeartbeats(ctx, cluster, ids)
	if err != nil {
		return err
	}
	now := c.now()
	for _, in := range instances {
		if in.Status == ecs.InstanceInactive {
			continue
		}
		silent := now.Sub(last[in.ID()])
		if silent > c.timings.LostAfter {
			if err := c.declareLost(ctx, in, last[in.ID()]); err != nil {
				return err
			}
		} else if silent > c.timings.DisconnectAfter && in.AgentConnected {
			if err := c.setConnected(ctx, cluster, in.ID(), false); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Control) setConnected(ctx context.Context, cluster, id string, connected bool) error {
	_, err := c.db.UpdateInstance(ctx, cluster, id, func(in *store.Instance) error {
		if in.AgentConnected == connected {
			return store.ErrUnchanged
		}
		in.AgentConnected = connected
		return nil
	})
	return err
}

// declareLost disconnects the instance and stops every task still on it.
func (c *Control) declareLost(ctx context.Context, in store.Instance, lastSeen time.Time) error {
	if err := c.setConnected(ctx, in.Berth.Cluster, in.ID(), false); err != nil {
		return err
	}
	if in.UnstoppedTasks() == 0 {
		return nil
	}
	tasks, err := c.db.TasksOnInstance(ctx, in.Berth.Cluster, in.ID())
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("Host lost: the agent on container instance %s has not reported since %s.", in.ID(), lastSeen.UTC().Format(time.RFC3339))
	for _, t := range tasks {
		if t.Stopped() {
			continue
		}
		if err := c.forceStop(ctx, t.Berth.Cluster, t.ID(), reason, ecs.StopInfrastructureHealth); err != nil {
			return err
		}
	}
	return nil
}

// forceStop records a task as STOPPED without its agent's word (its host is
// gone), releasing its resources in the same write.
func (c *Control) forceStop(ctx context.Context, cluster, id, reason, code string) error {
	now := ecs.At(c.now())
	_, err := c.db.UpdateTask(ctx, cluster, id, func(t *store.Task) error {
		if t.Stopped() {
			return store.ErrUnchanged
		}
		t.DesiredStatus, t.LastStatus = ecs.TaskStopped, ecs.TaskStopped
		if t.StoppedReason == "" {
			t.StoppedReason = reason
		}
		if t.StopCode == "" {
			t.StopCode = code
		}
		setOnce(&t.StoppingAt, now)
		t.StoppedAt, t.ExecutionStoppedAt = now, now
		for i := range t.Containers {
			t.Containers[i].LastStatus = ecs.ContainerStopped
		}
		return nil
	})
	return err
}
