package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// Factory builds complete events in the account and region it is given.
// Time is passed to every builder and IDs come from NewID, so the same
// inputs always give the same events.
type Factory struct {
	Account ecs.Account
	// NewID returns a fresh event ID (a UUID): RandomIDs in production,
	// SeededIDs in tests.
	NewID func() string
}

// TaskEvent is the "ECS Task State Change" for t as it is at the time at,
// which is both the event's time and detail.updatedAt.
func (f Factory) TaskEvent(at time.Time, t *ecs.Task) (Event, error) {
	if t.TaskArn == "" {
		return Event{}, invalidEvent("detail.taskArn", "must not be empty")
	}
	if t.ClusterArn == "" {
		return Event{}, invalidEvent("detail.clusterArn", "must not be empty")
	}
	return f.event(SourceBerth, DetailTypeTaskStateChange, at, []string{t.TaskArn},
		TaskStateChange{Task: *t, UpdatedAt: ISO(at)})
}

// InstanceEvent is the "ECS Container Instance State Change" for ci as it
// is at the time at, which is both the event's time and detail.updatedAt.
func (f Factory) InstanceEvent(at time.Time, ci *ecs.ContainerInstance) (Event, error) {
	d, err := NewContainerInstanceStateChange(ci, ISO(at))
	if err != nil {
		return Event{}, err
	}
	return f.event(SourceBerth, DetailTypeContainerInstanceStateChange, at, []string{ci.ContainerInstanceArn}, d)
}

// ServiceActionEvent is an "ECS Service Action" about the service
// serviceArn; detail.createdAt is set to at when d leaves it zero.
func (f Factory) ServiceActionEvent(at time.Time, serviceArn string, d ServiceAction) (Event, error) {
	if err := d.validate(); err != nil {
		return Event{}, err
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = ISO(at)
	}
	return f.serviceEvent(DetailTypeServiceAction, at, serviceArn, d)
}

// DeploymentEvent is an "ECS Deployment State Change" of the service
// serviceArn; detail.updatedAt is set to at when d leaves it zero.
func (f Factory) DeploymentEvent(at time.Time, serviceArn string, d DeploymentStateChange) (Event, error) {
	if err := d.validate(); err != nil {
		return Event{}, err
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = ISO(at)
	}
	return f.serviceEvent(DetailTypeDeploymentStateChange, at, serviceArn, d)
}

// ServiceChangeEvent is the Berth-internal "Berth Service Change" for d.
func (f Factory) ServiceChangeEvent(at time.Time, d ServiceChange) (Event, error) {
	if err := d.validate(); err != nil {
		return Event{}, err
	}
	return f.event(SourceBerth, DetailTypeServiceChange, at, []string{d.ServiceArn}, d)
}

// AlarmEvent is the "CloudWatch Alarm State Change" CloudWatch would send
// for d (source aws.cloudwatch), for running scaling without CloudWatch.
func (f Factory) AlarmEvent(at time.Time, d AlarmStateChange) (Event, error) {
	if err := d.validate(); err != nil {
		return Event{}, err
	}
	arn := AlarmARN(f.Account.Region, f.Account.ID, d.AlarmName)
	return f.event(SourceCloudWatch, DetailTypeAlarmStateChange, at, []string{arn}, d)
}

// ScheduledEvent is the "Scheduled Event" (source aws.events) the schedule
// rule named rule emits at the time at.
func (f Factory) ScheduledEvent(at time.Time, rule string) (Event, error) {
	if rule == "" {
		return Event{}, invalidEvent("resources", "the schedule rule's name must not be empty")
	}
	return f.event(SourceEvents, DetailTypeScheduled, at, []string{f.RuleARN(rule)}, Scheduled{})
}

// RuleARN is arn:aws:events:<region>:<account>:rule/<name>.
func (f Factory) RuleARN(name string) string {
	return "arn:aws:events:" + f.Account.Region + ":" + f.Account.ID + ":rule/" + name
}

func (f Factory) serviceEvent(detailType string, at time.Time, serviceArn string, detail any) (Event, error) {
	if serviceArn == "" {
		return Event{}, invalidEvent("resources", "the service ARN must not be empty")
	}
	return f.event(SourceBerth, detailType, at, []string{serviceArn}, detail)
}

func (f Factory) event(source, detailType string, at time.Time, resources []string, detail any) (Event, error) {
	if f.NewID == nil {
		return Event{}, errors.New("bus.Factory: NewID is nil")
	}
	raw, err := marshal(detail)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s detail: %w", detailType, err)
	}
	e := Event{
		Version:    EnvelopeVersion,
		ID:         f.NewID(),
		DetailType: detailType,
		Source:     source,
		Account:    f.Account.ID,
		Time:       at.UTC().Truncate(time.Second),
		Region:     f.Account.Region,
		Resources:  resources,
		Detail:     raw,
	}
	if err := e.Validate(); err != nil {
		return Event{}, fmt.Errorf("build %s: %w", detailType, err)
	}
	return e, nil
}

// Detail is implemented by every detail type: it names its event.
type Detail interface {
	DetailType() string
}

// Decode reads e's detail as a T, after checking that e is an event of T's
// detail-type, e.g. bus.Decode[bus.TaskStateChange](e).
func Decode[T Detail](e Event) (T, error) {
	var d T
	if e.DetailType != d.DetailType() {
		return d, fmt.Errorf("%w: detail-type: want %q, got %q", ErrInvalidEvent, d.DetailType(), e.DetailType)
	}
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return d, fmt.Errorf("%w: decode %s detail of event %s: %w", ErrInvalidEvent, e.DetailType, e.ID, err)
	}
	return d, nil
}
