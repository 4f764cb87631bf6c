package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// RecordHeartbeat notes that an instance's agent polled now, writing at most
// once per minGap so that frequent polls do not each cost a write.
func (db *DB) RecordHeartbeat(ctx context.Context, cluster, id string, minGap time.Duration) error {
	var hb Heartbeat
	_, err := db.getJSON(ctx, heartbeatKey(cluster, id), &hb)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	now := db.now()
	if err == nil && now.Sub(hb.At.Time) < minGap {
		return nil
	}
	w, err := putWrite(heartbeatKey(cluster, id), Heartbeat{At: db.stamp()}, AnyVersion)
	if err != nil {
		return err
	}
	return db.s.Transact(ctx, []Write{w})
}

// LastHeartbeats reads when each instance's agent last polled (zero time
// when never), in batches of 100.
func (db *DB) LastHeartbeats(ctx context.Context, cluster string, ids []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(ids))
	for start := 0; start < len(ids); start += 100 {
		batch := ids[start:min(start+100, len(ids))]
		keys := make([]Key, len(batch))
		for i, id := range batch {
			keys[i] = heartbeatKey(cluster, id)
		}
		items, err := db.s.BatchGet(ctx, keys)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			hb, err := decode[Heartbeat](it)
			if err != nil {
				return nil, err
			}
			out[instanceIDOfHeartbeat(it.Key)] = hb.At.Time
		}
	}
	return out, nil
}

// instanceIDOfHeartbeat recovers the instance ID from a heartbeat key.
func instanceIDOfHeartbeat(k Key) string {
	_, id, _ := strings.Cut(k.PK[len("C#"):], "#HB#")
	return id
}
