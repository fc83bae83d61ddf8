package wan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/planetstage/planetstage/internal/atomicfile"
)

// RelayFile is the configuration a relay process reads:
// {"paths": [PathConfig, ...]}, durations in nanoseconds, as PlanRelay
// lays the paths out.
type RelayFile struct {
	Paths []PathConfig `json:"paths"`
}

// ParseRelayFile decodes a relay configuration strictly: an unknown field
// is an error.
func ParseRelayFile(data []byte) (RelayFile, error) {
	var f RelayFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return RelayFile{}, err
	}
	return f, nil
}

// ServeRelayFile runs the relay that the file at configPath describes until
// ctx is done. With statsPath set, it writes every path's counters there as
// JSON (atomically) every interval and once more on the way out. Records go
// to log (nil discards them).
func ServeRelayFile(ctx context.Context, log *slog.Logger, configPath, statsPath string, interval time.Duration) error {
	if configPath == "" {
		return errors.New("relay: no configuration file given")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	data, err := os.ReadFile(configPath)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	cfg, err := ParseRelayFile(data)
	if err != nil {
		return fmt.Errorf("relay: %s: %w", configPath, err)
	}
	for i := range cfg.Paths {
		cfg.Paths[i].Log = log
	}
	relay, err := ListenRelay(ctx, cfg.Paths)
	if err != nil {
		return err
	}
	log.Info("relaying", "paths", len(cfg.Paths))
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	if statsPath == "" {
		return <-done
	}
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return errors.Join(err, writeStats(statsPath, relay.Stats()))
		case <-tick.C:
			if err := writeStats(statsPath, relay.Stats()); err != nil {
				log.Warn("relay stats", "err", err)
			}
		}
	}
}

func writeStats(path string, stats map[string]PathStats) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // path names read "a<->b"
	enc.SetIndent("", "  ")
	if err := enc.Encode(stats); err != nil {
		return err
	}
	// 0600 as before: the counters are for the user who runs the relay.
	return atomicfile.Write(path, buf.Bytes(), 0o600)
}
