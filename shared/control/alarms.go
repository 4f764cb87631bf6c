package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
	"github.com/berth-run/berth/shared/store"
)

// AlarmSource is where the scaler reads CloudWatch alarms: Berth's local
// alarm store in `berth up`, CloudWatch (DescribeAlarms) in AWS.
type AlarmSource interface {
	// DescribeAlarms returns those of the named alarms that exist.
	DescribeAlarms(ctx context.Context, names []string) ([]AlarmInfo, error)
	// AlarmsInAlarm lists the alarms now in ALARM that name a scaling policy.
	AlarmsInAlarm(ctx context.Context) ([]AlarmInfo, error)
}

// AlarmManager creates and deletes the alarms target tracking policies own.
type AlarmManager interface {
	// PutAlarms creates or updates alarms owned by the policy policyARN.
	PutAlarms(ctx context.Context, policyARN string, defs []scaling.AlarmDefinition) error
	// DeleteAlarms deletes alarms by name; missing ones are ignored.
	DeleteAlarms(ctx context.Context, names []string) error
}

// AlarmInfo is what the scaler knows of an alarm.
type AlarmInfo struct {
	Name string
	// PolicyARNs are the scaling policies the alarm invokes: the policy
	// ARNs among its actions and, for alarms Berth manages, the one named
	// in its description.
	PolicyARNs []string
	State      string
	// ReasonData is the state's reasonData, a JSON document as a string.
	ReasonData string
	// StateTimestamp is the state's timestamp in CloudWatch's event form.
	StateTimestamp     string
	ComparisonOperator string
}

// Reading is the alarm as scaling.Decide reads it; malformed reasonData is
// an error.
func (a AlarmInfo) Reading() (scaling.AlarmReading, error) {
	change := scaling.AlarmStateChange{AlarmName: a.Name, State: scaling.AlarmState{Value: a.State, ReasonData: a.ReasonData}}
	r, err := change.Reading()
	r.ComparisonOperator = a.ComparisonOperator
	return r, err
}

// policyARNPrefix starts every Application Auto Scaling policy ARN.
const policyARNPrefix = "arn:aws:autoscaling:"

