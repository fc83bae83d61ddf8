package lab

import (
	"testing"

	dc "github.com/ory/dockertest/v3/docker"
	"github.com/stretchr/testify/assert"
)

// TestUsageOf computes from engine samples what `docker stats` shows.
func TestUsageOf(t *testing.T) {
	t.Parallel()
	sample := func(total, pretotal, system, presystem, online uint64, mem, totalInactive, inactive uint64) dc.Stats {
		var s dc.Stats
		s.CPUStats.CPUUsage.TotalUsage, s.PreCPUStats.CPUUsage.TotalUsage = total, pretotal
		s.CPUStats.SystemCPUUsage, s.PreCPUStats.SystemCPUUsage = system, presystem
		s.CPUStats.OnlineCPUs = online
		s.MemoryStats.Usage = mem
		s.MemoryStats.Stats.TotalInactiveFile, s.MemoryStats.Stats.InactiveFile = totalInactive, inactive
		return s
	}
	for _, tc := range []struct {
		name string
		s    dc.Stats
		want Usage
	}{
		{"cgroup v1: a quarter of the host's time on 2 CPUs is half a core", sample(1500, 1000, 4000, 2000, 2, 300<<20, 44<<20, 1<<20), Usage{MemoryMiB: 256, CPUPct: 50}},
		{"cgroup v2: inactive_file", sample(0, 0, 10, 0, 2, 100<<20, 0, 36<<20), Usage{MemoryMiB: 64}},
		{"stopped: nothing", sample(0, 0, 0, 0, 0, 0, 0, 0), Usage{}},
		{"inactive above usage is not subtracted", sample(0, 0, 0, 0, 1, 8<<20, 16<<20, 16<<20), Usage{MemoryMiB: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want.CPUPct, usageOf(tc.s).CPUPct, 1e-9)
			assert.InDelta(t, tc.want.MemoryMiB, usageOf(tc.s).MemoryMiB, 1e-9)
		})
	}
}

func TestTotalUsage(t *testing.T) {
	t.Parallel()
	got := TotalUsage(map[string]Usage{"master01": {MemoryMiB: 1536, CPUPct: 12.5}, "lb": {MemoryMiB: 26.5, CPUPct: 0.5}})
	assert.Equal(t, UsageTotal{MemoryMiB: 1562.5, CPUPct: 13, PerMachine: map[string]float64{"master01": 1536, "lb": 26.5}}, got)
	assert.Equal(t, UsageTotal{PerMachine: map[string]float64{}}, TotalUsage(nil), "nothing running uses nothing")
}
