package stagecli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/wan"
)

// stage measure reports what issue 8 asks of `stage verify --measure`, for
// a testbed that is up: per tunnel, the median RTT against the latency
// model's target, and with --throughput the TCP throughput through the
// tunnel and directly, and the routers' CPU meanwhile.
//
//	stage measure -f FILE [--lab] [--geo PRESET] [--pings N] [--throughput 5s] [--json]
//	stage measure -f FILE --lab --kinds openvpn,wireguard [--json]
//
// With --lab it measures the topology's running lab; a container's CPU is
// counted from its cgroup (a container sees its host's /proc/stat). The
// lab's routers need iperf3 for --throughput. With --kinds it measures
// each tunnel kind in turn on the running lab, without latency and with
// the topology's, and puts the file's kind back (lab.CompareTunnelKinds).

func (c *CLI) runMeasure(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var mf measureFlags
	fs := c.newFlagSet("measure", errOut, &o)
	addLabFlags(fs, &o)
	addMeasureFlags(fs, &mf, 0)
	asJSON := fs.Bool("json", false, `print {"sites": [...], "tunnels": [...]} instead of tables`)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	tb, err := o.open(ctx, errOut, errOut)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	var rep interface{ Table() string }
	if mf.kinds != "" {
		var c *lab.Comparison
		if c, err = compareKinds(ctx, tb, mf); c != nil {
			rep = c
		}
	} else {
		var r *wan.Report
		if r, err = measureWAN(ctx, tb, mf); r != nil {
			rep = r
		}
	}
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

// compareKinds measures the tunnel kinds --kinds names side by side on
// the running lab l. The comparison is nil when nothing could be
// measured.
func compareKinds(ctx context.Context, tb *testbed.Testbed, mf measureFlags) (*lab.Comparison, error) {
	switch {
	case !tb.IsLab():
		return nil, errors.New("--kinds switches the tunnels of a running lab: add --lab")
	case mf.geo != "":
		return nil, errors.New("--kinds measures against the latency the lab's relay applies, and --geo changes only the targets: leave --geo out, or place the sites in the file")
	}
	l, err := tb.Lab(ctx)
	if err != nil {
		return nil, err
	}
	c, err := l.CompareTunnelKinds(ctx, lab.CompareOptions{Kinds: strings.Split(mf.kinds, ","),
		Measure: layer.MeasureOptions{Pings: mf.pings, Throughput: mf.throughput, Paths: int(mf.paths)}})
	if len(c.Runs) == 0 {
		return nil, err
	}
	return &c, err
}

// measureFlags are what `stage measure` and `stage verify --measure` take.
type measureFlags struct {
	geo        string
	pings      int
	throughput time.Duration
	paths      pathsFlag
	kinds      string
}

// pathsFlag is --paths: "all", a number of site pairs, or unset.
type pathsFlag int

func (p *pathsFlag) String() string {
	switch {
	case p == nil || *p == 0:
		return ""
	case *p == layer.AllPaths:
		return "all"
	}
	return strconv.Itoa(int(*p))
}

func (p *pathsFlag) Set(v string) error {
	if v == "all" {
		*p = layer.AllPaths
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("%q: want all or a number of site pairs above 0", v)
	}
	*p = pathsFlag(n)
	return nil
}

func addMeasureFlags(fs *flag.FlagSet, mf *measureFlags, throughput time.Duration) {
	fs.StringVar(&mf.geo, "geo", "", "place the sites, in order, with a `PRESET` of package wan ("+strings.Join(wan.GeoPresets(), ", ")+")")
	fs.IntVar(&mf.pings, "pings", 20, "pings per tunnel (`N`, 200 ms apart)")
	fs.DurationVar(&mf.throughput, "throughput", throughput, "run iperf3 through each tunnel and directly for `D` (0: skip)")
	fs.Var(&mf.paths, "paths", "measure site pairs end to end, through the hubs they cross: all, or a sample of `N` pairs (default: each tunnel)")
	fs.StringVar(&mf.kinds, "kinds", "", "with --lab, measure each tunnel kind of `K1,K2` (openvpn,wireguard) side by side, without and with the file's latency, then restore the file's kind; --throughput 0 means 3s")
}

// measureWAN measures the running testbed. With --geo the targets come
// from the preset instead of the topology's latency. The report is nil
// when nothing could be measured; otherwise it holds what was, and the
// error what was not.
func measureWAN(ctx context.Context, tb *testbed.Testbed, mf measureFlags) (*wan.Report, error) {
	var latency *wan.Model
	if mf.geo != "" {
		placed := tb.Topology().Clone()
		if err := placed.PlaceSites(mf.geo); err != nil {
			return nil, err
		}
		latency = &wan.Model{Sites: placed.LatencyModel().Sites}
	}
	rep, err := tb.MeasureWAN(ctx, layer.MeasureOptions{Pings: mf.pings, Throughput: mf.throughput, Paths: int(mf.paths)}, latency)
	return &rep, err
}
