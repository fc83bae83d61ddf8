package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/planetstage/planetstage/wan"
)

// stage wan-relay runs the lab's user-space WAN emulator (package wan) as a
// process of its own, so that the emulated latency outlives `stage apply`:
//
//	stage wan-relay -config relay.json [-stats stats.json] [-interval 1s]
//

func runWANRelay(ctx context.Context, args []string, _, errOut io.Writer) error {
	fs := flag.NewFlagSet("stage wan-relay", flag.ContinueOnError)
	fs.SetOutput(errOut)
	config := fs.String("config", "", "relay configuration `FILE` (JSON, a wan.RelayFile)")
	stats := fs.String("stats", "", "write the paths' counters to `FILE` (JSON)")
	interval := fs.Duration("interval", time.Second, "how often to write -stats")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *config == "" {
		fmt.Fprintln(errOut, "usage: stage wan-relay -config FILE [-stats FILE] [-interval D]")
		return errUsage
	}
	return wan.ServeRelayFile(ctx, slog.New(slog.NewTextHandler(errOut, nil)), *config, *stats, *interval)
}
