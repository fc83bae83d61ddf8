package wan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// CPUCounter returns a machine's cumulative busy CPU time, summed over its
// cores.
type CPUCounter func(ctx context.Context) (time.Duration, error)

// userHZ is the unit of /proc/stat; 100 on every Linux architecture that
// planetstage runs on.
const userHZ = 100

// ProcStatCPU counts the busy time of the whole machine behind r from
// /proc/stat: user, nice, system, irq, softirq and steal. It suits a
// router that is a machine of its own (a VM, a box); a container sees its
// host's /proc/stat, so the lab counts a container's cgroup instead
// (CgroupCPU).
func ProcStatCPU(r remote.Runner) CPUCounter {
	return func(ctx context.Context) (time.Duration, error) {
		data, err := r.ReadFile(ctx, "/proc/stat")
		if err != nil {
			return 0, fmt.Errorf("cpu of %s: %w", r.Host(), err)
		}
		d, err := parseProcStat(string(data))
		if err != nil {
			return 0, fmt.Errorf("cpu of %s: /proc/stat: %w", r.Host(), err)
		}
		return d, nil
	}
}

func parseProcStat(s string) (time.Duration, error) {
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu" {
			continue
		}
		var busy int64
		// user nice system idle iowait irq softirq steal: idle (4) and
		// iowait (5) are not busy.
		for i, v := range f[1:9] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("field %d %q: %w", i+1, v, err)
			}
			if i != 3 && i != 4 {
				busy += n
			}
		}
		return time.Duration(busy) * time.Second / userHZ, nil
	}
	return 0, errors.New(`no "cpu" line`)
}

// CgroupCPU counts the CPU time of one cgroup from its accounting file,
// read through r: cgroup v2 "cpu.stat" (usage_usec) or cgroup v1
// "cpuacct.usage" (nanoseconds). The lab uses it with remote.Local and
// the container's cgroup directory on the Docker host.
func CgroupCPU(r remote.Runner, path string) CPUCounter {
	return func(ctx context.Context) (time.Duration, error) {
		data, err := r.ReadFile(ctx, path)
		if err != nil {
			return 0, fmt.Errorf("cpu of cgroup %s on %s: %w", path, r.Host(), err)
		}
		d, err := parseCgroupCPU(string(data))
		if err != nil {
			return 0, fmt.Errorf("cpu of cgroup %s on %s: %w", path, r.Host(), err)
		}
		return d, nil
	}
}

func parseCgroupCPU(s string) (time.Duration, error) {
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "usage_usec" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			return time.Duration(n) * time.Microsecond, err
		}
	}
	if f := strings.Fields(s); len(f) == 1 {
		n, err := strconv.ParseInt(f[0], 10, 64)
		return time.Duration(n), err
	}
	return 0, errors.New("neither cpu.stat (usage_usec) nor cpuacct.usage")
}

// CPUPercent runs f and returns, for each counter, the CPU time used
// meanwhile in percent of one core of wall time (200 is two cores busy).
func CPUPercent(ctx context.Context, f func() error, counters ...CPUCounter) ([]float64, error) {
	before := make([]time.Duration, len(counters))
	for i, c := range counters {
		var err error
		if before[i], err = c(ctx); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	if err := f(); err != nil {
		return nil, err
	}
	wall := time.Since(start)
	pct := make([]float64, len(counters))
	for i, c := range counters {
		after, err := c(ctx)
		if err != nil {
			return nil, err
		}
		pct[i] = round2(100 * float64(after-before[i]) / float64(wall))
	}
	return pct, nil
}

// ProcessCPU counts the CPU time (user and system) of process pid on the
// machine behind r, from /proc/PID/stat: on a Linux router, the OpenVPN
// daemon's own cost.
func ProcessCPU(r remote.Runner, pid int) CPUCounter {
	return func(ctx context.Context) (time.Duration, error) {
		path := fmt.Sprintf("/proc/%d/stat", pid)
		data, err := r.ReadFile(ctx, path)
		if err != nil {
			return 0, fmt.Errorf("cpu of process %d on %s: %w", pid, r.Host(), err)
		}
		d, err := parsePidStat(string(data))
		if err != nil {
			return 0, fmt.Errorf("cpu of process %d on %s: %s: %w", pid, r.Host(), path, err)
		}
		return d, nil
	}
}

func parsePidStat(s string) (time.Duration, error) {
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis start at field 3 (state).
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("too few fields")
	}
	var ticks int64
	for _, v := range f[11:13] { // utime (14) and stime (15)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// PIDCgroupCPU counts the CPU time of the cgroup that process pid belongs
// to, on the machine behind r: for a lab router, the container's main
// process as Docker reports it (docker inspect -f '{{.State.Pid}}'), so
// that the count is the whole container's. The cgroup is looked up in
// /proc/PID/cgroup on every call (cgroup v1 cpuacct, or v2).
func PIDCgroupCPU(r remote.Runner, pid int) CPUCounter {
	return func(ctx context.Context) (time.Duration, error) {
		data, err := r.ReadFile(ctx, fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			return 0, fmt.Errorf("cgroup of process %d on %s: %w", pid, r.Host(), err)
		}
		var errs []error
		for _, path := range cgroupCPUFiles(string(data)) {
			d, err := CgroupCPU(r, path)(ctx)
			if err == nil {
				return d, nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return 0, fmt.Errorf("cgroup of process %d on %s: no cpuacct or cgroup v2 entry", pid, r.Host())
		}
		return 0, errors.Join(errs...)
	}
}

// cgroupCPUFiles lists the accounting files a /proc/PID/cgroup points at,
// most specific first: the cgroup v1 cpuacct hierarchy (mounted under its
// controller list, e.g. "cpu,cpuacct", or alone), then cgroup v2.
func cgroupCPUFiles(procCgroup string) []string {
	var v1, v2 []string
	for line := range strings.Lines(procCgroup) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		controllers, path := parts[1], parts[2]
		switch {
		case controllers == "" && parts[0] == "0":
			v2 = append(v2, "/sys/fs/cgroup"+strings.TrimSuffix(path, "/")+"/cpu.stat")
		case slices.Contains(strings.Split(controllers, ","), "cpuacct"):
			dir := strings.TrimSuffix(path, "/")
			v1 = append(v1, "/sys/fs/cgroup/"+controllers+dir+"/cpuacct.usage")
			if controllers != "cpuacct" {
				v1 = append(v1, "/sys/fs/cgroup/cpuacct"+dir+"/cpuacct.usage")
			}
		}
	}
	return append(v1, v2...)
}
