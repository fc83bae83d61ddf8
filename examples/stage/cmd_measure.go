package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab"
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
		if l, err = attachLab(ctx, t, &o, env.Log, errOut); err != nil {
			return err
		}
	}
	rep, err := measureWAN(ctx, t, env, l, mf)
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
	fs.StringVar(&mf.geo, "geo", "", "place the sites, in order, with a `PRESET` of package wan ("+strings.Join(wan.GeoPresets(), ", ")+")")
	fs.IntVar(&mf.pings, "pings", 20, "pings per tunnel (`N`, 200 ms apart)")
	fs.DurationVar(&mf.throughput, "throughput", throughput, "run iperf3 through each tunnel and directly for `D` (0: skip)")
}

// measureWAN measures the testbed of t: its running lab l when not nil,
// else the hardware through env. With --geo the targets come from the
// preset instead of the topology's latency. The report is nil when nothing
// could be measured; otherwise it holds what was, and the error what was
// not.
func measureWAN(ctx context.Context, t *topology.Topology, env *layer.Env, l *lab.Lab, mf measureFlags) (*wan.Report, error) {
	opts := layer.MeasureOptions{Pings: mf.pings, Throughput: mf.throughput}
	var latency *wan.Model
	if mf.geo != "" {
		var names []string
		for _, s := range t.Sites {
			names = append(names, s.Name)
		}
		sites, err := wan.GeoPreset(mf.geo, names)
		if err != nil {
			return nil, err
		}
		latency = &wan.Model{Sites: sites}
	}
	var rep wan.Report
	var err error
	if l != nil {
		rep, err = l.MeasureWAN(ctx, opts, latency)
	} else {
		if latency != nil {
			env.Latency = latency
		}
		rep, err = layer.MeasureWAN(ctx, t, env, opts)
	}
	return &rep, err
}
