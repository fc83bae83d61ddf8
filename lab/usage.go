package lab

import (
	"context"
	"errors"
	"fmt"
	"sync"

	dc "github.com/ory/dockertest/v3/docker"
)

// Usage is what one machine's container uses at a moment, as `docker
// stats` reports it: memory in MiB (what the cgroup charges less its
// inactive page cache) and CPU in percent of one core.
type Usage struct {
	MemoryMiB float64 `json:"memoryMiB"`
	CPUPct    float64 `json:"cpuPct"`
}

// Usage samples every machine's container once and returns its usage by
// machine name: what a testbed costs this host. A stopped container uses
// nothing; a machine without a container is an error.
func (l *Lab) Usage(ctx context.Context) (map[string]Usage, error) {
	machines := l.Machines()
	usage := make([]Usage, len(machines))
	errs := make([]error, len(machines))
	var wg sync.WaitGroup
	for i, m := range machines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := l.d.stats(ctx, l.ContainerName(m.Name))
			if err != nil {
				errs[i] = err
				return
			}
			usage[i] = usageOf(s)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("lab %q: %w", l.name, err)
	}
	out := make(map[string]Usage, len(machines))
	for i, m := range machines {
		out[m.Name] = usage[i]
	}
	return out, nil
}

// usageOf computes what `docker stats` shows from one sample: CPU as the
// container's share of the host's CPU time since the previous sample,
// times the online CPUs; memory less the inactive file cache (cgroup v1's
// total_inactive_file, v2's inactive_file).
func usageOf(s dc.Stats) Usage {
	var u Usage
	cpu := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	system := float64(s.CPUStats.SystemCPUUsage) - float64(s.PreCPUStats.SystemCPUUsage)
	online := float64(s.CPUStats.OnlineCPUs)
	if online == 0 {
		online = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if cpu > 0 && system > 0 {
		u.CPUPct = cpu / system * online * 100
	}
	mem := s.MemoryStats.Usage
	switch inactive := s.MemoryStats.Stats.TotalInactiveFile; {
	case inactive > 0 && inactive < mem:
		mem -= inactive
	case s.MemoryStats.Stats.InactiveFile < mem:
		mem -= s.MemoryStats.Stats.InactiveFile
	}
	u.MemoryMiB = float64(mem) / (1 << 20)
	return u
}

// UsageTotal is what a testbed's machines use together at a moment.
type UsageTotal struct {
	MemoryMiB float64 `json:"memoryMiB"`
	CPUPct    float64 `json:"cpuPct"`
	// PerMachine is each machine's memory in MiB.
	PerMachine map[string]float64 `json:"memoryMiBPerMachine"`
}

// TotalUsage adds up the usage of every machine (as Usage returns it).
func TotalUsage(usage map[string]Usage) UsageTotal {
	total := UsageTotal{PerMachine: map[string]float64{}}
	for name, u := range usage {
		total.PerMachine[name] = u.MemoryMiB
		total.MemoryMiB += u.MemoryMiB
		total.CPUPct += u.CPUPct
	}
	return total
}
