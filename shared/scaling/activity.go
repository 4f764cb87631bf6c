package scaling

import (
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// Activity renders the decision as a scaling activity of target t, with the
// given id and time, as AAS records it: Successful when the desired count
// changes (the caller marks it Failed if the write does not commit), Failed
// with NotScaledReasons when a triggered policy could not scale. ok is
// false when there is nothing to record.
func (d Decision) Activity(t ScalableTarget, id string, now time.Time) (ScalingActivity, bool) {
	if d.Description == "" {
		return ScalingActivity{}, false
	}
	a := ScalingActivity{
		ActivityID:        id,
		ServiceNamespace:  t.ServiceNamespace,
		ResourceID:        t.ResourceID,
		ScalableDimension: t.ScalableDimension,
		Description:       d.Description,
		Cause:             d.Cause,
		StartTime:         ecs.At(now),
		EndTime:           ecs.At(now),
		StatusCode:        ActivitySuccessful,
		NotScaledReasons:  d.NotScaledReasons,
	}
	if d.Changed() {
		a.StatusMessage = SuccessMessage(d.Desired)
	} else {
		a.StatusCode = ActivityFailed
	}
	return a, true
}

// SuccessMessage is AAS's StatusMessage for a fulfilled desired count change.
func SuccessMessage(desired int32) string {
	return fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", desired)
}

// ApplyBounds brings a desired count inside a target's [Min, Max], as AAS
// does when RegisterScalableTarget changes them. Cooldowns are untouched.
func ApplyBounds(t ScalableTarget, current int32) Decision {
	d := Decision{Current: current, Desired: clamp(current, t.MinCapacity, t.MaxCapacity)}
	switch {
	case d.Desired > current:
		d.Direction, d.Cause = ScaleOut, fmt.Sprintf("minimum capacity was set to %d", t.MinCapacity)
	case d.Desired < current:
		d.Direction, d.Cause = ScaleIn, fmt.Sprintf("maximum capacity was set to %d", t.MaxCapacity)
	default:
		return d
	}
	d.Description = fmt.Sprintf("Setting desired count to %d.", d.Desired)
	return d
}
