package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-run/berth/shared/api"
	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/scaling"
)

// alarmCommand manages the alarms of `berth up`'s local alarm store, the
// stand-in for CloudWatch alarms: a state change is announced on the bus
// exactly as a real CloudWatch transition, so it drives scaling policies.
func alarmCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "alarm", Short: "Manage the local CloudWatch-style alarms of berth up"}
	cmd.AddCommand(alarmPutCommand(), alarmSetStateCommand(), alarmDescribeCommand(), alarmDeleteCommand())
	return cmd
}

type alarmPutFlags struct {
	clientFlags
	def        scaling.AlarmDefinition
	dimensions string
}

func alarmPutCommand() *cobra.Command {
	var f alarmPutFlags
	cmd := &cobra.Command{
		Use:   "put",
		Short: "Create or update an alarm (like aws cloudwatch put-metric-alarm)",
		Long: "Create or update an alarm whose actions name scaling policies (their ARNs, from\n" +
			"aws application-autoscaling put-scaling-policy). berth up evaluates alarms on the\n" +
			"metrics it collects (AWS/ECS CPUUtilization and MemoryUtilization by ClusterName and\n" +
			"ServiceName); alarms on other metrics move only with `berth alarm set-state`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dims, err := parseDimensions(f.dimensions)
			if err != nil {
				return err
			}
			f.def.Dimensions = dims
			var out control.PutMetricAlarmOutput
			if err := callAlarm(cmd.Context(), f.endpoint, "PutMetricAlarm", control.PutMetricAlarmInput{AlarmDefinition: f.def}, &out); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.AlarmArn)
			return nil
		},
	}
	f.clientFlags.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.def.AlarmName, "name", "", "alarm name (required)")
	fl.StringArrayVar(&f.def.AlarmActions, "action", nil, "scaling policy ARN to invoke in ALARM (repeatable)")
	fl.StringVar(&f.def.AlarmDescription, "description", "", "alarm description")
	fl.StringVar(&f.def.Namespace, "namespace", "AWS/ECS", "metric namespace")
	fl.StringVar(&f.def.MetricName, "metric", "CPUUtilization", "metric name")
	fl.StringVar(&f.dimensions, "dimensions", "", "metric dimensions as Name=Value,Name=Value (e.g. ClusterName=default,ServiceName=web)")
	fl.StringVar(&f.def.Statistic, "statistic", scaling.StatAverage, "statistic: Average, Sum, Minimum, Maximum or SampleCount")
	fl.Float64Var(&f.def.Threshold, "threshold", 0, "threshold")
	fl.StringVar(&f.def.ComparisonOperator, "comparison", scaling.GreaterThanThreshold,
		"GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold")
	fl.Int32Var(&f.def.Period, "period", 60, "period in seconds")
	fl.Int32Var(&f.def.EvaluationPeriods, "evaluation-periods", 1, "periods evaluated")
	fl.Int32Var(&f.def.DatapointsToAlarm, "datapoints-to-alarm", 0, "breaching datapoints needed for ALARM (default: evaluation-periods)")
	fl.StringVar(&f.def.TreatMissingData, "treat-missing-data", "", "missing, ignore, breaching or notBreaching (default missing)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// parseDimensions reads Name=Value,Name=Value.
func parseDimensions(s string) ([]scaling.MetricDimension, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []scaling.MetricDimension
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("--dimensions: %q is not Name=Value", part)
		}
		out = append(out, scaling.MetricDimension{Name: name, Value: value})
	}
	return out, nil
}

func alarmSetStateCommand() *cobra.Command {
	var f clientFlags
	var reason, reasonData string
	cmd := &cobra.Command{
		Use:   "set-state NAME OK|ALARM|INSUFFICIENT_DATA",
		Short: "Set an alarm's state (like aws cloudwatch set-alarm-state)",
		Long: "Set an alarm's state. A change of state is announced as a CloudWatch Alarm State Change\n" +
			"event; in ALARM it runs the alarm's scaling policies, which read the breach from\n" +
			"--reason-data, e.g. '{\"recentDatapoints\":[75.0],\"threshold\":50.0}'.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := control.SetAlarmStateInput{AlarmName: args[0], StateValue: strings.ToUpper(args[1]), StateReason: reason, StateReasonData: reasonData}
			return callAlarm(cmd.Context(), f.endpoint, "SetAlarmState", in, &control.SetAlarmStateOutput{})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "reason for the state (required)")
	cmd.Flags().StringVar(&reasonData, "reason-data", "", "reasonData, a JSON document (recentDatapoints, threshold, ...)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func alarmDescribeCommand() *cobra.Command {
	var f clientFlags
	var state string
	cmd := &cobra.Command{
		Use:   "describe [NAME...]",
		Short: "Show alarms with their state, as JSON",
		RunE: func(cmd *cobra.Command, args []string) error {
			var out control.DescribeAlarmsOutput
			if err := callAlarm(cmd.Context(), f.endpoint, "DescribeAlarms", control.DescribeAlarmsInput{AlarmNames: args, StateValue: state}, &out); err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&state, "state", "", "only alarms in this state")
	return cmd
}

func alarmDeleteCommand() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete alarms",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAlarm(cmd.Context(), f.endpoint, "DeleteAlarms", control.DeleteAlarmsInput{AlarmNames: args}, &control.DeleteAlarmsOutput{})
		},
	}
	f.add(cmd)
	return cmd
}

// callAlarm calls a BerthAlarm action on the endpoint.
func callAlarm(ctx context.Context, endpoint, action string, in, out any) error {
	if endpoint == "" {
		return errors.New("no endpoint: pass --endpoint or set BERTH_ENDPOINT")
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", action, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	req.Header.Set("X-Amz-Target", api.AlarmPrefix+"."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Type == "" {
			return fmt.Errorf("%s: HTTP %d: %s", action, resp.StatusCode, strings.TrimSpace(string(raw)))
		}
		return fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", action, err)
	}
	return nil
}
