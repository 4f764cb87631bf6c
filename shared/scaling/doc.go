// Package scaling is the pure core of Berth's Application Auto Scaling for
// ECS services (ServiceNamespace ecs, ResourceId service/<cluster>/<service>,
// ScalableDimension ecs:service:DesiredCount). It does no I/O and reads no
// clock: time and IDs are passed in.
//
// It owns:
//
//   - The AAS vocabulary in wire shape (awsJson1_1, PascalCase members):
//     ScalableTarget, ScalingPolicy, ScalingActivity and their parts; the
//     AAS exception names with constructors returning *ecs.Error; ARNs.
//   - Validation as AAS does it: ApplyRegisterScalableTarget and
//     ApplyPutScalingPolicy validate a request and return what to store;
//     ValidateTargetKey checks the (namespace, resource, dimension) triple
//     of every other action. Configurations are stored as given; defaults
//     (300 s cooldowns, Average aggregation) apply at evaluation.
//   - Step scaling arithmetic: Aggregate, SelectStep, Adjust,
//     RoundPercentChange.
//   - Decide, the scaling state machine: from the target, the current
//     desired count, the policies with their alarms' readings, the
//     per-policy Cooldowns, a deployment flag and now, to the new desired
//     count, the activity texts and the updated Cooldowns. ApplyBounds
//     handles a Min/Max change; Decision.Activity renders a ScalingActivity.
//   - Target tracking: TargetTrackingAlarms defines the managed alarms;
//     Decide sizes the scaling.
//   - A CloudWatch-style alarm evaluator (EvaluateAlarm over raw samples)
//     for `berth up`, and parsing of "CloudWatch Alarm State Change" events
//     (ParseAlarmEvent, AlarmStateChange.Reading).
//
// Berth's choices where AAS is silent or unverified:
//
//   - Cooldowns are kept per policy. During a policy's scale-out cooldown
//     the capacity it added is counted as in flight: it computes from
//     (current − added) and only scales if that yields more than current.
//     Every policy that asked for more in a scale-out has its cooldown
//     (re)started. A scale-in by a policy starts its scale-in cooldown; any
//     scale-out clears every scale-in cooldown.
//   - A scale-in blocked by a deployment, or limited by Min, Max or the
//     current count, still counts when the largest capacity is chosen, so it
//     vetoes other scale-ins; a scale-in blocked by cooldown or suspension
//     does not.
//   - Exactly at the threshold (breach − threshold = 0) the alarm's
//     comparison operator picks the side; unknown (as in events), the step
//     matching from above wins, else the one from below.
//   - Target tracking alarms (UNVERIFIED in AAS): AlarmHigh is
//     GreaterThanThreshold target, 3 of 3 one-minute datapoints; AlarmLow
//     is LessThanThreshold 0.9 × target, 15 of 15; missing data is missing.
//     Only AlarmHigh exists when DisableScaleIn is true. Alarms are told
//     apart by their AAS names (-AlarmHigh-, -AlarmLow-).
//   - Target tracking scale-out is ceil(base × newest datapoint / target)
//     (at least 1 from zero). Scale-in is gradual: toward ceil(base ×
//     busiest recent datapoint / target) but by at most a tenth of the
//     capacity (at least one task) per activity; if even one task fewer
//     would put the metric over the target, nothing happens and the reason
//     is AutoScalingAnticipatedFlapping. Scale-in takes place only when all
//     target tracking policies with scale-in enabled propose one (a policy
//     in cooldown does not); step policies scale in on their own.
//   - A scale-in held by a deployment reports
//     TargetServicePutResourceAsUnscalable.
//   - The alarm evaluator's periods end at the minute of evaluation, as
//     CloudWatch's do, and it looks back EvaluationPeriods + 2 periods. With
//     fewer real datapoints than EvaluationPeriods, breaching/notBreaching
//     fill the gap; missing/ignore decide on real datapoints when they
//     suffice for ALARM or include a non-breaching one, else give
//     INSUFFICIENT_DATA (missing) or keep the state (ignore). This matches
//     every row of CloudWatch's documented examples but one (a lone,
//     oldest, breaching datapoint with missing: CloudWatch says ALARM,
//     Berth INSUFFICIENT_DATA).
package scaling
