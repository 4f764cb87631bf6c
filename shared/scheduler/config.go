package scheduler

import (
	"encoding/json"
	"strings"

	"github.com/berth-run/berth/shared/ecs"
)

// Deployment configuration defaults (reference §5.1, §5.2).
const (
	DefaultReplicaMaximumPercent        = 200
	DefaultReplicaMinimumHealthyPercent = 100
	DefaultDaemonMaximumPercent         = 100
	DefaultDaemonMinimumHealthyPercent  = 0
)

// Circuit breaker threshold bounds (reference §5.4): the threshold is
// clamp(ceil(value% × desiredCount), minimum, 200) with value 50 by default.
// The current API reference gives 3 as the minimum (older guides 10);
// Options.CircuitBreakerMinimum overrides it.
const (
	DefaultCircuitBreakerMinimum = 3
	CircuitBreakerMaximum        = 200
	DefaultCircuitBreakerPercent = 50
)

// Threshold configuration types of a deployment circuit breaker.
const (
	ThresholdBoundedPercent   = "BOUNDED_PERCENT"
	ThresholdUnboundedPercent = "UNBOUNDED_PERCENT"
	ThresholdCount            = "COUNT"
)

// MaxDesiredCount is ECS's default quota of tasks per service (reference §8).
const MaxDesiredCount = 5000

// MaxTotal is the most tasks of a service that may be RUNNING or PENDING
// during a deployment: floor(desired × maximumPercent / 100).
func MaxTotal(desired, maximumPercent int) int {
	return desired * maximumPercent / 100
}

// MinHealthy is the fewest healthy tasks a deployment keeps:
// ceil(desired × minimumHealthyPercent / 100).
func MinHealthy(desired, minimumHealthyPercent int) int {
	return (desired*minimumHealthyPercent + 99) / 100
}

// percents returns the service's maximumPercent and minimumHealthyPercent,
// ECS's defaults filling what is unset.
func percents(svc *ecs.Service) (maxPct, minPct int) {
	maxPct, minPct = DefaultReplicaMaximumPercent, DefaultReplicaMinimumHealthyPercent
	if isDaemon(svc) {
		maxPct, minPct = DefaultDaemonMaximumPercent, DefaultDaemonMinimumHealthyPercent
	}
	if dc := svc.DeploymentConfiguration; dc != nil {
		if dc.MaximumPercent != nil {
			maxPct = *dc.MaximumPercent
		}
		if dc.MinimumHealthyPercent != nil {
			minPct = *dc.MinimumHealthyPercent
		}
	}
	return maxPct, minPct
}

func isDaemon(svc *ecs.Service) bool { return svc.SchedulingStrategy == ecs.SchedulingDaemon }

// thresholdConfig is a circuit breaker's thresholdConfiguration.
type thresholdConfig struct {
	Type  string `json:"type"`
	Value *int   `json:"value"`
}

func parseThreshold(raw ecs.Raw) (thresholdConfig, error) {
	tc := thresholdConfig{Type: ThresholdBoundedPercent}
	if len(raw) == 0 || string(raw) == "null" {
		return tc, nil
	}
	if err := json.Unmarshal(raw, &tc); err != nil {
		return tc, ecs.InvalidParameter("deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration: %v", err)
	}
	if tc.Type == "" {
		tc.Type = ThresholdBoundedPercent
	}
	return tc, nil
}

// CircuitBreakerThreshold is how many failed tasks fail a deployment of
// desired tasks. For the default BOUNDED_PERCENT configuration it is
// clamp(ceil(0.5 × desired), minimum, 200); minimum 0 means
// DefaultCircuitBreakerMinimum. UNBOUNDED_PERCENT drops the clamp (at least
// 1); COUNT is the configured value.
func CircuitBreakerThreshold(desired int, cb *ecs.DeploymentCircuitBreaker, minimum int) int {
	if minimum <= 0 {
		minimum = DefaultCircuitBreakerMinimum
	}
	tc := thresholdConfig{Type: ThresholdBoundedPercent}
	if cb != nil {
		if parsed, err := parseThreshold(cb.ThresholdConfiguration); err == nil {
			tc = parsed
		}
	}
	value := DefaultCircuitBreakerPercent
	if tc.Value != nil {
		value = *tc.Value
	}
	percentOf := (desired*value + 99) / 100
	switch tc.Type {
	case ThresholdCount:
		return max(value, 1)
	case ThresholdUnboundedPercent:
		return max(percentOf, 1)
	}
	return min(max(percentOf, minimum), CircuitBreakerMaximum)
}

