package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"
)

// Exit codes of service watch and deploy.
const (
	exitSteady  = 0
	exitFailed  = 2
	exitTimeout = 3
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

type clientFlags struct {
	endpoint string
	region   string
}

func (f *clientFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.endpoint, "endpoint", os.Getenv("BERTH_ENDPOINT"), "Berth endpoint URL (default $BERTH_ENDPOINT)")
	cmd.Flags().StringVar(&f.region, "region", "", "AWS region (default from the AWS configuration)")
}

// ecsClient is the official ECS client for the endpoint, with the caller's
// AWS configuration (any static credentials work against berth up).
func (f *clientFlags) ecsClient(ctx context.Context) (*ecs.Client, error) {
	opts := []func(*config.LoadOptions) error{}
	if f.region != "" {
		opts = append(opts, config.WithRegion(f.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		if f.endpoint != "" {
			o.BaseEndpoint = aws.String(f.endpoint)
		}
	}), nil
}

func serviceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "service", Short: "Watch and deploy services"}
	cmd.AddCommand(serviceWatchCommand(), serviceDeployCommand())
	return cmd
}

type watchFlags struct {
	clientFlags
	interval time.Duration
	timeout  time.Duration
}

func (f *watchFlags) add(cmd *cobra.Command) {
	f.clientFlags.add(cmd)
	cmd.Flags().DurationVar(&f.interval, "interval", time.Second, "how often to poll")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Minute, "give up after this long")
}

func serviceWatchCommand() *cobra.Command {
	var f watchFlags
	cmd := &cobra.Command{
		Use:   "watch CLUSTER SERVICE",
		Short: "Show a service's deployment rolling out until steady state or failure",
		Long: "Show a service's deployments (desired, running, pending, failed tasks, progress) and its\n" +
			"latest events until the service reaches a steady state (exit 0), its deployment fails\n" +
			"(exit 2) or --timeout passes (exit 3).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			client, err := f.ecsClient(ctx)
			if err != nil {
				return err
			}
			return watchService(ctx, client, cmd.OutOrStdout(), args[0], args[1], "", f.interval, f.timeout)
		},
	}
	f.add(cmd)
	return cmd
}

func serviceDeployCommand() *cobra.Command {
	var f watchFlags
	var taskDefinition string
	var force bool
	cmd := &cobra.Command{
		Use:   "deploy CLUSTER SERVICE --task-definition FAMILY[:REVISION]",
		Short: "Roll a service out to a task definition and watch the deployment",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			client, err := f.ecsClient(ctx)
			if err != nil {
				return err
			}
			in := &ecs.UpdateServiceInput{Cluster: aws.String(args[0]), Service: aws.String(args[1]), ForceNewDeployment: force}
			if taskDefinition != "" {
				in.TaskDefinition = aws.String(taskDefinition)
			}
			out, err := client.UpdateService(ctx, in)
			if err != nil {
				return fmt.Errorf("update service %s: %w", args[1], err)
			}
			deployment := primaryDeployment(out.Service)
			fmt.Fprintf(cmd.OutOrStdout(), "deploying %s as %s\n", aws.ToString(out.Service.TaskDefinition), deployment)
			return watchService(ctx, client, cmd.OutOrStdout(), args[0], args[1], deployment, f.interval, f.timeout)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&taskDefinition, "task-definition", "", "task definition to deploy (family, family:revision or ARN)")
	cmd.Flags().BoolVar(&force, "force", false, "start a new deployment even if the task definition is unchanged")
	return cmd
}

func primaryDeployment(s *types.Service) string {
	if s == nil {
		return ""
	}
	for _, d := range s.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.Id)
		}
	}
	return ""
}

