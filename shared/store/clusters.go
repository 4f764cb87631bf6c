package store

import (
	"context"
	"errors"

	"github.com/berth-run/berth/shared/ecs"
)

// clusterRecord is a cluster as stored; its counts are derived on read.
type clusterRecord struct {
	ecs.Cluster
}

// CreateCluster creates the named cluster, or returns it unchanged when it
// already exists and is ACTIVE (ECS's CreateCluster is idempotent). An
// INACTIVE cluster of that name is replaced by a fresh one.
func (db *DB) CreateCluster(ctx context.Context, c ecs.Cluster) (ecs.Cluster, error) {
	var out ecs.Cluster
	err := retry(ctx, "create cluster "+c.ClusterName, func() error {
		var existing clusterRecord
		version, err := db.getJSON(ctx, clusterKey(c.ClusterName), &existing)
		switch {
		case err == nil && existing.Status == ecs.ClusterActive:
			out = existing.Cluster
			return nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		rec := clusterRecord{Cluster: c}
		rec.ClusterArn = db.acct.ClusterARN(c.ClusterName)
		rec.Status = ecs.ClusterActive
		w, err := putWrite(clusterKey(c.ClusterName), rec, version)
		if err != nil {
			return err
		}
		out = rec.Cluster
		return db.s.Transact(ctx, []Write{w})
	})
	return out, err
}

// Cluster reads a cluster by name; ok is false when it was never created.
func (db *DB) Cluster(ctx context.Context, name string) (c ecs.Cluster, version int64, ok bool, err error) {
	var rec clusterRecord
	version, err = db.getJSON(ctx, clusterKey(name), &rec)
	if errors.Is(err, ErrNotFound) {
		return ecs.Cluster{}, 0, false, nil
	}
	if err != nil {
		return ecs.Cluster{}, 0, false, err
	}
	return rec.Cluster, version, true, nil
}

// ActiveCluster reads a cluster that must exist and be ACTIVE, else
// ClusterNotFoundException.
func (db *DB) ActiveCluster(ctx context.Context, name string) (ecs.Cluster, int64, error) {
	c, v, ok, err := db.Cluster(ctx, name)
	if err != nil {
		return c, 0, err
	}
	if !ok || c.Status != ecs.ClusterActive {
		return c, 0, ecs.ClusterNotFound()
	}
	return c, v, nil
}

// ClusterCounts fills a cluster's derived counts from its instances, its
// tasks that should be running, and its services.
func (db *DB) ClusterCounts(ctx context.Context, c *ecs.Cluster) error {
	c.RegisteredContainerInstancesCount, c.RunningTasksCount, c.PendingTasksCount, c.ActiveServicesCount = 0, 0, 0, 0
	instances, err := db.Instances(ctx, c.ClusterName)
	if err != nil {
		return err
	}
	for _, ci := range instances {
		if ci.Status == ecs.InstanceActive || ci.Status == ecs.InstanceDraining {
			c.RegisteredContainerInstancesCount++
		}
	}
	live, err := db.all(ctx, Query{Index: GSI2, PK: tasksByClusterPK(c.ClusterName), Prefix: ecs.TaskRunning + "#"})
	if err != nil {
		return err
	}
	tasks, err := db.decodeTasks(live)
	if err != nil {
		return err
	}
	c.RunningTasksCount, c.PendingTasksCount = countByStatus(tasks)
	services, err := db.all(ctx, Query{PK: servicesPK(c.ClusterName)})
	if err != nil {
		return err
	}
	for _, it := range services {
		s, err := decode[serviceStatusOnly](it)
		if err != nil {
			return err
		}
		if s.Status == ecs.ServiceActive {
			c.ActiveServicesCount++
		}
	}
	return nil
}

// serviceStatusOnly decodes just a service's status.
type serviceStatusOnly struct {
	Status string `json:"status"`
}

// ListClusters pages through cluster ARNs in name order, ACTIVE ones only.
func (db *DB) ListClusters(ctx context.Context, token string, maxResults *int) (Page, error) {
	limit, err := pageLimit(maxResults, 100, 100)
	if err != nil {
		return Page{}, err
	}
	items, next, err := db.scan(ctx, Query{PK: pkClusters}, token, limit, func(it Item) (bool, error) {
		rec, err := decode[clusterRecord](it)
		return err == nil && rec.Status == ecs.ClusterActive, err
	})
	if err != nil {
		return Page{}, err
	}
	page := Page{NextToken: next, Items: []string{}}
	for _, it := range items {
		page.Items = append(page.Items, db.acct.ClusterARN(it.SK))
	}
	return page, nil
}

// DeleteCluster marks a cluster INACTIVE, refusing while it has registered
// instances, active services or running tasks. Registrations and service
// creations bump the cluster's version, so a delete racing one of them
// fails its condition and re-checks.
func (db *DB) DeleteCluster(ctx context.Context, name string) (ecs.Cluster, error) {
	var out ecs.Cluster
	err := retry(ctx, "delete cluster "+name, func() error {
		c, version, err := db.ActiveCluster(ctx, name)
		if err != nil {
			return err
		}
		if err := db.ClusterCounts(ctx, &c); err != nil {
			return err
		}
		switch {
		case c.RegisteredContainerInstancesCount > 0:
			return ecs.Errorf(ecs.ClusterContainsContainerInstancesException, "The Cluster cannot be deleted while Container Instances are active or draining.")
		case c.ActiveServicesCount > 0:
			return ecs.Errorf(ecs.ClusterContainsServicesException, "The Cluster cannot be deleted while Services are active.")
		case c.RunningTasksCount+c.PendingTasksCount > 0:
			return ecs.Errorf(ecs.ClusterContainsTasksException, "The Cluster cannot be deleted while Tasks are active.")
		}
		c.Status = ecs.ClusterInactive
		w, err := putWrite(clusterKey(name), clusterRecord{Cluster: c}, version)
		if err != nil {
			return err
		}
		out = c
		return db.s.Transact(ctx, []Write{w})
	})
	return out, err
}

// UpdateCluster applies change to an ACTIVE cluster under its version;
// change may return ErrUnchanged to write nothing.
func (db *DB) UpdateCluster(ctx context.Context, name string, change func(*ecs.Cluster) error) (ecs.Cluster, error) {
	var out ecs.Cluster
	err := retry(ctx, "update cluster "+name, func() error {
		c, version, err := db.ActiveCluster(ctx, name)
		if err != nil {
			return err
		}
		err = change(&c)
		if errors.Is(err, ErrUnchanged) {
			out = c
			return nil
		}
		if err != nil {
			return err
		}
		w, err := putWrite(clusterKey(name), clusterRecord{Cluster: c}, version)
		if err != nil {
			return err
		}
		out = c
		return db.s.Transact(ctx, []Write{w})
	})
	return out, err
}

// bumpCluster is a write that fails unless the cluster is still at version
// and ACTIVE, and moves its version on, so deletes see the change.
func bumpCluster(c ecs.Cluster, version int64) (Write, error) {
	return putWrite(clusterKey(c.ClusterName), clusterRecord{Cluster: c}, version)
}
