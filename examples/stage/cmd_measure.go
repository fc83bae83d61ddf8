package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// stage measure reports what issue 8 asks of `stage verify --measure`, for
// a testbed that is up: per tunnel, the median RTT against the latency
// model's target, and with --throughput the TCP throughput through the
// tunnel and directly, and the routers' CPU meanwhile.
//
//	stage measure -f FILE [--geo PRESET] [--pings N] [--throughput 5s] [--json]
//
// It registers itself here so that main.go's command table stays the
// lead's; verify can call topology.MeasureWAN the same way.
func init() {
	commands["measure"] = command{"measure latency, tunnel throughput and router CPU of a running testbed", runMeasure}
}

func runMeasure(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	fs := newFlagSet("measure", errOut, &o)
	geo := fs.String("geo", "", "place the sites, in order, with a `PRESET` of package wan ("+joinPresets()+")")
	pings := fs.Int("pings", 20, "pings per tunnel (`N`, 200 ms apart)")
	throughput := fs.Duration("throughput", 0, "run iperf3 through each tunnel and directly for `D` (0: skip)")
	asJSON := fs.Bool("json", false, `print {"sites": [...], "tunnels": [...]} instead of tables`)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	t, env, closeEnv, err := o.load(ctx, errOut)
	if err != nil {
		return err
	}
	defer closeEnv()
	if *geo != "" {
		var names []string
		for _, s := range t.Sites {
			names = append(names, s.Name)
		}
		sites, err := wan.GeoPreset(*geo, names)
		if err != nil {
			return err
		}
		env.Latency = &wan.Model{Sites: sites}
	}
	rep, err := topology.MeasureWAN(ctx, t, env, topology.MeasureOptions{Pings: *pings, Throughput: *throughput})
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

func joinPresets() string { return strings.Join(wan.GeoPresets(), ", ") }