// watchService polls DescribeServices and prints what changed until the
// watched deployment (the PRIMARY one when deployment is "") completes or
// fails.
func watchService(ctx context.Context, client *ecs.Client, out io.Writer, cluster, service, deployment string, interval, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w := &watcher{out: out, deployment: deployment, seenEvents: map[string]bool{}}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		desc, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return &exitError{code: exitTimeout, msg: fmt.Sprintf("service %s: no steady state after %v", service, timeout)}
		case err != nil:
			return fmt.Errorf("describe service %s: %w", service, err)
		case len(desc.Services) == 0:
			return fmt.Errorf("service %s not found in cluster %s", service, cluster)
		}
		if verdict := w.observe(&desc.Services[0]); verdict != nil {
			return verdict.err()
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &exitError{code: exitTimeout, msg: fmt.Sprintf("service %s: no steady state after %v", service, timeout)}
			}
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// verdict ends a watch.
type verdict struct {
	code int
	msg  string
}

func (v *verdict) err() error {
	if v.code == exitSteady {
		return nil
	}
	return &exitError{code: v.code, msg: v.msg}
}

// watcher turns successive DescribeServices answers into output lines and
// decides when the watch is over.
type watcher struct {
	out        io.Writer
	deployment string
	lastStatus string
	seenEvents map[string]bool
}

// observe prints what is new in s and returns a verdict once the watched
// deployment has finished.
func (w *watcher) observe(s *types.Service) *verdict {
	if w.deployment == "" {
		w.deployment = primaryDeployment(s)
	}
	w.printEvents(s)
	if status := renderStatus(s); status != w.lastStatus {
		fmt.Fprint(w.out, status)
		w.lastStatus = status
	}
	return decide(s, w.deployment)
}

// printEvents prints the service events not printed yet, oldest first.
func (w *watcher) printEvents(s *types.Service) {
	for i := len(s.Events) - 1; i >= 0; i-- {
		e := s.Events[i]
		id := aws.ToString(e.Id)
		if w.seenEvents[id] {
			continue
		}
		w.seenEvents[id] = true
		at := ""
		if e.CreatedAt != nil {
			at = e.CreatedAt.UTC().Format("15:04:05") + " "
		}
		fmt.Fprintf(w.out, "  %s%s\n", at, aws.ToString(e.Message))
	}
}

// renderStatus is one line for the service and one per deployment.
func renderStatus(s *types.Service) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: desired %d, running %d, pending %d\n", aws.ToString(s.ServiceName), s.DesiredCount, s.RunningCount, s.PendingCount)
	for _, d := range s.Deployments {
		fmt.Fprintf(&b, "  %-7s %s %-11s %s desired %d running %d pending %d failed %d\n",
			aws.ToString(d.Status), progressBar(d.RunningCount, d.DesiredCount), d.RolloutState,
			aws.ToString(d.Id), d.DesiredCount, d.RunningCount, d.PendingCount, d.FailedTasks)
	}
	return b.String()
}

// progressBar draws running out of desired in 20 cells.
func progressBar(running, desired int32) string {
	const width = 20
	filled := width
	if desired > 0 {
		filled = int(min(running, desired)) * width / int(desired)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", width-filled) + "]"
}

// decide is the watch's end: the deployment completed with the service
// stable (exactly one deployment, running == desired), or it failed.
func decide(s *types.Service, deployment string) *verdict {
	for _, d := range s.Deployments {
		if aws.ToString(d.Id) != deployment {
			continue
		}
		if d.RolloutState == types.DeploymentRolloutStateFailed {
			return &verdict{code: exitFailed, msg: fmt.Sprintf("deployment %s failed: %s", deployment, aws.ToString(d.RolloutStateReason))}
		}
		if d.RolloutState == types.DeploymentRolloutStateCompleted && len(s.Deployments) == 1 && s.RunningCount == s.DesiredCount {
			return &verdict{code: exitSteady}
		}
		return nil
	}
	if deployment != "" && len(s.Deployments) > 0 {
		return &verdict{code: exitFailed, msg: fmt.Sprintf("deployment %s is gone; the service now runs %s", deployment, primaryDeployment(s))}
	}
	return nil
}
