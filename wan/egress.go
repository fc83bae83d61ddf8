package wan

import (
	"errors"
	"fmt"
	"regexp"
)

// TunnelIface is a tunnel as a router layer knows it: its interface name
// (the same on both routers, "vtun2") and the sites at its two ends.
type TunnelIface struct {
	Interface string
	Sites     [2]string
}

var policyUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// EgressFor returns the netem egress policies of site's router: one per
// tunnel that site is an end of and whose pair the matrix has, on the
// tunnel's interface, with that router's half of the link (Link.Sides:
// the pair's first site takes side a). Policies are named "WAN-" and the
// peer site. Tunnels whose pair is not in the matrix get no policy.
func EgressFor(site string, tunnels []TunnelIface, matrix []Entry) ([]Egress, error) {
	links := make(map[Pair]Link, len(matrix))
	for _, e := range matrix {
		links[e.Pair] = e.Link
	}
	var (
		out  []Egress
		errs []error
	)
	for _, t := range tunnels {
		var peer string
		switch site {
		case t.Sites[0]:
			peer = t.Sites[1]
		case t.Sites[1]:
			peer = t.Sites[0]
		default:
			continue
		}
		if t.Interface == "" {
			errs = append(errs, fmt.Errorf("tunnel %s<->%s: no interface name", t.Sites[0], t.Sites[1]))
			continue
		}
		p := NewPair(site, peer)
		link, ok := links[p]
		if !ok {
			continue
		}
		a, b := link.Sides()
		shape := a
		if site == p.B {
			shape = b
		}
		out = append(out, Egress{
			Interface: t.Interface,
			Policy:    "WAN-" + policyUnsafe.ReplaceAllString(peer, "-"),
			Shape:     shape,
		})
	}
	return out, errors.Join(errs...)
}
