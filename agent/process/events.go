package process

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// stamp is what Events compares to notice a change: the state file's
// identity and whether the shim lives (a shim that dies without writing
// changes nothing else).
type stamp struct {
	mod   time.Time
	size  int64
	alive bool
}

// Events yields the id of every container whose state changed: at once for
// changes made through this driver and exits of shims it started, within
// pollInterval for the rest (adopted containers, health changes).
func (d *Driver) Events(ctx context.Context) <-chan string {
	out := make(chan string, 64)
	go d.watch(ctx, out)
	return out
}

func (d *Driver) watch(ctx context.Context, out chan<- string) {
	defer close(out)
	seen := d.scan()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wakeChan():
		case <-ticker.C:
		}
		now := d.scan()
		for _, id := range changed(seen, now) {
			select {
			case out <- id:
			case <-ctx.Done():
				return
			}
		}
		seen = now
	}
}

func (d *Driver) scan() map[string]stamp {
	dirs, err := d.containerDirs()
	if err != nil {
		d.log.Warn("process driver: scan state", "error", err)
		return nil
	}
	out := make(map[string]stamp, len(dirs))
	for _, dir := range dirs {
		info, err := os.Stat(filepath.Join(dir, stateFile))
		if err != nil {
			continue
		}
		alive, _ := shimAlive(dir)
		out[filepath.Base(dir)] = stamp{mod: info.ModTime(), size: info.Size(), alive: alive}
	}
	return out
}

// changed lists the ids that appeared, changed or disappeared.
func changed(before, after map[string]stamp) []string {
	var ids []string
	for id, s := range after {
		if old, ok := before[id]; !ok || old != s {
			ids = append(ids, id)
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			ids = append(ids, id)
		}
	}
	return ids
}
