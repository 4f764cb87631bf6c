package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ServiceUsage is what one instance's tasks of one service used during a
// report, beside what they reserved.
type ServiceUsage struct {
	Cluster, Service string
	// CPUUsed and CPUReserved are CPU units (1024 per vCPU).
	CPUUsed, CPUReserved float64
	// MemoryUsed and MemoryReserved are MiB; MemoryReserved is 0 when the
	// tasks reserved no memory.
	MemoryUsed, MemoryReserved float64
}

// usageRecord is the per-minute, per-instance sum of a service's usage
// reports: utilization over a minute is ΣUsed / ΣReserved, as CloudWatch's
// ECS service metrics are (total used over total reserved).
type usageRecord struct {
	CPUUsed        float64 `json:"cpuUsed"`
	CPUReserved    float64 `json:"cpuReserved"`
	MemoryUsed     float64 `json:"memoryUsed"`
	MemoryReserved float64 `json:"memoryReserved"`
}

// MetricRetention is how long per-minute utilization is kept.
const MetricRetention = 24 * time.Hour

// RecordUsage adds an instance's report to the minute at falls in, one
// item per service, in one transaction per hundred services.
func (db *DB) RecordUsage(ctx context.Context, instanceID string, at time.Time, usage []ServiceUsage) error {
	minute := at.Unix() / 60
	for start := 0; start < len(usage); start += MaxTransactItems {
		batch := usage[start:min(start+MaxTransactItems, len(usage))]
		err := retry(ctx, "record usage of instance "+instanceID, func() error {
			return db.addUsage(ctx, instanceID, minute, batch)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) addUsage(ctx context.Context, instanceID string, minute int64, batch []ServiceUsage) error {
	merged := map[Key]usageRecord{}
	var keys []Key
	for _, u := range batch {
		k := metricKey(u.Cluster, u.Service, minute, instanceID)
		r, seen := merged[k]
		if !seen {
			keys = append(keys, k)
		}
		r.CPUUsed += u.CPUUsed
		r.CPUReserved += u.CPUReserved
		r.MemoryUsed += u.MemoryUsed
		r.MemoryReserved += u.MemoryReserved
		merged[k] = r
	}
	items, err := db.s.BatchGet(ctx, keys)
	if err != nil {
		return err
	}
	versions := make(map[Key]int64, len(items))
	for _, it := range items {
		old, err := decode[usageRecord](it)
		if err != nil {
			return err
		}
		versions[it.Key] = it.Version
		r := merged[it.Key]
		r.CPUUsed += old.CPUUsed
		r.CPUReserved += old.CPUReserved
		r.MemoryUsed += old.MemoryUsed
		r.MemoryReserved += old.MemoryReserved
		merged[it.Key] = r
	}
	writes := make([]Write, 0, len(keys))
	for _, k := range keys {
		w, err := putWrite(k, merged[k], versions[k])
		if err != nil {
			return err
		}
		w.Item.ExpiresAt = (minute+1)*60 + int64(MetricRetention/time.Second)
		writes = append(writes, w)
	}
	return db.s.Transact(ctx, writes)
}

// Utilization is a service's utilization over one minute, in percent of
// what its tasks reserved; HasMemory is false when they reserved no memory.
type Utilization struct {
	Minute    time.Time
	CPU       float64
	Memory    float64
	HasMemory bool
}

// ServiceUtilization reads a service's per-minute utilization from the
// minute holding since onward, oldest first: one Query, read newest first
// and stopped at since.
func (db *DB) ServiceUtilization(ctx context.Context, cluster, service string, since time.Time) ([]Utilization, error) {
	from := since.Unix() / 60
	sums := map[int64]*usageRecord{}
	var minutes []int64
	q := Query{PK: metricsPK(cluster, service), Reverse: true, Limit: 200}
	for {
		items, next, err := db.s.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read utilization of %s/%s: %w", cluster, service, err)
		}
		for _, it := range items {
			minute, err := minuteOf(it.Key)
			if err != nil {
				return nil, err
			}
			if minute < from {
				return utilizations(minutes, sums), nil
			}
			r, err := decode[usageRecord](it)
			if err != nil {
				return nil, err
			}
			acc, ok := sums[minute]
			if !ok {
				acc = &usageRecord{}
				sums[minute] = acc
				minutes = append(minutes, minute)
			}
			acc.CPUUsed += r.CPUUsed
			acc.CPUReserved += r.CPUReserved
			acc.MemoryUsed += r.MemoryUsed
			acc.MemoryReserved += r.MemoryReserved
		}
		if next == "" {
			return utilizations(minutes, sums), nil
		}
		q.Cursor = next
	}
}

func minuteOf(k Key) (int64, error) {
	digits, _, _ := strings.Cut(k.SK, "#")
	m, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("metric item %s: bad minute: %w", k, err)
	}
	return m, nil
}

// utilizations turns summed minutes (read newest first) into percentages,
// oldest first; minutes without reserved CPU are left out.
func utilizations(minutes []int64, sums map[int64]*usageRecord) []Utilization {
	out := make([]Utilization, 0, len(minutes))
	for i := len(minutes) - 1; i >= 0; i-- {
		r := sums[minutes[i]]
		if r.CPUReserved <= 0 {
			continue
		}
		u := Utilization{Minute: time.Unix(minutes[i]*60, 0).UTC(), CPU: 100 * r.CPUUsed / r.CPUReserved}
		if r.MemoryReserved > 0 {
			u.Memory, u.HasMemory = 100*r.MemoryUsed/r.MemoryReserved, true
		}
		out = append(out, u)
	}
	return out
}
