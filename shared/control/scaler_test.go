package control_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/store"
)

// stepEnv is service web (desired 2) registered 1..10 with a scale-out
// policy "out" behind alarm "high" (threshold 50) and a scale-in policy
// "in" behind alarm "low" (threshold 20).
func stepEnv(t *testing.T, cooldown int32) scaleEnv {
	t.Helper()
	e := newScaleEnv(t)
	e.service(t, "web", 2)
	e.register(t, "web", 1, 10)
	e.userAlarm(t, "high", 50, scaling.GreaterThanThreshold, e.stepPolicy(t, "web", "out", stepOut(cooldown)))
	e.userAlarm(t, "low", 20, scaling.LessThanThreshold, e.stepPolicy(t, "web", "in", stepIn(cooldown)))
	return e
}

func (e scaleEnv) wantDesired(t *testing.T, want int, when string) {
	t.Helper()
	if got := e.desired(t, "web"); got != want {
		t.Fatalf("%s: desired count %d, want %d", when, got, want)
	}
}

// TestStepScalingWithCooldowns is issue 7's scenario with an injected
// clock: +25 over the threshold adds the step's 3 tasks; a second ALARM
// within the cooldown adds nothing more; after it, 3 more; scale-in steps
// shrink the service, the second only after its cooldown.
func TestStepScalingWithCooldowns(t *testing.T) {
	e := stepEnv(t, 60)
	out := e.setState(t, "high", scaling.StateAlarm, reasonData(50, 75))
	e.wantDesired(t, 5, "breach of +25")
	if len(out) != 1 || !out[0].Applied || out[0].Decision.Policy != "out" {
		t.Fatalf("outcome = %+v", out)
	}

	e.clock.Advance(10 * time.Second)
	e.setState(t, "high", scaling.StateOK, reasonData(50, 40))
	e.setState(t, "high", scaling.StateAlarm, reasonData(50, 75))
	e.wantDesired(t, 5, "second ALARM within the cooldown")

	e.clock.Advance(51 * time.Second)
	e.setState(t, "high", scaling.StateOK, reasonData(50, 40))
	e.setState(t, "high", scaling.StateAlarm, reasonData(50, 75))
	e.wantDesired(t, 8, "ALARM after the cooldown")

	e.setState(t, "high", scaling.StateOK, reasonData(50, 40))
	e.setState(t, "low", scaling.StateAlarm, reasonData(20, 10))
	e.wantDesired(t, 7, "scale-in right after a scale-out")

	e.clock.Advance(30 * time.Second)
	e.setState(t, "low", scaling.StateOK, reasonData(20, 25))
	e.setState(t, "low", scaling.StateAlarm, reasonData(20, 10))
	e.wantDesired(t, 7, "scale-in within its cooldown")

	e.clock.Advance(31 * time.Second)
	e.setState(t, "low", scaling.StateOK, reasonData(20, 25))
	e.setState(t, "low", scaling.StateAlarm, reasonData(20, 10))
	e.wantDesired(t, 6, "scale-in after its cooldown")

	acts := e.activities(t, "web", false)
	var got []string
	for _, a := range acts {
		if a.StatusCode != scaling.ActivitySuccessful {
			t.Errorf("activity %+v is not Successful", a)
		}
		got = append(got, a.Description)
	}
	want := "Setting desired count to 6.|Setting desired count to 7.|Setting desired count to 8.|Setting desired count to 5."
	if strings.Join(got, "|") != want {
		t.Fatalf("activities newest first:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if acts[3].Cause != "monitor alarm high in state ALARM triggered policy out" || acts[3].StatusMessage != scaling.SuccessMessage(5) {
		t.Errorf("first activity = %+v", acts[3])
	}
	s, _, _, err := e.db.Service(e.ctx, "default", "web")
	if err != nil || s.Deployments[0].DesiredCount != 6 {
		t.Errorf("the PRIMARY deployment follows the desired count: %+v (%v)", s.Deployments, err)
	}
}

func TestDuplicateDeliveryActsOnce(t *testing.T) {
	e := stepEnv(t, 0)
	ok(e.alarms.SetAlarmState(e.ctx, &control.SetAlarmStateInput{AlarmName: "high", StateValue: scaling.StateAlarm, StateReason: "x", StateReasonData: reasonData(50, 75)}))(t)
	events := e.bus.take()
	if len(events) != 1 {
		t.Fatalf("one transition announces one event, got %d", len(events))
	}
	ok(e.a.HandleAlarmEvent(e.ctx, events[0]))(t)
	again := ok(e.a.HandleAlarmEvent(e.ctx, events[0]))(t)
	e.wantDesired(t, 5, "the same event delivered twice")
	if len(again) != 1 || !strings.Contains(again[0].Skipped, "duplicate") {
		t.Fatalf("second delivery outcome = %+v", again)
	}
	// Setting the same state again is no transition: no event.
	ok(e.alarms.SetAlarmState(e.ctx, &control.SetAlarmStateInput{AlarmName: "high", StateValue: scaling.StateAlarm, StateReason: "y", StateReasonData: reasonData(50, 75)}))(t)
	if n := len(e.bus.take()); n != 0 {
		t.Fatalf("setting the current state announced %d events", n)
	}
}

func TestAlarmStayingInAlarmRerunsEveryMinute(t *testing.T) {
	e := stepEnv(t, 0)
	e.setState(t, "high", scaling.StateAlarm, reasonData(50, 75))
	e.wantDesired(t, 5, "first ALARM")
	e.clock.Advance(30 * time.Second)
	ok(0, e.a.Tick(e.ctx))(t)
	e.wantDesired(t, 5, "tick 30 s later")
	e.clock.Advance(31 * time.Second)
	ok(0, e.a.Tick(e.ctx))(t)
	e.wantDesired(t, 8, "tick a minute later, alarm still in ALARM")
	ok(0, e.a.Tick(e.ctx))(t)
	e.wantDesired(t, 8, "a second tick in the same minute")
	e.setState(t, "high", scaling.StateOK, reasonData(50, 30))
	e.clock.Advance(2 * time.Minute)
	ok(0, e.a.Tick(e.ctx))(t)
	e.wantDesired(t, 8, "alarm back to OK")
}

func TestScaleInWaitsForDeploymentScaleOutDoesNot(t *testing.T) {
	e := stepEnv(t, 0)
	e.setService(t, "web", func(s *store.Service) {
		s.Deployments = []ecs.Deployment{
			{ID: "ecs-svc/2", Status: ecs.DeploymentPrimary, DesiredCount: 2, RolloutState: ecs.RolloutInProgress},
			{ID: "ecs-svc/1", Status: ecs.DeploymentActive, DesiredCount: 2, RolloutState: ecs.RolloutCompleted},
		}
	})
	e.setState(t, "low", scaling.StateAlarm, reasonData(20, 10))
	e.wantDesired(t, 2, "scale-in during a deployment")
	if n := len(e.activities(t, "web", false)); n != 0 {
		t.Fatalf("a not-scaled activity is listed without IncludeNotScaledActivities: %d", n)
	}
	acts := e.activities(t, "web", true)
	if len(acts) != 1 || acts[0].StatusCode != scaling.ActivityFailed || len(acts[0].NotScaledReasons) != 1 ||
		acts[0].NotScaledReasons[0].Code != scaling.NotScaledUnscalable {
		t.Fatalf("not-scaled activity = %+v", acts)
	}
	e.setState(t, "high", scaling.StateAlarm, reasonData(50, 60))
	e.wantDesired(t, 3, "scale-out during a deployment")
}

func TestSuspendedDynamicScaling(t *testing.T) {
	e := stepEnv(t, 0)
	ok(e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, SuspendedState: &scaling.SuspendedStateInput{DynamicScalingOutSuspended: boolp(true)}}))(t)
	e.setState(t, "high", scaling.StateAlarm, reasonData(50, 75))
	e.wantDesired(t, 2, "scale-out suspended")
	e.setState(t, "low", scaling.StateAlarm, reasonData(20, 10))
	e.wantDesired(t, 1, "scale-in not suspended")
	ok(e.a.RegisterScalableTarget(e.ctx, &scaling.RegisterScalableTargetInput{ServiceNamespace: "ecs", ResourceID: resource("web"),
		ScalableDimension: scaling.DimensionDesired, MaxCapacity: i32(10), SuspendedState: &scaling.SuspendedStateInput{
			DynamicScalingOutSuspended: boolp(false), DynamicScalingInSuspended: boolp(true)}}))(t)
	e.clock.Advance(time.Second) // a new transition, not a redelivery of the first
	e.setState(t, "high", scaling.StateOK, reasonData(50, 40))
	e.setState(t, "high", scaling.StateAlarm, reasonData(50, 55))
	e.wantDesired(t, 2, "scale-out resumed")
	e.setState(t, "low", scaling.StateOK, reasonData(20, 30))
	e.setState(t, "low", scaling.StateAlarm, reasonData(20, 10))
	e.wantDesired(t, 2, "scale-in suspended")
}

