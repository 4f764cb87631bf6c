package api

import (
	"context"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/scaling"
)

// AlarmPrefix is the target prefix of the Berth-only alarm actions of the
// local control plane (`berth alarm`), which stand in for CloudWatch's.
const AlarmPrefix = "BerthAlarm"

// RegisterAutoscaling serves Application Auto Scaling for ECS services and
// the agents' utilization reports (BerthAgent.SubmitMetrics).
func (s *Server) RegisterAutoscaling(a *control.Autoscaling) {
	p := AutoScalingPrefix
	addAAS(s, p, "RegisterScalableTarget", a.RegisterScalableTarget)
	addAAS(s, p, "DeregisterScalableTarget", a.DeregisterScalableTarget)
	addAAS(s, p, "DescribeScalableTargets", a.DescribeScalableTargets)
	addAAS(s, p, "PutScalingPolicy", a.PutScalingPolicy)
	addAAS(s, p, "DescribeScalingPolicies", a.DescribeScalingPolicies)
	addAAS(s, p, "DeleteScalingPolicy", a.DeleteScalingPolicy)
	addAAS(s, p, "DescribeScalingActivities", a.DescribeScalingActivities)
	add(s, AgentPrefix, "SubmitMetrics", a.SubmitMetrics)
}

// RegisterLocalAlarms serves the local alarm store's BerthAlarm actions.
func (s *Server) RegisterLocalAlarms(l *control.LocalAlarms) {
	add(s, AlarmPrefix, "PutMetricAlarm", l.PutMetricAlarm)
	add(s, AlarmPrefix, "SetAlarmState", l.SetAlarmState)
	add(s, AlarmPrefix, "DescribeAlarms", l.DescribeAlarmsAction)
	add(s, AlarmPrefix, "DeleteAlarms", l.DeleteAlarmsAction)
}

// addAAS serves an Application Auto Scaling action. AAS reports a bad
// member as ValidationException where ECS says InvalidParameterException,
// so the strict decoder's errors are renamed.
func addAAS[In, Out any](s *Server, prefix, name string, fn func(context.Context, *In) (*Out, error)) {
	h := action(name, fn)
	s.register(prefix+"."+name, func(ctx context.Context, body []byte) (any, error) {
		out, err := h(ctx, body)
		if e, ok := ecs.AsError(err); ok && e.Code == ecs.InvalidParameterException {
			return nil, scaling.Validation("%s", e.Message)
		}
		return out, err
	})
}
