package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/agent/docker"
	"github.com/berth-run/berth/agent/process"
)

func agentCommand() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the Berth agent: join a cluster and run its tasks on this host",
		Long: "Run the agent on this host: it registers the host as a container instance, polls the\n" +
			"control plane for the tasks to run and runs them with Docker (BERTH_DRIVER=docker) or as\n" +
			"host processes (BERTH_DRIVER=process).\n\n" +
			"Settings come from the environment and from " + agent.DefaultConfigFile + " (KEY=VALUE lines;\n" +
			"the environment wins): ECS_CLUSTER, ECS_INSTANCE_ATTRIBUTES, ECS_RESERVED_MEMORY,\n" +
			"ECS_RESERVED_PORTS, ECS_RESERVED_PORTS_UDP, ECS_CONTAINER_STOP_TIMEOUT,\n" +
			"ECS_CONTAINER_START_TIMEOUT, ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION,\n" +
			"ECS_AVAILABLE_LOGGING_DRIVERS, ECS_DATADIR, BERTH_ENDPOINT (required), BERTH_DRIVER,\n" +
			"BERTH_AVAILABILITY_ZONE, BERTH_INSTANCE_TYPE, BERTH_DISABLE_IMDS, BERTH_CPU_UNITS,\n" +
			"BERTH_MEMORY_MIB, BERTH_GPU_IDS, BERTH_DOCKER_SCOPE, BERTH_POLL_WAIT.\n\n" +
			"SIGINT or SIGTERM stops the agent and leaves its tasks running; the next agent adopts them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			return runAgent(cmd.Context(), log)
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug detail")
	return cmd
}

func runAgent(parent context.Context, log *slog.Logger) error {
	cfg, err := agent.LoadConfig()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	host, err := agent.LocalHost(ctx, cfg)
	if err != nil {
		return err
	}
	driver, err := newDriver(cfg, log)
	if err != nil {
		return err
	}
	a, err := agent.New(cfg, agent.Options{
		Driver:  driver,
		Client:  agent.NewClient(cfg.Endpoint, clientOptions(ctx, log, host)),
		Host:    &host,
		Logger:  log,
		Version: version,
	})
	if err != nil {
		return err
	}
	err = a.Run(ctx)
	log.Info("agent stopped; tasks keep running")
	return err
}

// newDriver makes the configured driver: the process driver keeps its
// state in the data directory, the docker driver labels containers with
// the agent's scope.
func newDriver(cfg agent.Config, log *slog.Logger) (agent.Driver, error) {
	switch cfg.Driver {
	case agent.DriverProcess:
		return process.New(process.Options{Root: filepath.Join(cfg.DataDir, "process"), Logger: log})
	case agent.DriverDocker:
		return docker.New(docker.Options{Scope: cfg.DockerScope, Logger: log})
	}
	return nil, fmt.Errorf("BERTH_DRIVER: %q is not a driver; valid: docker, process", cfg.Driver)
}

// clientOptions signs requests with the host's AWS credentials when it has
// some (a control plane in AWS may require SigV4), else sends them unsigned.
func clientOptions(ctx context.Context, log *slog.Logger, host agent.Host) agent.ClientOptions {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Info("no AWS configuration; sending unsigned requests", "error", err)
		return agent.ClientOptions{}
	}
	region := awsCfg.Region
	if region == "" {
		region = host.Region
	}
	if awsCfg.Credentials == nil {
		return agent.ClientOptions{Region: region}
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := awsCfg.Credentials.Retrieve(rctx); err != nil {
		log.Info("no AWS credentials; sending unsigned requests", "error", err)
		return agent.ClientOptions{Region: region}
	}
	return agent.ClientOptions{Credentials: aws.NewCredentialsCache(awsCfg.Credentials), Region: region}
}