func TestScalingAnInactiveServiceRecordsAFailedActivity(t *testing.T) {
	e := stepEnv(t, 0)
	e.setService(t, "web", func(s *store.Service) { s.Status = ecs.ServiceDraining })
	out := e.setState(t, "high", scaling.StateAlarm, reasonData(50, 75))
	if len(out) != 1 || out[0].Applied {
		t.Fatalf("outcome = %+v", out)
	}
	e.wantDesired(t, 2, "service DRAINING")
	acts := e.activities(t, "web", false)
	if len(acts) != 1 || acts[0].StatusCode != scaling.ActivityFailed || !strings.Contains(acts[0].StatusMessage, "Failed to set desired count to 5") {
		t.Fatalf("activities = %+v", acts)
	}
}

func TestUnknownAlarmRunsThePolicyItsDescriptionNames(t *testing.T) {
	e := newScaleEnv(t, "6c1e9f53-2b7a-4d8e-a0f4-3e5d7c9b1a2f", "5e3c2b1a-9d8f-4e7a-b6c5-d4e3f2a1b0c9")
	e.service(t, "web", 4)
	e.register(t, "web", 1, 10)
	put := e.ttPolicy(t, "web", "cpu75", 75, 0)
	names := []string{put.Alarms[0].AlarmName, put.Alarms[1].AlarmName}
	ok(0, e.alarms.DeleteAlarms(e.ctx, names))(t)
	out := ok(e.a.HandleAlarmEvent(e.ctx, sample(t, "cloudwatch-alarm-state-change-alarm.json")))(t)
	if len(out) != 1 || !out[0].Applied {
		t.Fatalf("outcome = %+v", out)
	}
	e.wantDesired(t, 5, "TT alarm unknown to the alarm store")
}

