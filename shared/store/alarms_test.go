package store_test

import (
	"context"
	"testing"

	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/store"
)

func TestAlarmLifecycle(t *testing.T) {
	db, now := openDB(t)
	ctx := context.Background()
	def := scaling.AlarmDefinition{AlarmName: "high", Namespace: "AWS/ECS", MetricName: "CPUUtilization", Statistic: "Average",
		Period: 60, EvaluationPeriods: 3, Threshold: 75, ComparisonOperator: scaling.GreaterThanThreshold, AlarmActions: []string{"arn:p"}}
	a, err := db.PutAlarm(ctx, def, "arn:p")
	must(t, err)
	if a.StateValue != scaling.StateInsufficientData || a.StateReason != store.InitialAlarmReason || a.Berth.ManagedBy != "arn:p" {
		t.Fatalf("new alarm = %+v", a)
	}
	_, ok, err := db.UpdateAlarm(ctx, "high", func(a *store.Alarm) error {
		a.StateValue, a.StateReason = scaling.StateAlarm, "test"
		return nil
	})
	must(t, err)
	if !ok {
		t.Fatal("update found no alarm")
	}
	*now = now.Add(90)
	def.Threshold = 80
	a, err = db.PutAlarm(ctx, def, "arn:p")
	must(t, err)
	if a.StateValue != scaling.StateAlarm || a.Threshold != 80 {
		t.Fatalf("an updated alarm keeps its state and takes the new definition: %+v", a)
	}
	_, err = db.PutAlarm(ctx, scaling.AlarmDefinition{AlarmName: "another"}, "")
	must(t, err)
	all, err := db.Alarms(ctx)
	must(t, err)
	if len(all) != 2 || all[0].AlarmName != "another" {
		t.Fatalf("alarms = %+v", all)
	}
	must(t, db.DeleteAlarms(ctx, []string{"high", "missing", "high"}))
	if _, _, ok, _ := db.Alarm(ctx, "high"); ok {
		t.Fatal("deleted alarm still readable")
	}
	if _, ok, err := db.UpdateAlarm(ctx, "high", func(*store.Alarm) error { return nil }); ok || err != nil {
		t.Fatalf("update of a missing alarm: ok %v err %v", ok, err)
	}
}
