package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// runVerify pings, from inside every machine of the topology's running lab,
// every other machine, and prints the o/x matrix, or with --json
// {"hosts":[{"from","to","reachable","rtt_ms"}]}. With --measure it also
// measures what `stage measure` does (per site pair the target and the
// measured RTT through the tunnel; per tunnel TCP throughput through it and
// directly, and the routers' CPU meanwhile) and adds it to the JSON as
// "sites" and "tunnels". It exits 1 when a pair is unreachable. On
// hardware there is no verify yet: say so.
func runVerify(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var mf measureFlags
	var asJSON, measure bool
	fs := newFlagSet("verify", errOut, &o)
	addLabFlags(fs, &o)
	fs.BoolVar(&asJSON, "json", false, "print the matrix as JSON")
	fs.BoolVar(&measure, "measure", false, "also measure latency per site pair, and throughput and router CPU per tunnel")
	addMeasureFlags(fs, &mf, 3*time.Second)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	if !o.lab {
		return fmt.Errorf("verify measures from inside the machines, which only the lab can do yet; add --lab")
	}
	t, err := topology.Load(o.file)
	if err != nil {
		return err
	}
	l, err := attachLab(ctx, t, &o, o.logger(errOut), errOut)
	if err != nil {
		return err
	}
	m, err := l.Matrix(ctx)
	if err != nil {
		return err
	}
	var rep *wan.Report
	var measureErr error
	if measure {
		rep, measureErr = measureWAN(ctx, t, nil, l, mf)
	}
	if asJSON {
		data, err := json.Marshal(struct {
			Hosts []lab.Pair `json:"hosts"`
			*wan.Report
		}{m.Pairs, rep})
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(data))
	} else {
		fmt.Fprint(out, m.Table())
		if rep != nil {
			fmt.Fprintf(out, "\n%s", rep.Table())
		}
	}
	if measureErr != nil {
		return fmt.Errorf("measure: %w", measureErr)
	}
	if broken := m.Unreachable(); len(broken) > 0 {
		// Said on stderr in every output mode: a script that reads the
		// JSON still learns why the command failed.
		var pairs []string
		for _, p := range broken[:min(len(broken), 5)] {
			pairs = append(pairs, p.From+"→"+p.To)
		}
		if len(broken) > 5 {
			pairs = append(pairs, fmt.Sprintf("and %d more", len(broken)-5))
		}
		return fmt.Errorf("%d of %d pairs unreachable: %s", len(broken), len(m.Pairs), strings.Join(pairs, ", "))
	}
	return nil
}