// sample reads an event of the repository's events/ directory.
func sample(t *testing.T, name string) bus.Event {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var e bus.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// TestEverySampleAlarmEventIsHandled feeds every CloudWatch sample of
// events/ to the scaler of service/default/web (desired 4, 1..10) with a
// target tracking policy cpu75 (whose IDs the samples name), a step
// scale-out policy behind web-cpu-above-50 and a step scale-in policy
// behind web-cpu-below-20 (cooldowns 0).
func TestEverySampleAlarmEventIsHandled(t *testing.T) {
	cases := map[string]struct {
		desired int
		bad     bool
		skipped string
	}{
		"cloudwatch-alarm-state-change-alarm.json":      {desired: 5}, // ceil(4 × 90.1 / 75)
		"cloudwatch-alarm-state-change-ok.json":         {desired: 4, skipped: "alarm is OK"},
		"cloudwatch-alarm-step-breach-above.json":       {desired: 7}, // +25 → +3
		"cloudwatch-alarm-step-breach-below.json":       {desired: 3}, // −10 → −1
		"cloudwatch-alarm-insufficient-data.json":       {desired: 4, skipped: "alarm is INSUFFICIENT_DATA"},
		"cloudwatch-alarm-initial-creation.json":        {desired: 3}, // TT AlarmLow: one task fewer
		"cloudwatch-alarm-composite.json":               {desired: 4}, // no threshold to pick a step from
		"cloudwatch-alarm-malformed-reasondata.json":    {desired: 4, bad: true},
		"cloudwatch-alarm-set-state-no-reasondata.json": {desired: 4}, // no datapoints to pick a step from
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "cloudwatch-*.json"))
	if err != nil || len(files) != len(cases) {
		t.Fatalf("events/cloudwatch-*.json: %d files (%v), %d cases", len(files), err, len(cases))
	}
	for _, f := range files {
		name := filepath.Base(f)
		want, known := cases[name]
		if !known {
			t.Fatalf("sample %s has no expectation", name)
		}
		t.Run(name, func(t *testing.T) {
			e := samplesEnv(t)
			out, err := e.a.HandleAlarmEvent(e.ctx, sample(t, name))
			if want.bad != errors.Is(err, control.ErrBadAlarmEvent) {
				t.Fatalf("error = %v", err)
			}
			if !want.bad && err != nil {
				t.Fatal(err)
			}
			if want.bad && !strings.Contains(err.Error(), "reasonData of ALARM state is malformed") {
				t.Errorf("the error should say what is wrong: %v", err)
			}
			if want.skipped != "" && (len(out) != 1 || !strings.Contains(out[0].Skipped, want.skipped)) {
				t.Errorf("outcome = %+v, want skipped %q", out, want.skipped)
			}
			e.wantDesired(t, want.desired, name)
		})
	}
}

