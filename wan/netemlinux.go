package wan

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// InspectLinuxNetem reads the root qdisc of each egress interface on a
// Linux router (tc qdisc show) and returns the egress policies that differ
// from what is there, with a reason each: what an apply would change. A
// zero shape wants no netem at all.
func InspectLinuxNetem(ctx context.Context, r remote.Runner, egress []Egress) ([]Egress, []string, error) {
	if err := validateEgress(egress, false); err != nil {
		return nil, nil, err
	}
	var (
		change  []Egress
		reasons []string
	)
	for _, e := range egress {
		out, err := remote.Output(ctx, r, "tc qdisc show dev "+remote.ShellQuote(e.Interface)+" root")
		if err != nil {
			return nil, nil, fmt.Errorf("router %s: netem on %s: %w", r.Host(), e.Interface, err)
		}
		have, isNetem := parseNetem(out)
		switch {
		case e.Shape == (Shape{}) && isNetem:
			change = append(change, e)
			reasons = append(reasons, fmt.Sprintf("%s: remove netem (%s)", e.Interface, describe(have)))
		case e.Shape == (Shape{}):
		case !isNetem:
			change = append(change, e)
			reasons = append(reasons, fmt.Sprintf("%s: add netem %s", e.Interface, describe(e.Shape)))
		case !sameShape(have, e.Shape):
			change = append(change, e)
			reasons = append(reasons, fmt.Sprintf("%s: netem %s -> %s", e.Interface, describe(have), describe(e.Shape)))
		}
	}
	return change, reasons, nil
}

// ApplyLinuxNetem sets the egress policies on a Linux router: tc qdisc
// replace for a shape, tc qdisc del for a zero shape (tolerating that
// there is none). Each command is idempotent.
func ApplyLinuxNetem(ctx context.Context, r remote.Runner, egress []Egress) error {
	for _, e := range egress {
		cmd := "tc qdisc del dev " + remote.ShellQuote(e.Interface) + " root 2>/dev/null || true"
		if e.Shape != (Shape{}) {
			s, err := LinuxNetem([]Egress{e})
			if err != nil {
				return err
			}
			cmd = s.Lines[0]
		}
		if out, err := remote.CombinedOutput(ctx, r, cmd); err != nil {
			if strings.Contains(out+err.Error(), "qdisc kind is unknown") {
				return fmt.Errorf("router %s: netem on %s: the kernel has no netem qdisc (load sch_netem; in the lab the user-space relay emulates the latency instead): %w", r.Host(), e.Interface, err)
			}
			return fmt.Errorf("router %s: netem on %s: %w", r.Host(), e.Interface, err)
		}
	}
	return nil
}

func describe(s Shape) string {
	d := "delay " + tcTime(s.Delay)
	if s.Jitter > 0 {
		d += " ±" + tcTime(s.Jitter)
	}
	if s.LossPct > 0 {
		d += " loss " + percent(s.LossPct)
	}
	return d
}

// sameShape compares with the resolution tc reports: 0.1 ms, 0.01 %.
func sameShape(a, b Shape) bool {
	near := func(x, y time.Duration) bool { return (x - y).Abs() < 100*time.Microsecond }
	return near(a.Delay, b.Delay) && near(a.Jitter, b.Jitter) && math.Abs(a.LossPct-b.LossPct) < 0.01
}

// parseNetem reads `tc qdisc show` output: "qdisc netem 8001: root refcnt 2
// limit 1000 delay 70ms  2ms loss 1%" (iproute2 6.x; older versions print
// "70.0ms"). It reports whether the qdisc is netem at all.
func parseNetem(out string) (Shape, bool) {
	f := strings.Fields(out)
	if len(f) < 2 || f[0] != "qdisc" || f[1] != "netem" {
		return Shape{}, false
	}
	var s Shape
	for i := 2; i < len(f); i++ {
		switch f[i] {
		case "delay":
			if i+1 < len(f) {
				s.Delay, _ = parseTCTime(f[i+1])
				i++
				if i+1 < len(f) {
					if j, ok := parseTCTime(f[i+1]); ok {
						s.Jitter = j
						i++
					}
				}
			}
		case "loss":
			if i+1 < len(f) {
				v := f[i+1]
				if v == "random" && i+2 < len(f) {
					i++
					v = f[i+1]
				}
				s.LossPct, _ = strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
				i++
			}
		}
	}
	return s, true
}

// parseTCTime reads tc's time format: "70ms", "70.0ms", "500us", "1.5s".
func parseTCTime(v string) (time.Duration, bool) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}} {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			x, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, false
			}
			return time.Duration(math.Round(x * float64(u.unit))), true
		}
	}
	return 0, false
}
