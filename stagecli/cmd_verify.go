package stagecli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/wan"
)

// runVerify pings, from inside every machine of the testbed (over SSH on
// hardware, through the containers with --lab), every other machine, and
// prints the o/x matrix, or with --json
// {"hosts":[{"from","to","reachable","rttMs"}]}. With --measure it also
// measures what `stage measure` does (per site pair the target and the
// measured RTT through the tunnel; per tunnel TCP throughput through it and
// directly, and the routers' CPU meanwhile) and adds it to the JSON as
// "sites" and "tunnels"; with --kinds it compares the tunnel kinds
// instead (stage measure --kinds), as "comparison". It exits 1 when a pair
// is unreachable.
func (c *CLI) runVerify(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var mf measureFlags
	var asJSON, measure bool
	fs := c.newFlagSet("verify", errOut, &o)
	addLabFlags(fs, &o)
	fs.BoolVar(&asJSON, "json", false, "print the matrix as JSON")
	fs.BoolVar(&measure, "measure", false, "also measure latency per site pair, and throughput and router CPU per tunnel")
	addMeasureFlags(fs, &mf, 3*time.Second)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	tb, err := o.open(ctx, errOut, errOut)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	m, err := tb.Matrix(ctx)
	if err != nil {
		return err
	}
	var rep *wan.Report
	var kinds *lab.Comparison
	var measureErr error
	switch {
	case measure && mf.kinds != "":
		kinds, measureErr = compareKinds(ctx, tb, mf)
	case measure:
		rep, measureErr = measureWAN(ctx, tb, mf)
	}
	if asJSON {
		data, err := json.Marshal(struct {
			Hosts []reach.Pair `json:"hosts"`
			*wan.Report
			Comparison *lab.Comparison `json:"comparison,omitempty"`
		}{m.Pairs, rep, kinds})
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(data))
	} else {
		fmt.Fprint(out, m.Table())
		if rep != nil {
			fmt.Fprintf(out, "\n%s", rep.Table())
		}
		if kinds != nil {
			fmt.Fprintf(out, "\n%s", kinds.Table())
		}
	}
	if measureErr != nil {
		return fmt.Errorf("measure: %w", measureErr)
	}
	// Said on stderr in every output mode: a script that reads the JSON
	// still learns why the command failed.
	return m.CheckConnected()
}