func samplesEnv(t *testing.T) scaleEnv {
	t.Helper()
	e := newScaleEnv(t, "6c1e9f53-2b7a-4d8e-a0f4-3e5d7c9b1a2f", "5e3c2b1a-9d8f-4e7a-b6c5-d4e3f2a1b0c9", "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d")
	e.service(t, "web", 4)
	e.register(t, "web", 1, 10)
	e.ttPolicy(t, "web", "cpu75", 75, 0)
	out := e.stepPolicy(t, "web", "out", stepOut(0))
	e.userAlarm(t, "web-cpu-above-50", 50, scaling.GreaterThanThreshold, out)
	e.userAlarm(t, "web-cpu-below-20", 20, scaling.LessThanThreshold, e.stepPolicy(t, "web", "in", stepIn(0)))
	e.userAlarm(t, "web-overloaded", 1, scaling.GreaterThanOrEqualToThreshold, out)
	return e
}

func TestMalformedReasonDataChangesNothing(t *testing.T) {
	e := samplesEnv(t)
	ev := sample(t, "cloudwatch-alarm-malformed-reasondata.json")
	_, err := e.a.HandleAlarmEvent(e.ctx, ev)
	if !errors.Is(err, control.ErrBadAlarmEvent) {
		t.Fatalf("error = %v", err)
	}
	// Through the bus handler the event is dropped, not retried.
	if err := e.a.ScalerHandler()(e.ctx, []bus.Event{ev}); err != nil {
		t.Fatalf("the bus handler must drop an unusable event: %v", err)
	}
	e.wantDesired(t, 4, "malformed reasonData")
	if n := len(e.activities(t, "web", true)); n != 0 {
		t.Fatalf("%d activities recorded for a malformed event", n)
	}
	ev.Source = "berth"
	if _, err := e.a.HandleAlarmEvent(e.ctx, ev); !errors.Is(err, control.ErrBadAlarmEvent) {
		t.Fatalf("an event of another source: %v", err)
	}
}
