package vyos

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/planetstage/planetstage/tunnel"
)

// addLatency adds network-emulator policies that delay what the router
// sends into each tunnel by r.Latency[peer site]: on real hardware, the
// testbed's latency matrix. Policies are shared by delay ("planetstage-50ms").
// The router's kernel needs the sch_netem module.
//
// ifType is the interfaces node of the tunnels ("openvpn", "wireguard")
// and ifName names tunnel i's interface.
func (c *Config) addLatency(site string, tunnels []tunnel.Tunnel, latency map[string]time.Duration, ifType string, ifName func(int) string) error {
	if c.Dialect.atLeast(V14) {
		// Own every tunnel's attachment, so removing a delay detaches it.
		for _, t := range tunnels {
			c.Owned = append(c.Owned, []string{"qos", "interface", ifName(t.Index)})
		}
	}
	peers := make([]string, 0, len(latency))
	for p := range latency {
		peers = append(peers, p)
	}
	sort.Strings(peers)
	defined := map[string]bool{}
	for _, peer := range peers {
		d := latency[peer]
		ms := d.Milliseconds()
		if d <= 0 || d%time.Millisecond != 0 || ms > 65535 {
			return fmt.Errorf("vyos: router %q: latency to %q is %v: want whole milliseconds from 1ms to 65535ms", c.Router, peer, d)
		}
		iface := ""
		for _, t := range tunnels {
			if _, p, _ := t.Local(site); p.Site == peer {
				iface = ifName(t.Index)
			}
		}
		if iface == "" {
			return fmt.Errorf("vyos: router %q: latency to %q: no tunnel to that site", c.Router, peer)
		}
		name := "planetstage-" + strconv.FormatInt(ms, 10) + "ms"
		if !defined[name] {
			defined[name] = true
			if c.Dialect.atLeast(V14) {
				c.Commands = append(c.Commands, set("qos", "policy", "network-emulator", name, "delay", strconv.FormatInt(ms, 10)))
				c.Owned = append(c.Owned, []string{"qos", "policy", "network-emulator", name})
			} else {
				c.Commands = append(c.Commands, set("traffic-policy", "network-emulator", name, "network-delay", strconv.FormatInt(ms, 10)+"ms"))
				c.Owned = append(c.Owned, []string{"traffic-policy", "network-emulator", name})
			}
		}
		if c.Dialect.atLeast(V14) {
			c.Commands = append(c.Commands, set("qos", "interface", iface, "egress", name))
		} else {
			c.Commands = append(c.Commands, set("interfaces", ifType, iface, "traffic-policy", "out", name))
		}
	}
	return nil
}
