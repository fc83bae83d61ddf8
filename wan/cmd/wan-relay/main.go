// Command wan-relay runs the user-space WAN emulator of package wan as a
// process of its own, so that it outlives the program that set up a lab:
//
//	wan-relay -config relay.json [-stats stats.json] [-interval 1s]
//
// relay.json is a wan.RelayFile: {"paths": [wan.PathConfig, ...]}
// (durations in nanoseconds), as wan.PlanRelay lays them out. With -stats,
// the counters of every path are written there (atomically) every interval
// and on exit. SIGINT or SIGTERM stops it.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/wan"
)

func main() {
	configPath := flag.String("config", "", "relay configuration (JSON)")
	statsPath := flag.String("stats", "", "write path counters here (JSON)")
	interval := flag.Duration("interval", time.Second, "how often to write -stats")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := wan.ServeRelayFile(ctx, log, *configPath, *statsPath, *interval); err != nil {
		log.Error("wan-relay", "err", err)
		os.Exit(1)
	}
}
