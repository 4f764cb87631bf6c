package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-run/berth/shared/local"
)

func upCommand() *cobra.Command {
	var cfg local.Config
	var verbose bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the whole control plane on this machine",
		Long: "Run the whole Berth control plane in one process: the ECS API, the agent protocol,\n" +
			"the event bus and the monitor, with state kept in --data across restarts.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			cfg.Agents.Version = version
			return runUp(cmd, cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:4566", "address to serve the API on")
	cmd.Flags().StringVar(&cfg.DataDir, "data", ".data", "directory holding the state (and local agents' data)")
	cmd.Flags().StringVar(&cfg.Store, "store", local.StoreEmbedded, "where state lives: embedded (bbolt in --data) or dynamodb (endpoint from AWS_ENDPOINT_URL_DYNAMODB)")
	cmd.Flags().StringVar(&cfg.Table, "table", "berth", "DynamoDB table of --store dynamodb, created if absent")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug detail")
	cmd.Flags().IntVar(&cfg.Agents.Count, "agents", 0, "run this many agents in this process, each as its own host (data in --data/agents/<i>)")
	cmd.Flags().StringVar(&cfg.Agents.Driver, "driver", "process", "the local agents' driver: process (host processes) or docker")
	cmd.Flags().StringVar(&cfg.Agents.InstanceType, "agent-instance-type", "berth.local", "the local agents' ecs.instance-type")
	cmd.Flags().IntVar(&cfg.Agents.CPUUnits, "agent-cpu", 0, "CPU units each local agent registers (default: the machine's, shared among them)")
	cmd.Flags().IntVar(&cfg.Agents.MemoryMiB, "agent-memory", 0, "memory (MiB) each local agent registers (default: the machine's, shared among them)")
	return cmd
}

func runUp(cmd *cobra.Command, cfg local.Config) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	plane, err := local.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "endpoint: %s\n", plane.Endpoint())
	for _, a := range plane.Agents() {
		fmt.Fprintf(cmd.OutOrStdout(), "agent: %s (%s driver)\n", a.ContainerInstanceArn(), a.Config().Driver)
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return plane.Shutdown(shutdownCtx)
}
