package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

var (
	acct = ecs.Account{Region: "us-east-1", ID: "000000000000"}
	t0   = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
)

func openDB(t *testing.T) (*store.DB, *time.Time) {
	t.Helper()
	b, err := bolt.Open(t.TempDir() + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	now := t0
	n := 0
	db := store.NewDB(b, acct, func() time.Time { return now }, func() string { n++; return fmt.Sprintf("%032x", n) })
	return db, &now
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func key(service string) scaling.TargetKey {
	return scaling.TargetKey{ServiceNamespace: scaling.NamespaceECS, ResourceID: "service/web/" + service, ScalableDimension: scaling.DimensionDesired}
}

func createService(t *testing.T, db *store.DB, name string, desired int) {
	t.Helper()
	ctx := context.Background()
	if _, _, ok, err := db.Cluster(ctx, "web"); err != nil || !ok {
		_, err := db.CreateCluster(ctx, ecs.Cluster{ClusterName: "web", ClusterArn: acct.ClusterARN("web"), Status: ecs.ClusterActive})
		must(t, err)
	}
	_, err := db.CreateService(ctx, store.Service{
		Service: ecs.Service{ServiceName: name, ServiceArn: acct.ServiceARN("web", name), ClusterArn: acct.ClusterARN("web"),
			Status: ecs.ServiceActive, DesiredCount: desired},
		Berth: store.ServiceState{Cluster: "web"},
	})
	must(t, err)
}

// register writes a new target through UpdateScaling.
func register(t *testing.T, db *store.DB, k scaling.TargetKey, minCap, maxCap int32) {
	t.Helper()
	must(t, db.UpdateScaling(context.Background(), k, false, func(tx *store.ScalingTx) error {
		tx.Target = &store.ScalableTarget{ScalableTarget: scaling.ScalableTarget{
			ServiceNamespace: k.ServiceNamespace, ResourceID: k.ResourceID, ScalableDimension: k.ScalableDimension,
			MinCapacity: minCap, MaxCapacity: maxCap,
		}}
		tx.PutTarget = true
		return nil
	}))
}

func policy(k scaling.TargetKey, name string) scaling.ScalingPolicy {
	return scaling.ScalingPolicy{PolicyName: name, PolicyARN: "arn:" + name, ServiceNamespace: k.ServiceNamespace,
		ResourceID: k.ResourceID, ScalableDimension: k.ScalableDimension, PolicyType: scaling.PolicyTypeStepScaling}
}

func TestScalingTargetPoliciesAndServiceCommitTogether(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	createService(t, db, "api", 2)
	k := key("api")
	register(t, db, k, 1, 10)
	must(t, db.UpdateScaling(ctx, k, false, func(tx *store.ScalingTx) error {
		tx.PutPolicies = []scaling.ScalingPolicy{policy(k, "out"), policy(k, "in")}
		return nil
	}))

	// One transaction: desired count, cooldowns and an activity.
	must(t, db.UpdateScaling(ctx, k, true, func(tx *store.ScalingTx) error {
		if tx.Service == nil || tx.Service.DesiredCount != 2 {
			return fmt.Errorf("service read = %+v", tx.Service)
		}
		if len(tx.Policies) != 2 || tx.Policies[0].PolicyName != "in" {
			return fmt.Errorf("policies read in name order = %+v", tx.Policies)
		}
		tx.Service.DesiredCount = 5
		tx.PutService = true
		tx.Target.Berth.Cooldowns = scaling.Cooldowns{"out": {ScaleOutAt: t0, ScaleOutAdded: 3}}
		tx.PutTarget = true
		tx.Activities = []scaling.ScalingActivity{{ActivityID: "a1", ResourceID: k.ResourceID, ScalableDimension: k.ScalableDimension,
			ServiceNamespace: k.ServiceNamespace, StartTime: ecs.At(t0), StatusCode: scaling.ActivitySuccessful}}
		return nil
	}))
	s, _, _, err := db.Service(ctx, "web", "api")
	must(t, err)
	target, policies, err := db.ScalingState(ctx, k)
	must(t, err)
	if s.DesiredCount != 5 || target.Berth.Cooldowns["out"].ScaleOutAdded != 3 || len(policies) != 2 {
		t.Fatalf("after commit: desired %d, cooldowns %+v, %d policies", s.DesiredCount, target.Berth.Cooldowns, len(policies))
	}
	acts, next, err := db.ScalingActivities(ctx, scaling.NamespaceECS, k.ResourceID, "", "", 50, func(scaling.ScalingActivity) bool { return true })
	must(t, err)
	if len(acts) != 1 || acts[0].ActivityID != "a1" || next != "" {
		t.Fatalf("activities = %+v, next %q", acts, next)
	}
}

func TestScalingConflictRereads(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	createService(t, db, "api", 2)
	k := key("api")
	register(t, db, k, 1, 10)
	calls := 0
	must(t, db.UpdateScaling(ctx, k, true, func(tx *store.ScalingTx) error {
		calls++
		if calls == 1 {
			// Someone else changes the service between our read and commit.
			_, err := db.UpdateService(ctx, "web", "api", func(s *store.Service) error { s.DesiredCount = 7; return nil })
			must(t, err)
		}
		tx.Service.DesiredCount++
		tx.PutService = true
		return nil
	}))
	s, _, _, err := db.Service(ctx, "web", "api")
	must(t, err)
	if calls != 2 || s.DesiredCount != 8 {
		t.Fatalf("calls %d, desired %d; want a re-read and 8", calls, s.DesiredCount)
	}
}

func TestPolicyBesideDeregisteredTargetConflicts(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	k := key("api")
	register(t, db, k, 1, 10)
	calls := 0
	err := db.UpdateScaling(ctx, k, false, func(tx *store.ScalingTx) error {
		calls++
		if tx.Target == nil {
			return scaling.NoScalableTarget(k.ServiceNamespace, k.ResourceID, k.ScalableDimension)
		}
		if calls == 1 {
			must(t, db.UpdateScaling(ctx, k, false, func(tx *store.ScalingTx) error { tx.DeleteTarget = true; return nil }))
		}
		tx.PutPolicies = []scaling.ScalingPolicy{policy(k, "late")}
		return nil
	})
	if !ecs.IsCode(err, scaling.ObjectNotFoundException) || calls != 2 {
		t.Fatalf("err = %v after %d calls; want ObjectNotFoundException on the re-read", err, calls)
	}
	if _, policies, _ := db.ScalingState(ctx, k); len(policies) != 0 {
		t.Fatalf("a policy was written beside a deleted target: %+v", policies)
	}
}

func TestScalingActivitiesAreNewestFirstAndBounded(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	k := key("api")
	register(t, db, k, 1, 10)
	total := store.MaxScalingActivities + 5
	for i := range total {
		must(t, db.UpdateScaling(ctx, k, false, func(tx *store.ScalingTx) error {
			tx.PutTarget = true
			tx.Activities = []scaling.ScalingActivity{{ActivityID: fmt.Sprint(i), ServiceNamespace: k.ServiceNamespace, ResourceID: k.ResourceID,
				ScalableDimension: k.ScalableDimension, StartTime: ecs.At(t0)}} // same start: numbering must still be unique
			return nil
		}))
	}
	var all []scaling.ScalingActivity
	token := ""
	for {
		page, next, err := db.ScalingActivities(ctx, scaling.NamespaceECS, k.ResourceID, "", token, 30, func(scaling.ScalingActivity) bool { return true })
		must(t, err)
		all = append(all, page...)
		if next == "" {
			break
		}
		token = next
	}
	if len(all) != store.MaxScalingActivities {
		t.Fatalf("kept %d activities, want %d", len(all), store.MaxScalingActivities)
	}
	if all[0].ActivityID != fmt.Sprint(total-1) || all[len(all)-1].ActivityID != fmt.Sprint(total-store.MaxScalingActivities) {
		t.Fatalf("order: first %s last %s", all[0].ActivityID, all[len(all)-1].ActivityID)
	}
	ns, _, err := db.ScalingActivities(ctx, scaling.NamespaceECS, "", "", "", 5, func(scaling.ScalingActivity) bool { return true })
	must(t, err)
	if len(ns) != 5 {
		t.Fatalf("namespace listing: %d activities", len(ns))
	}
}

func TestListingTargetsAndPolicies(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	for _, s := range []string{"c", "a", "b"} {
		k := key(s)
		register(t, db, k, 0, 3)
		must(t, db.UpdateScaling(ctx, k, false, func(tx *store.ScalingTx) error {
			tx.PutPolicies = []scaling.ScalingPolicy{policy(k, "p1"), policy(k, "p2")}
			return nil
		}))
	}
	var ids []string
	token := ""
	for {
		page, next, err := db.ScalableTargets(ctx, scaling.NamespaceECS, nil, "", token, 2)
		must(t, err)
		for _, tg := range page {
			ids = append(ids, tg.ResourceID)
		}
		if next == "" {
			break
		}
		token = next
	}
	if fmt.Sprint(ids) != "[service/web/a service/web/b service/web/c]" {
		t.Fatalf("all targets = %v", ids)
	}
	named, next, err := db.ScalableTargets(ctx, scaling.NamespaceECS, []string{"service/web/c", "service/web/zz", "service/web/a", "service/web/c"}, "", "", 1)
	must(t, err)
	if len(named) != 1 || named[0].ResourceID != "service/web/a" || next == "" {
		t.Fatalf("named page 1 = %+v next %q", named, next)
	}
	named, next, err = db.ScalableTargets(ctx, scaling.NamespaceECS, []string{"service/web/c", "service/web/zz", "service/web/a"}, "", next, 5)
	must(t, err)
	if len(named) != 1 || named[0].ResourceID != "service/web/c" || next != "" {
		t.Fatalf("named page 2 = %+v next %q", named, next)
	}
	if _, _, err := db.ScalableTargets(ctx, scaling.NamespaceECS, nil, "", "bogus", 2); !errors.Is(err, store.ErrInvalidToken) {
		t.Fatalf("bad token: %v", err)
	}

	ps, _, err := db.ScalingPolicies(ctx, store.PolicyFilter{Namespace: scaling.NamespaceECS}, "", 50)
	must(t, err)
	if len(ps) != 6 {
		t.Fatalf("namespace policies = %d", len(ps))
	}
	ps, _, err = db.ScalingPolicies(ctx, store.PolicyFilter{Namespace: scaling.NamespaceECS, ResourceID: "service/web/b", Names: []string{"p2"}}, "", 50)
	must(t, err)
	if len(ps) != 1 || ps[0].ResourceID != "service/web/b" || ps[0].PolicyName != "p2" {
		t.Fatalf("filtered policies = %+v", ps)
	}
}

func TestScalingItemKinds(t *testing.T) {
	db, _ := openDB(t)
	ctx := context.Background()
	k := key("api")
	register(t, db, k, 0, 3)
	must(t, db.UpdateScaling(ctx, k, false, func(tx *store.ScalingTx) error {
		tx.PutTarget = true
		tx.PutPolicies = []scaling.ScalingPolicy{policy(k, "p")}
		tx.Activities = []scaling.ScalingActivity{{ActivityID: "x", StartTime: ecs.At(t0)}}
		return nil
	}))
	_, err := db.PutAlarm(ctx, scaling.AlarmDefinition{AlarmName: "al"}, "")
	must(t, err)
	must(t, db.RecordUsage(ctx, "i1", t0, []store.ServiceUsage{{Cluster: "web", Service: "api", CPUUsed: 1, CPUReserved: 2}}))
	want := map[store.Kind]int{store.KindScalableTarget: 1, store.KindScalingPolicy: 1, store.KindScalingActivity: 1, store.KindAlarm: 1, store.KindMetric: 1}
	got := map[store.Kind]int{}
	for _, q := range []store.Query{
		{PK: "AS#ecs#service/web/api#ecs:service:DesiredCount"},
		{PK: "AS#ecs#ACT#service/web/api#ecs:service:DesiredCount"},
		{PK: "CW#ALARM"},
		{PK: "CW#ECS#web#api"},
	} {
		items, _, err := db.Store().Query(ctx, q)
		must(t, err)
		for _, it := range items {
			got[store.KindOf(it.Key)]++
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	if store.KindOf(store.Key{PK: "C#web#S", SK: "api"}) != store.KindService {
		t.Fatal("existing kinds must not move")
	}
}
