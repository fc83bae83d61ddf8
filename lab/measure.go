package lab

import (
	"context"
	"fmt"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/wan"
)

// MeasureWAN measures the lab's tunnels as layer.MeasureWAN does on
// hardware (per tunnel the RTT against the latency target, and with
// o.Throughput the TCP throughput through it and directly), counting each
// router's CPU from its container's cgroup: a container sees its host's
// /proc/stat. latency replaces the topology's own latency targets when
// not nil. A lab whose WAN relay does not run has tunnels with no path,
// and is refused.
func (l *Lab) MeasureWAN(ctx context.Context, o layer.MeasureOptions, latency *wan.Model) (wan.Report, error) {
	t := l.Topology()
	if t == nil {
		return wan.Report{}, fmt.Errorf("lab %q: MeasureWAN needs a lab made from a topology", l.name)
	}
	if !l.RelayRunning() {
		return wan.Report{}, fmt.Errorf("lab %q: the WAN relay (%s) does not run, so the tunnels have no path; apply again to restart it", l.name, l.relay.Bind)
	}
	state, err := l.State()
	if err != nil {
		return wan.Report{}, err
	}
	env := l.Env(state)
	if latency != nil {
		env.Latency = latency
	}
	if o.CPU == nil {
		o.CPU = l.cgroupCPU
	}
	return layer.MeasureWAN(ctx, t, env, o)
}

// cgroupCPU counts a lab router's CPU from its container's cgroup, found
// through the container's main process.
func (l *Lab) cgroupCPU(ctx context.Context, router string, _ remote.Runner) (wan.CPUCounter, error) {
	c, err := l.d.inspectContainer(ctx, l.ContainerName(router))
	if err != nil {
		return nil, err
	}
	if c.State.Pid <= 0 {
		return nil, fmt.Errorf("container of %s: no running process (docker says %s)", router, c.State.StateString())
	}
	return wan.PIDCgroupCPU(&remote.Local{}, c.State.Pid), nil
}
