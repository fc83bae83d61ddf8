package lab

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Usage is what one machine's container uses at a moment, as `docker
// stats` reports it: memory in MiB (page cache included) and CPU in percent
// of one core.
type Usage struct {
	MemoryMiB float64 `json:"memoryMiB"`
	CPUPct    float64 `json:"cpuPct"`
}

// Usage samples every running machine's container once and returns its
// usage by machine name: what a testbed costs this host.
func (l *Lab) Usage(ctx context.Context) (map[string]Usage, error) {
	var names []string
	for _, m := range l.Machines() {
		names = append(names, l.ContainerName(m.Name))
	}
	out, err := l.d.run(ctx, nil, append([]string{"stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.CPUPerc}}"}, names...)...)
	if err != nil {
		return nil, fmt.Errorf("lab %q: docker stats: %w", l.spec.Name, err)
	}
	return parseStats(out, l.spec.Name+"-")
}

// parseStats reads lines of "NAME USED / LIMIT CPU%" and keys them by
// NAME without prefix.
func parseStats(out, prefix string) (map[string]Usage, error) {
	usage := map[string]Usage{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 5 || f[2] != "/" {
			return nil, fmt.Errorf("docker stats: unexpected line %q", strings.TrimSpace(line))
		}
		mem, err := parseBytes(f[1])
		if err != nil {
			return nil, fmt.Errorf("docker stats: %s: %w", f[0], err)
		}
		cpu, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err != nil {
			return nil, fmt.Errorf("docker stats: %s: cpu %q: %w", f[0], f[4], err)
		}
		usage[strings.TrimPrefix(f[0], prefix)] = Usage{MemoryMiB: mem / (1 << 20), CPUPct: cpu}
	}
	return usage, nil
}

// parseBytes reads docker's binary-unit sizes ("1.2GiB", "512MiB", "0B").
func parseBytes(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		mul    float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("size %q: %w", s, err)
			}
			return f * u.mul, nil
		}
	}
	return 0, fmt.Errorf("size %q: no unit", s)
}
