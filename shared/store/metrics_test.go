package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/store"
)

func TestUtilizationIsUsedOverReservedPerMinute(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	web := func(used, reserved, mem, memRes float64) store.ServiceUsage {
		return store.ServiceUsage{Cluster: "web", Service: "api", CPUUsed: used, CPUReserved: reserved, MemoryUsed: mem, MemoryReserved: memRes}
	}
	m0 := t0.Add(-10 * time.Minute)
	// Two instances report in minute m0; one twice.
	must(t, db.RecordUsage(ctx, "i1", m0.Add(5*time.Second), []store.ServiceUsage{web(512, 1024, 100, 200)}))
	must(t, db.RecordUsage(ctx, "i1", m0.Add(35*time.Second), []store.ServiceUsage{web(1024, 1024, 100, 200)}))
	must(t, db.RecordUsage(ctx, "i2", m0.Add(40*time.Second), []store.ServiceUsage{web(0, 2048, 0, 0)}))
	// A minute later, only CPU, and another service beside it.
	must(t, db.RecordUsage(ctx, "i1", m0.Add(70*time.Second), []store.ServiceUsage{web(256, 1024, 0, 0),
		{Cluster: "web", Service: "other", CPUUsed: 1, CPUReserved: 1}}))
	// Too old to be read.
	must(t, db.RecordUsage(ctx, "i1", m0.Add(-5*time.Minute), []store.ServiceUsage{web(1024, 1024, 0, 0)}))

	got, err := db.ServiceUtilization(ctx, "web", "api", m0)
	must(t, err)
	want := []store.Utilization{
		{Minute: m0, CPU: 100 * 1536.0 / 4096, Memory: 50, HasMemory: true},
		{Minute: m0.Add(time.Minute), CPU: 25},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("utilization = %+v\nwant %+v", got, want)
	}
	none, err := db.ServiceUtilization(ctx, "web", "nothing", m0)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("a service without reports has no utilization: %+v", none)
	}
}

func TestUtilizationReadsAcrossPages(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	start := t0.Add(-6 * time.Hour)
	for m := range 300 {
		must(t, db.RecordUsage(ctx, "i1", start.Add(time.Duration(m)*time.Minute), []store.ServiceUsage{
			{Cluster: "web", Service: "api", CPUUsed: float64(m % 100), CPUReserved: 100}}))
	}
	got, err := db.ServiceUtilization(ctx, "web", "api", start.Add(20*time.Minute))
	must(t, err)
	if len(got) != 280 || got[0].Minute != start.Add(20*time.Minute) || got[len(got)-1].CPU != 99 {
		t.Fatalf("read %d minutes, first %v, last %+v", len(got), got[0].Minute, got[len(got)-1])
	}
}
