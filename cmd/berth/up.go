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
			return runUp(cmd, cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:4566", "address to serve the API on")
	cmd.Flags().StringVar(&cfg.DataDir, "data", ".data", "directory holding the state")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug detail")
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
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return plane.Shutdown(shutdownCtx)
}
