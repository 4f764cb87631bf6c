package control

import (
	"encoding/json"
	"sync"

	"github.com/berth-run/berth/shared/store"
)

// ChangeWaiter wakes long polls when the store changes what an instance's
// agent must do. Feed it the store's changes with Handle.
type ChangeWaiter struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

var _ Waiter = (*ChangeWaiter)(nil)

// NewChangeWaiter returns a waiter with no one waiting.
func NewChangeWaiter() *ChangeWaiter {
	return &ChangeWaiter{waiting: map[string]chan struct{}{}}
}

func instanceWaitKey(cluster, id string) string { return cluster + "/" + id }

// Changed returns a channel closed at the next change for the instance.
func (w *ChangeWaiter) Changed(cluster, instanceID string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := instanceWaitKey(cluster, instanceID)
	ch, ok := w.waiting[key]
	if !ok {
		ch = make(chan struct{})
		w.waiting[key] = ch
	}
	return ch
}

// Handle wakes the waiters of every instance a batch of changes touches:
// the instance itself or a task placed on it.
func (w *ChangeWaiter) Handle(changes []store.Change) {
	for _, ch := range changes {
		if key, ok := waitKeyOf(ch); ok {
			w.wake(key)
		}
	}
}

func (w *ChangeWaiter) wake(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[key]; ok {
		close(ch)
		delete(w.waiting, key)
	}
}

// waitKeyOf finds the instance a change concerns.
func waitKeyOf(ch store.Change) (string, bool) {
	img := ch.New
	if img == nil {
		img = ch.Old
	}
	if img == nil {
		return "", false
	}
	switch store.KindOf(ch.Key) {
	case store.KindTask:
		var t struct {
			Berth store.TaskState `json:"berth"`
		}
		if json.Unmarshal(img.Data, &t) != nil {
			return "", false
		}
		return instanceWaitKey(t.Berth.Cluster, t.Berth.InstanceID), true
	case store.KindInstance:
		var in struct {
			Berth store.InstanceState `json:"berth"`
		}
		if json.Unmarshal(img.Data, &in) != nil {
			return "", false
		}
		return instanceWaitKey(in.Berth.Cluster, ch.Key.SK), true
	}
	return "", false
}
