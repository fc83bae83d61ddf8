// Command wan-relay runs the user-space WAN emulator of package wan as a
// process of its own, so that it outlives the program that set up a lab:
//
//	wan-relay -config relay.json [-stats stats.json] [-interval 1s]
//
// relay.json is {"paths": [wan.PathConfig, ...]} (durations in
// nanoseconds), as wan.PlanRelay lays them out. With -stats, the counters
// of every path are written there (atomically) every interval and on exit.
// SIGINT or SIGTERM stops it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/wan"
)

// Config is the file -config reads.
type Config struct {
	Paths []wan.PathConfig `json:"paths"`
}

func main() {
	configPath := flag.String("config", "", "relay configuration (JSON)")
	statsPath := flag.String("stats", "", "write path counters here (JSON)")
	interval := flag.Duration("interval", time.Second, "how often to write -stats")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *configPath, *statsPath, *interval); err != nil {
		log.Error("wan-relay", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, configPath, statsPath string, interval time.Duration) error {
	if configPath == "" {
		return errors.New("-config is required")
	}
	data, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	for i := range cfg.Paths {
		cfg.Paths[i].Log = log
	}
	relay, err := wan.ListenRelay(ctx, cfg.Paths)
	if err != nil {
		return err
	}
	log.Info("relaying", "paths", len(cfg.Paths))
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	if statsPath == "" {
		return <-done
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return errors.Join(err, writeStats(statsPath, relay.Stats()))
		case <-tick.C:
			if err := writeStats(statsPath, relay.Stats()); err != nil {
				log.Warn("stats", "err", err)
			}
		}
	}
}

func writeStats(path string, stats map[string]wan.PathStats) error {
	data, err := json.MarshalIndent(stats, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".stats-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