// validateDeploymentConfiguration checks a (merged) deploymentConfiguration
// for a service with the given scheduling strategy.
func validateDeploymentConfiguration(dc *ecs.DeploymentConfiguration, daemon bool) error {
	const f = "deploymentConfiguration"
	if dc.MinimumHealthyPercent != nil && (*dc.MinimumHealthyPercent < 0 || *dc.MinimumHealthyPercent > 100) {
		return ecs.InvalidParameter("%s.minimumHealthyPercent: must be between 0 and 100, got %d", f, *dc.MinimumHealthyPercent)
	}
	if dc.MaximumPercent != nil {
		m := *dc.MaximumPercent
		switch {
		case daemon && m > 100:
			return ecs.InvalidParameter("The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. Change the maximumPercent value to 100, and try again.")
		case daemon && m < 100:
			return ecs.InvalidParameter("%s.maximumPercent: the daemon scheduling strategy requires 100, got %d", f, m)
		case m < 100:
			return ecs.InvalidParameter("%s.maximumPercent: must be at least 100, got %d", f, m)
		case m > 100_000:
			return ecs.InvalidParameter("%s.maximumPercent: must be at most 100000, got %d", f, m)
		}
	}
	if s := dc.Strategy; s != "" && s != "ROLLING" {
		return ecs.InvalidParameter("%s.strategy: %q is not supported; Berth deploys with ROLLING", f, s)
	}
	if b := dc.BakeTimeInMinutes; b != nil && (*b < 0 || *b > 1440) {
		return ecs.InvalidParameter("%s.bakeTimeInMinutes: must be between 0 and 1440, got %d", f, *b)
	}
	if err := validateCircuitBreaker(dc.DeploymentCircuitBreaker); err != nil {
		return err
	}
	return validateAlarms(dc.Alarms)
}

func validateCircuitBreaker(cb *ecs.DeploymentCircuitBreaker) error {
	if cb == nil {
		return nil
	}
	const f = "deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration"
	tc, err := parseThreshold(cb.ThresholdConfiguration)
	if err != nil {
		return err
	}
	switch tc.Type {
	case ThresholdBoundedPercent, ThresholdUnboundedPercent:
		if tc.Value != nil && (*tc.Value < 1 || *tc.Value > 10_000) {
			return ecs.InvalidParameter("%s.value: a percent must be between 1 and 10000, got %d", f, *tc.Value)
		}
	case ThresholdCount:
		if tc.Value == nil || *tc.Value < 1 || *tc.Value > MaxDesiredCount {
			return ecs.InvalidParameter("%s.value: COUNT needs a value between 1 and %d", f, MaxDesiredCount)
		}
	default:
		return ecs.InvalidParameter("%s.type: %q is not valid; valid: BOUNDED_PERCENT, UNBOUNDED_PERCENT, COUNT", f, tc.Type)
	}
	return nil
}

// MaxDeploymentAlarms bounds the alarms a deployment watches.
const MaxDeploymentAlarms = 10

func validateAlarms(a *ecs.DeploymentAlarms) error {
	if a == nil {
		return nil
	}
	const f = "deploymentConfiguration.alarms.alarmNames"
	if a.Enable && len(a.AlarmNames) == 0 {
		return ecs.InvalidParameter("%s: at least one alarm name is required when alarms are enabled", f)
	}
	if len(a.AlarmNames) > MaxDeploymentAlarms {
		return ecs.InvalidParameter("%s: at most %d alarms are allowed, got %d", f, MaxDeploymentAlarms, len(a.AlarmNames))
	}
	for i, n := range a.AlarmNames {
		if n == "" || len(n) > 255 || strings.TrimSpace(n) != n {
			return ecs.InvalidParameter("%s[%d]: %q must be 1-255 characters without leading or trailing spaces", f, i, n)
		}
	}
	return nil
}

// alarmsWatched returns the deployment alarms to watch, or nil when they are off.
func alarmsWatched(svc *ecs.Service) *ecs.DeploymentAlarms {
	dc := svc.DeploymentConfiguration
	if dc == nil || dc.Alarms == nil || !dc.Alarms.Enable || len(dc.Alarms.AlarmNames) == 0 {
		return nil
	}
	return dc.Alarms
}

func circuitBreaker(svc *ecs.Service) *ecs.DeploymentCircuitBreaker {
	if dc := svc.DeploymentConfiguration; dc != nil {
		return dc.DeploymentCircuitBreaker
	}
	return nil
}

// resetsOnHealthyTask is the circuit breaker's counting model: consecutive
// failures (the default) or cumulative ones.
func resetsOnHealthyTask(cb *ecs.DeploymentCircuitBreaker) bool {
	return cb == nil || cb.ResetOnHealthyTask == nil || *cb.ResetOnHealthyTask
}