// policyARNsIn collects the scaling policy ARNs among an alarm's actions and
// in its description (where AAS, and Berth, name the policy owning a
// target tracking alarm: "... For TargetTrackingScaling policy <arn>.").
func policyARNsIn(actions []string, description string) []string {
	var out []string
	for _, a := range actions {
		if strings.HasPrefix(a, policyARNPrefix) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, word := range strings.Fields(description) {
		word = strings.TrimSuffix(word, ".")
		if strings.HasPrefix(word, policyARNPrefix) && strings.Contains(word, ":scalingPolicy:") && !slices.Contains(out, word) {
			out = append(out, word)
		}
	}
	return out
}

// managedAlarmDescription is how AAS describes the alarms it owns.
func managedAlarmDescription(policyARN string) string {
	return "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + policyARN + "."
}

// LocalAlarms is the CloudWatch stand-in of `berth up`: alarms in the
// store, evaluated over the utilization agents report, their transitions
// announced on the bus as real "CloudWatch Alarm State Change" events. It
// also serves the Berth-only BerthAlarm actions behind `berth alarm`.
type LocalAlarms struct {
	db      *store.DB
	bus     bus.Bus
	factory bus.Factory
	now     func() time.Time
	log     *slog.Logger
	// EvaluateEvery is how often one alarm is evaluated; CloudWatch
	// evaluates every minute.
	EvaluateEvery time.Duration
	// MetricClock is the clock utilization is recorded on (see
	// CompressedClock); evaluations look at metrics up to its now.
	MetricClock func() time.Time
}

var (
	_ AlarmSource  = (*LocalAlarms)(nil)
	_ AlarmManager = (*LocalAlarms)(nil)
)

// NewLocalAlarms serves alarms from db and announces transitions on b.
func NewLocalAlarms(db *store.DB, b bus.Bus, factory bus.Factory, now func() time.Time, log *slog.Logger) *LocalAlarms {
	if log == nil {
		log = slog.Default()
	}
	return &LocalAlarms{db: db, bus: b, factory: factory, now: now, log: log, EvaluateEvery: time.Minute, MetricClock: now}
}

// DescribeAlarms implements AlarmSource.
func (l *LocalAlarms) DescribeAlarms(ctx context.Context, names []string) ([]AlarmInfo, error) {
	var out []AlarmInfo
	for _, n := range names {
		a, _, ok, err := l.db.Alarm(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("read alarm %s: %w", n, err)
		}
		if ok {
			out = append(out, localAlarmInfo(a))
		}
	}
	return out, nil
}

// AlarmsInAlarm implements AlarmSource.
func (l *LocalAlarms) AlarmsInAlarm(ctx context.Context) ([]AlarmInfo, error) {
	all, err := l.db.Alarms(ctx)
	if err != nil {
		return nil, err
	}
	var out []AlarmInfo
	for _, a := range all {
		info := localAlarmInfo(a)
		if a.StateValue == scaling.StateAlarm && len(info.PolicyARNs) > 0 {
			out = append(out, info)
		}
	}
	return out, nil
}

func localAlarmInfo(a store.Alarm) AlarmInfo {
	return AlarmInfo{
		Name:               a.AlarmName,
		PolicyARNs:         policyARNsIn(a.AlarmActions, a.AlarmDescription),
		State:              a.StateValue,
		ReasonData:         a.StateReasonData,
		StateTimestamp:     bus.AlarmTimestamp(a.StateUpdatedTimestamp.Time),
		ComparisonOperator: a.ComparisonOperator,
	}
}

// PutAlarms implements AlarmManager.
func (l *LocalAlarms) PutAlarms(ctx context.Context, policyARN string, defs []scaling.AlarmDefinition) error {
	for _, d := range defs {
		if _, err := l.db.PutAlarm(ctx, d, policyARN); err != nil {
			return fmt.Errorf("put alarm %s: %w", d.AlarmName, err)
		}
	}
	return nil
}

// DeleteAlarms implements AlarmManager.
func (l *LocalAlarms) DeleteAlarms(ctx context.Context, names []string) error {
	return l.db.DeleteAlarms(ctx, names)
}

// CloudWatch's exception names, for the BerthAlarm actions.
const (
	cwResourceNotFound = "ResourceNotFound"
	cwInvalidFormat    = "InvalidFormat"
	cwInvalidParameter = "InvalidParameterValue"
)

// PutMetricAlarmInput is BerthAlarm.PutMetricAlarm's request, with
// CloudWatch PutMetricAlarm's member names.
type PutMetricAlarmInput struct {
	scaling.AlarmDefinition
}

// PutMetricAlarmOutput is BerthAlarm.PutMetricAlarm's response.
type PutMetricAlarmOutput struct {
	AlarmArn string `json:"AlarmArn"`
}

// PutMetricAlarm creates or updates a local alarm, as CloudWatch's
// PutMetricAlarm: a new alarm starts in INSUFFICIENT_DATA; an update keeps
// the state. An alarm a target tracking policy owns stays owned by it.
func (l *LocalAlarms) PutMetricAlarm(ctx context.Context, in *PutMetricAlarmInput) (*PutMetricAlarmOutput, error) {
	def := in.AlarmDefinition
	if err := def.Validate(); err != nil {
		return nil, err
	}
	def.AlarmArn = scaling.AlarmARN(l.db.Account(), def.AlarmName)
	existing, _, _, err := l.db.Alarm(ctx, def.AlarmName)
	if err != nil {
		return nil, err
	}
	if _, err := l.db.PutAlarm(ctx, def, existing.Berth.ManagedBy); err != nil {
		return nil, err
	}
	return &PutMetricAlarmOutput{AlarmArn: def.AlarmArn}, nil
}

// SetAlarmStateInput is BerthAlarm.SetAlarmState's request, as CloudWatch's
// SetAlarmState.
type SetAlarmStateInput struct {
	AlarmName       string `json:"AlarmName"`
	StateValue      string `json:"StateValue"`
	StateReason     string `json:"StateReason"`
	StateReasonData string `json:"StateReasonData,omitempty"`
}

// SetAlarmStateOutput is empty, as CloudWatch's.
type SetAlarmStateOutput struct{}

// SetAlarmState sets an alarm's state as `aws cloudwatch set-alarm-state`
// does: a change of state is announced on the bus exactly as a real
// transition (and runs the scaler for ALARM). The local evaluator may
// move it back at its next evaluation, as CloudWatch would, if the alarm
// watches a metric Berth collects.
func (l *LocalAlarms) SetAlarmState(ctx context.Context, in *SetAlarmStateInput) (*SetAlarmStateOutput, error) {
	switch {
	case in.AlarmName == "" || len(in.AlarmName) > 255:
		return nil, ecs.Errorf(cwInvalidParameter, "AlarmName must be 1-255 characters")
	case in.StateValue != scaling.StateOK && in.StateValue != scaling.StateAlarm && in.StateValue != scaling.StateInsufficientData:
		return nil, ecs.Errorf(cwInvalidParameter, "StateValue %q must be OK, ALARM or INSUFFICIENT_DATA", in.StateValue)
	case in.StateReason == "" || len(in.StateReason) > 1023:
		return nil, ecs.Errorf(cwInvalidParameter, "StateReason must be 1-1023 characters")
	case len(in.StateReasonData) > 4000:
		return nil, ecs.Errorf(cwInvalidParameter, "StateReasonData must be at most 4000 characters")
	case in.StateReasonData != "" && !json.Valid([]byte(in.StateReasonData)):
		return nil, ecs.Errorf(cwInvalidFormat, "StateReasonData is not valid JSON")
	}
	found, err := l.transition(ctx, in.AlarmName, func(a *store.Alarm) bool {
		return l.setState(a, in.StateValue, in.StateReason, in.StateReasonData)
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ecs.Errorf(cwResourceNotFound, "Alarm %s does not exist", in.AlarmName)
	}
	return &SetAlarmStateOutput{}, nil
}

// setState moves a to a new state, reporting whether it changed.
func (l *LocalAlarms) setState(a *store.Alarm, value, reason, reasonData string) bool {
	changed := a.StateValue != value
	a.StateValue, a.StateReason, a.StateReasonData = value, reason, reasonData
	if changed {
		a.StateUpdatedTimestamp = ecs.At(l.now())
	}
	return changed
}

// transition applies change to an alarm and, when it changed the state,
// announces the transition on the bus after the write committed. found is
// false when the alarm does not exist.
func (l *LocalAlarms) transition(ctx context.Context, name string, change func(*store.Alarm) bool) (found bool, err error) {
	var before store.Alarm
	changed := false
	after, found, err := l.db.UpdateAlarm(ctx, name, func(a *store.Alarm) error {
		before = *a
		changed = change(a)
		return nil
	})
	if err != nil || !found || !changed {
		return found, err
	}
	event, err := l.factory.AlarmEvent(after.StateUpdatedTimestamp.Time, alarmStateChange(before, after))
	if err != nil {
		return true, fmt.Errorf("alarm %s: build state change event: %w", name, err)
	}
	if err := l.bus.Put(ctx, event); err != nil {
		return true, fmt.Errorf("alarm %s: announce state change: %w", name, err)
	}
	return true, nil
}

// alarmStateChange is the detail CloudWatch sends for a metric alarm's
// transition from before to after.
func alarmStateChange(before, after store.Alarm) bus.AlarmStateChange {
	state := func(a store.Alarm) bus.AlarmState {
		return bus.AlarmState{Value: a.StateValue, Reason: a.StateReason, ReasonData: a.StateReasonData,
			Timestamp: bus.AlarmTimestamp(a.StateUpdatedTimestamp.Time)}
	}
	dims := map[string]string{}
	for _, d := range after.Dimensions {
		dims[d.Name] = d.Value
	}
	return bus.AlarmStateChange{
		AlarmName:     after.AlarmName,
		State:         state(after),
		PreviousState: state(before),
		Configuration: bus.AlarmConfiguration{
			Description: after.AlarmDescription,
			Metrics: []bus.AlarmMetric{{
				ID:         "m1",
				MetricStat: &bus.MetricStat{Metric: bus.Metric{Namespace: after.Namespace, Name: after.MetricName, Dimensions: dims}, Period: int(after.Period), Stat: after.Statistic},
				ReturnData: true,
			}},
		},
	}
}

// DescribeAlarmsInput is BerthAlarm.DescribeAlarms' request, a subset of
// CloudWatch's.
type DescribeAlarmsInput struct {
	AlarmNames []string `json:"AlarmNames,omitempty"`
	StateValue string   `json:"StateValue,omitempty"`
}

// DescribeAlarmsOutput is BerthAlarm.DescribeAlarms' response.
type DescribeAlarmsOutput struct {
	MetricAlarms []store.Alarm `json:"MetricAlarms"`
}

// DescribeAlarmsAction lists local alarms: the named ones, or all, in a
// state when StateValue is given.
func (l *LocalAlarms) DescribeAlarmsAction(ctx context.Context, in *DescribeAlarmsInput) (*DescribeAlarmsOutput, error) {
	all, err := l.db.Alarms(ctx)
	if err != nil {
		return nil, err
	}
	out := &DescribeAlarmsOutput{MetricAlarms: []store.Alarm{}}
	for _, a := range all {
		if (len(in.AlarmNames) == 0 || slices.Contains(in.AlarmNames, a.AlarmName)) && (in.StateValue == "" || a.StateValue == in.StateValue) {
			out.MetricAlarms = append(out.MetricAlarms, a)
		}
	}
	return out, nil
}

// DeleteAlarmsInput is BerthAlarm.DeleteAlarms' request.
type DeleteAlarmsInput struct {
	AlarmNames []string `json:"AlarmNames"`
}

// DeleteAlarmsOutput is empty.
type DeleteAlarmsOutput struct{}

// DeleteAlarmsAction deletes local alarms by name.
func (l *LocalAlarms) DeleteAlarmsAction(ctx context.Context, in *DeleteAlarmsInput) (*DeleteAlarmsOutput, error) {
	if len(in.AlarmNames) == 0 || len(in.AlarmNames) > 100 {
		return nil, ecs.Errorf(cwInvalidParameter, "AlarmNames: 1-100 names are required, got %d", len(in.AlarmNames))
	}
	return &DeleteAlarmsOutput{}, l.db.DeleteAlarms(ctx, in.AlarmNames)
}

// Evaluate is the local evaluator's pass, run on the monitor's tick: every
// alarm on a metric Berth collects (AWS/ECS CPUUtilization or
// MemoryUtilization of a service) that is due is evaluated over the stored
// per-minute utilization, as CloudWatch would, and its transitions are
// announced. Alarms on other metrics have no data here and keep the state
// `berth alarm set-state` gives them.
func (l *LocalAlarms) Evaluate(ctx context.Context) error {
	all, err := l.db.Alarms(ctx)
	if err != nil {
		return err
	}
	now := l.now()
	var errs []error
	for _, a := range all {
		metric, ok := collectedMetric(a.AlarmDefinition)
		if !ok || now.Sub(a.Berth.EvaluatedAt) < l.EvaluateEvery {
			continue
		}
		if err := l.evaluate(ctx, a, metric, now); err != nil {
			errs = append(errs, fmt.Errorf("evaluate alarm %s: %w", a.AlarmName, err))
		}
	}
	return errors.Join(errs...)
}

// serviceMetric is a utilization metric of one service.
type serviceMetric struct {
	cluster, service string
	memory           bool
}

// collectedMetric reports whether Berth collects the alarm's metric.
func collectedMetric(def scaling.AlarmDefinition) (serviceMetric, bool) {
	if def.Namespace != "AWS/ECS" || (def.MetricName != "CPUUtilization" && def.MetricName != "MemoryUtilization") {
		return serviceMetric{}, false
	}
	m := serviceMetric{memory: def.MetricName == "MemoryUtilization"}
	for _, d := range def.Dimensions {
		switch d.Name {
		case "ClusterName":
			m.cluster = d.Value
		case "ServiceName":
			m.service = d.Value
		default:
			return serviceMetric{}, false
		}
	}
	return m, m.cluster != "" && m.service != ""
}

func (l *LocalAlarms) evaluate(ctx context.Context, a store.Alarm, m serviceMetric, now time.Time) error {
	metricNow := l.MetricClock()
	lookback := time.Duration(int64(a.EvaluationPeriods+3)*int64(max(a.Period, 60))) * time.Second
	points, err := l.db.ServiceUtilization(ctx, m.cluster, m.service, metricNow.Add(-lookback))
	if err != nil {
		return err
	}
	samples := make([]scaling.Sample, 0, len(points))
	for _, p := range points {
		switch {
		case !m.memory:
			samples = append(samples, scaling.Sample{Timestamp: p.Minute, Value: p.CPU})
		case p.HasMemory:
			samples = append(samples, scaling.Sample{Timestamp: p.Minute, Value: p.Memory})
		}
	}
	ev := scaling.EvaluateAlarm(a.AlarmDefinition, samples, a.StateValue, metricNow)
	_, err = l.transition(ctx, a.AlarmName, func(cur *store.Alarm) bool {
		cur.Berth.EvaluatedAt = now
		if ev.Retained {
			return false
		}
		return l.setState(cur, ev.State, ev.Reason, ev.ReasonData)
	})
	return err
}

// CloudWatchAPI is the part of the CloudWatch client Berth uses.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	PutMetricAlarm(ctx context.Context, in *cloudwatch.PutMetricAlarmInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	DeleteAlarms(ctx context.Context, in *cloudwatch.DeleteAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DeleteAlarmsOutput, error)
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// CloudWatchAlarms reads and manages alarms in Amazon CloudWatch. Reads of
// one alarm are cached for CacheFor, so a burst of events for one alarm
// costs one DescribeAlarms.
//
// The alarms Berth creates for target tracking name their policy in the
// description, as AAS's do, and carry no alarm actions: CloudWatch cannot
// invoke a Berth policy, so the scaler learns of their transitions from
// EventBridge and of their persistence from the monitor's tick. They watch
// Berth's own namespace (MetricNamespace), where the agents' utilization
// is published, since AWS/ECS is reserved to ECS.
type CloudWatchAlarms struct {
	api      CloudWatchAPI
	now      func() time.Time
	CacheFor time.Duration

	mu    sync.Mutex
	cache map[string]cachedAlarm
}

type cachedAlarm struct {
	info  AlarmInfo
	found bool
	at    time.Time
}

var (
	_ AlarmSource  = (*CloudWatchAlarms)(nil)
	_ AlarmManager = (*CloudWatchAlarms)(nil)
)

// NewCloudWatchAlarms wraps a CloudWatch client.
func NewCloudWatchAlarms(api CloudWatchAPI, now func() time.Time) *CloudWatchAlarms {
	return &CloudWatchAlarms{api: api, now: now, CacheFor: 10 * time.Second, cache: map[string]cachedAlarm{}}
}

// DescribeAlarms implements AlarmSource.
func (c *CloudWatchAlarms) DescribeAlarms(ctx context.Context, names []string) ([]AlarmInfo, error) {
	var missing []string
	infos := map[string]AlarmInfo{}
	now := c.now()
	c.mu.Lock()
	for _, n := range names {
		if e, ok := c.cache[n]; ok && now.Sub(e.at) < c.CacheFor {
			if e.found {
				infos[n] = e.info
			}
			continue
		}
		missing = append(missing, n)
	}
	c.mu.Unlock()
	for start := 0; start < len(missing); start += 100 {
		batch := missing[start:min(start+100, len(missing))]
		found, err := c.describe(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: batch})
		if err != nil {
			return nil, err
		}
		c.remember(batch, found, now)
		for _, f := range found {
			infos[f.Name] = f
		}
	}
	var result []AlarmInfo
	seen := map[string]bool{}
	for _, n := range names {
		if info, ok := infos[n]; ok && !seen[n] {
			seen[n] = true
			result = append(result, info)
		}
	}
	return result, nil
}

func (c *CloudWatchAlarms) remember(names []string, found []AlarmInfo, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		c.cache[n] = cachedAlarm{at: at}
	}
	for _, f := range found {
		c.cache[f.Name] = cachedAlarm{info: f, found: true, at: at}
	}
}

