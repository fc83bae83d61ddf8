package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// stage measure reports what issue 8 asks of `stage verify --measure`, for
// a testbed that is up: per tunnel, the median RTT against the latency
// model's target, and with --throughput the TCP throughput through the
// tunnel and directly, and the routers' CPU meanwhile.
//
//	stage measure -f FILE [--lab] [--geo PRESET] [--pings N] [--throughput 5s] [--json]
//
// With --lab it measures the topology's running lab; a container's CPU is
// counted from its cgroup (a container sees its host's /proc/stat). The
// lab's routers need iperf3 for --throughput.
//

func runMeasure(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var mf measureFlags
	fs := newFlagSet("measure", errOut, &o)
	addLabFlags(fs, &o)
	addMeasureFlags(fs, &mf, 0)
	asJSON := fs.Bool("json", false, `print {"sites": [...], "tunnels": [...]} instead of tables`)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	t, env, closeEnv, err := o.load(ctx, errOut)
	if err != nil {
		return err
	}
	defer closeEnv()
	var l *lab.Lab
	if o.lab {
		if l, err = lab.Attach(ctx, t, lab.Options{StateDir: o.labState, Log: env.Log}); err != nil {
			return fmt.Errorf("%w; bring it up with stage apply --lab", err)
		}
	}
	rep, err := measureWAN(ctx, t, env, l, &o, mf)
	if rep == nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(rep); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprint(out, rep.Table())
	}
	return err
}

// measureFlags are what `stage measure` and `stage verify --measure` take.
type measureFlags struct {
	geo        string
	pings      int
	throughput time.Duration
}

func addMeasureFlags(fs *flag.FlagSet, mf *measureFlags, throughput time.Duration) {
	fs.StringVar(&mf.geo, "geo", "", "place the sites, in order, with a `PRESET` of package wan ("+joinPresets()+")")
	fs.IntVar(&mf.pings, "pings", 20, "pings per tunnel (`N`, 200 ms apart)")
	fs.DurationVar(&mf.throughput, "throughput", throughput, "run iperf3 through each tunnel and directly for `D` (0: skip)")
}

// measureWAN measures the testbed of t: its running lab l when not nil
// (then the lab's topology and environment, with each router's CPU from
// its container's cgroup), else the hardware through env. With --geo the
// targets come from the preset instead of the topology's latency. The
// report is nil when nothing could be measured; otherwise it holds what
// was, and the error what was not.
func measureWAN(ctx context.Context, t *topology.Topology, env *layer.Env, l *lab.Lab, o *options, mf measureFlags) (*wan.Report, error) {
	opts := layer.MeasureOptions{Pings: mf.pings, Throughput: mf.throughput}
	if l != nil {
		if r := l.Relay(); r != nil {
			dir, err := labStateDir(o, t.Name)
			if err != nil {
				return nil, err
			}
			if _, ok := relayPID(dir); !ok {
				return nil, fmt.Errorf("the lab's WAN relay (%s) is not running, so its tunnels have no path; restart it with stage apply --lab", r.Bind)
			}
		}
		labEnv := l.Env(env.State)
		labEnv.Log = env.Log
		t, env = l.Topology(), labEnv
		opts.CPU = containerCPU(l)
	}
	if mf.geo != "" {
		var names []string
		for _, s := range t.Sites {
			names = append(names, s.Name)
		}
		sites, err := wan.GeoPreset(mf.geo, names)
		if err != nil {
			return nil, err
		}
		env.Latency = &wan.Model{Sites: sites}
	}
	rep, err := layer.MeasureWAN(ctx, t, env, opts)
	return &rep, err
}

func joinPresets() string { return strings.Join(wan.GeoPresets(), ", ") }

// containerCPU counts a lab router's CPU from its container's cgroup, found
// through the container's main process.
func containerCPU(l *lab.Lab) func(context.Context, string, remote.Runner) (wan.CPUCounter, error) {
	return func(ctx context.Context, router string, _ remote.Runner) (wan.CPUCounter, error) {
		local := &remote.Local{}
		out, err := remote.Output(ctx, local, "docker inspect -f '{{.State.Pid}}' "+remote.ShellQuote(l.ContainerName(router)))
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("container of %s: no running process (docker says %q)", router, strings.TrimSpace(out))
		}
		return wan.PIDCgroupCPU(local, pid), nil
	}
}
