package wan

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Egress is one emulated WAN direction on a router: a netem policy on the
// egress of the interface that leads to the peer (the tunnel interface).
// netem only shapes egress, so each router of a pair delays what it sends
// and the two halves add up to the RTT; Link.Sides splits a link.
type Egress struct {
	// Interface is the router's interface: "vtun0" (VyOS OpenVPN),
	// "eth0" or "eth0.100" on VyOS, any Linux interface name for tc.
	Interface string
	// Policy names the VyOS network-emulator policy ("WAN-site-b");
	// tc does not use it.
	Policy string
	Shape  Shape
}

// Sides splits l between the two routers of the pair: side a (the pair's
// first site) delays by RTT/2 truncated to a whole millisecond and side b
// by the rest, so the halves add up to the RTT even where a target takes
// only whole milliseconds. Both sides get the link's jitter and loss.
func (l Link) Sides() (a, b Shape) {
	half := (l.RTT / 2).Truncate(time.Millisecond)
	a = Shape{Delay: half, Jitter: l.Jitter, LossPct: l.LossPct}
	b = Shape{Delay: l.RTT - half, Jitter: l.Jitter, LossPct: l.LossPct}
	return a, b
}

// Script is a rendered configuration: the lines to run, and notes on what
// the target cannot express (shown in `stage render`, never silently
// dropped).
type Script struct {
	Lines []string
	Notes []string
}

// String renders the notes as shell comments followed by the lines, one
// per line.
func (s Script) String() string {
	var b strings.Builder
	for _, n := range s.Notes {
		b.WriteString("# " + n + "\n")
	}
	for _, l := range s.Lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

var (
	policyName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	vyosIface    = regexp.MustCompile(`^(vtun[0-9]+|eth[0-9]+(\.[0-9]+)?)$`)
	linuxIface   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$`)
	vyosVersionR = regexp.MustCompile(`^1\.([0-9]+)(\.|-|$)`)
)

// VyOSNetem renders egress policies as VyOS set commands for the given
// VyOS version: `traffic-policy network-emulator` on 1.2 and 1.3, `qos
// policy network-emulator` on 1.4 and later. VyOS has no jitter setting,
// and 1.4+ takes whole milliseconds and whole percent; what is rounded or
// left out is said in Script.Notes. A zero shape renders nothing.
func VyOSNetem(version string, egress []Egress) (Script, error) {
	m := vyosVersionR.FindStringSubmatch(version)
	if m == nil {
		return Script{}, fmt.Errorf("vyos version %q: want 1.2, 1.3, 1.4 or 1.5", version)
	}
	minor, _ := strconv.Atoi(m[1])
	if minor < 2 || minor > 5 {
		return Script{}, fmt.Errorf("vyos version %q: want 1.2, 1.3, 1.4 or 1.5", version)
	}
	if err := validateEgress(egress, true); err != nil {
		return Script{}, err
	}
	var s Script
	for _, e := range egress {
		if e.Shape == (Shape{}) {
			continue
		}
		if e.Shape.Jitter > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("%s: jitter ±%v not rendered: VyOS network-emulator has no jitter setting", e.Interface, e.Shape.Jitter))
		}
		if minor <= 3 {
			s.Lines = append(s.Lines, vyos12(e)...)
		} else {
			s.Lines = append(s.Lines, vyos14(e, &s.Notes)...)
		}
	}
	return s, nil
}

func vyos12(e Egress) []string {
	p := "set traffic-policy network-emulator " + e.Policy
	lines := []string{p + " network-delay " + tcTime(e.Shape.Delay)}
	if e.Shape.LossPct > 0 {
		lines = append(lines, p+" packet-loss "+percent(e.Shape.LossPct))
	}
	iface := "openvpn " + e.Interface
	if strings.HasPrefix(e.Interface, "eth") {
		iface = "ethernet " + strings.Replace(e.Interface, ".", " vif ", 1)
	}
	return append(lines, "set interfaces "+iface+" traffic-policy out "+e.Policy)
}

func vyos14(e Egress, notes *[]string) []string {
	p := "set qos policy network-emulator " + e.Policy
	ms := int64(math.Round(float64(e.Shape.Delay) / float64(time.Millisecond)))
	if time.Duration(ms)*time.Millisecond != e.Shape.Delay {
		*notes = append(*notes, fmt.Sprintf("%s: delay %v rounded to %dms: VyOS 1.4+ takes whole milliseconds", e.Interface, e.Shape.Delay, ms))
	}
	lines := []string{fmt.Sprintf("%s delay %d", p, ms)}
	if e.Shape.LossPct > 0 {
		loss := math.Round(e.Shape.LossPct)
		if loss != e.Shape.LossPct {
			*notes = append(*notes, fmt.Sprintf("%s: loss %s rounded to %.0f%%: VyOS 1.4+ takes whole percent", e.Interface, percent(e.Shape.LossPct), loss))
		}
		if loss > 0 {
			lines = append(lines, fmt.Sprintf("%s loss %.0f", p, loss))
		}
	}
	return append(lines, "set qos interface "+e.Interface+" egress "+e.Policy)
}

// LinuxNetem renders egress policies as tc commands for a Linux router:
// `tc qdisc replace dev IF root netem delay D [JITTER] [loss P%]`.
// replace makes a re-run harmless. Jitter in netem reorders datagrams, as
// the relay does. netem queues at most 1000 packets by default, enough for
// about 100 Mbit/s of 1400-byte packets at 100 ms one way. A zero shape
// renders nothing.
func LinuxNetem(egress []Egress) (Script, error) {
	if err := validateEgress(egress, false); err != nil {
		return Script{}, err
	}
	var s Script
	for _, e := range egress {
		if e.Shape == (Shape{}) {
			continue
		}
		line := "tc qdisc replace dev " + e.Interface + " root netem delay " + tcTime(e.Shape.Delay)
		if e.Shape.Jitter > 0 {
			line += " " + tcTime(e.Shape.Jitter)
		}
		if e.Shape.LossPct > 0 {
			line += " loss " + percent(e.Shape.LossPct)
		}
		s.Lines = append(s.Lines, line)
	}
	return s, nil
}

func validateEgress(egress []Egress, vyos bool) error {
	var errs []error
	seen := map[string]bool{}
	policies := map[string]Shape{}
	for i, e := range egress {
		field := fmt.Sprintf("egress[%d] (interface %q)", i, e.Interface)
		switch {
		case vyos && !vyosIface.MatchString(e.Interface):
			errs = append(errs, fmt.Errorf("%s: want vtunN, ethN or ethN.VLAN", field))
		case !vyos && !linuxIface.MatchString(e.Interface):
			errs = append(errs, fmt.Errorf("%s: not a Linux interface name", field))
		case seen[e.Interface]:
			errs = append(errs, fmt.Errorf("%s: interface has a policy already", field))
		}
		seen[e.Interface] = true
		if vyos && !policyName.MatchString(e.Policy) {
			errs = append(errs, fmt.Errorf("%s: policy %q: want letters, digits, - and _", field, e.Policy))
		}
		if prev, ok := policies[e.Policy]; vyos && ok && prev != e.Shape {
			errs = append(errs, fmt.Errorf("%s: policy %q is used with another shape already", field, e.Policy))
		}
		policies[e.Policy] = e.Shape
		if err := e.Shape.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	return errors.Join(errs...)
}

// tcTime writes d as tc and VyOS 1.2 read it: whole milliseconds as "36ms",
// anything finer in microseconds ("36500us").
func tcTime(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return strconv.FormatInt(int64(d.Round(time.Microsecond)/time.Microsecond), 10) + "us"
}

func percent(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}