// AlarmsInAlarm implements AlarmSource: alarms in ALARM whose actions name
// a scaling policy, and Berth's target tracking alarms.
func (c *CloudWatchAlarms) AlarmsInAlarm(ctx context.Context) ([]AlarmInfo, error) {
	var out []AlarmInfo
	for _, in := range []*cloudwatch.DescribeAlarmsInput{
		{StateValue: cwtypes.StateValueAlarm, ActionPrefix: aws.String(policyARNPrefix)},
		{StateValue: cwtypes.StateValueAlarm, AlarmNamePrefix: aws.String("TargetTracking-service/")},
	} {
		found, err := c.describe(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			if len(f.PolicyARNs) > 0 && !slices.ContainsFunc(out, func(o AlarmInfo) bool { return o.Name == f.Name }) {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// describe pages through a DescribeAlarms query.
func (c *CloudWatchAlarms) describe(ctx context.Context, in *cloudwatch.DescribeAlarmsInput) ([]AlarmInfo, error) {
	in.AlarmTypes = []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}
	var out []AlarmInfo
	for {
		page, err := c.api.DescribeAlarms(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("cloudwatch DescribeAlarms: %w", err)
		}
		for _, m := range page.MetricAlarms {
			out = append(out, AlarmInfo{
				Name: aws.ToString(m.AlarmName), PolicyARNs: policyARNsIn(m.AlarmActions, aws.ToString(m.AlarmDescription)),
				State: string(m.StateValue), ReasonData: aws.ToString(m.StateReasonData),
				StateTimestamp: bus.AlarmTimestamp(aws.ToTime(m.StateUpdatedTimestamp)), ComparisonOperator: string(m.ComparisonOperator),
			})
		}
		for _, m := range page.CompositeAlarms {
			out = append(out, AlarmInfo{
				Name: aws.ToString(m.AlarmName), PolicyARNs: policyARNsIn(m.AlarmActions, aws.ToString(m.AlarmDescription)),
				State: string(m.StateValue), ReasonData: aws.ToString(m.StateReasonData),
				StateTimestamp: bus.AlarmTimestamp(aws.ToTime(m.StateUpdatedTimestamp)),
			})
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// PutAlarms implements AlarmManager: each alarm is created in Berth's
// metric namespace, named by its policy in the description.
func (c *CloudWatchAlarms) PutAlarms(ctx context.Context, policyARN string, defs []scaling.AlarmDefinition) error {
	for _, d := range defs {
		in := &cloudwatch.PutMetricAlarmInput{
			AlarmName:          aws.String(d.AlarmName),
			AlarmDescription:   aws.String(managedAlarmDescription(policyARN)),
			Namespace:          aws.String(cloudWatchNamespace(d.Namespace)),
			MetricName:         aws.String(d.MetricName),
			Statistic:          cwtypes.Statistic(d.Statistic),
			Period:             aws.Int32(d.Period),
			EvaluationPeriods:  aws.Int32(d.EvaluationPeriods),
			Threshold:          aws.Float64(d.Threshold),
			ComparisonOperator: cwtypes.ComparisonOperator(d.ComparisonOperator),
			ActionsEnabled:     aws.Bool(false),
		}
		if d.DatapointsToAlarm > 0 {
			in.DatapointsToAlarm = aws.Int32(d.DatapointsToAlarm)
		}
		if d.TreatMissingData != "" {
			in.TreatMissingData = aws.String(d.TreatMissingData)
		}
		if d.Unit != "" {
			in.Unit = cwtypes.StandardUnit(d.Unit)
		}
		for _, dim := range d.Dimensions {
			in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(dim.Name), Value: aws.String(dim.Value)})
		}
		if _, err := c.api.PutMetricAlarm(ctx, in); err != nil {
			return fmt.Errorf("cloudwatch PutMetricAlarm %s: %w", d.AlarmName, err)
		}
		c.forget(d.AlarmName)
	}
	return nil
}

// DeleteAlarms implements AlarmManager.
func (c *CloudWatchAlarms) DeleteAlarms(ctx context.Context, names []string) error {
	for start := 0; start < len(names); start += 100 {
		batch := names[start:min(start+100, len(names))]
		if _, err := c.api.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: batch}); err != nil {
			return fmt.Errorf("cloudwatch DeleteAlarms: %w", err)
		}
		for _, n := range batch {
			c.forget(n)
		}
	}
	return nil
}

func (c *CloudWatchAlarms) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, name)
}

// cloudWatchNamespace maps the namespace scaling names for ECS service
// metrics to the one Berth publishes them in.
func cloudWatchNamespace(ns string) string {
	if ns == "AWS/ECS" {
		return MetricNamespace
	}
	return ns
}
