package kubeadm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// Where the default CNI keeps its files on each node.
const (
	VXLANConflist = "/etc/cni/net.d/10-planetstage.conflist"
	VXLANScript   = "/etc/planetstage/cni-vxlan.sh"
)

// VXLAN is the default CNI ("vxlan"): each node's pods sit on a Linux bridge
// (the standard bridge + host-local plugins, subnet = the node's podCIDR),
// and traffic to another node's pods goes through one unicast VXLAN device
// per node with static forwarding entries, the data path of flannel's vxlan
// backend without its daemon or image.
//
// Why this default: the sites are separate L3 subnets joined by routers, so
// "podCIDR via nodeIP" routes (bridge with host routes, flannel host-gw)
// would need every router to know every pod CIDR; an overlay carried in
// UDP between node addresses crosses the routers and tunnels unchanged. It
// needs no container image (none can be pulled in the lab), only iproute2 and
// the standard CNI plugins on the nodes. IPIP would be lighter but the lab
// kernel has no ipip module; VXLAN is built in.
//
// It does not masquerade pod traffic leaving the cluster, and routes to a
// removed node stay until the node's device is recreated. Choose another CNI
// by passing a Manifest (or any CNI) instead.
type VXLAN struct {
	// MTU of the pod network; 1350 when zero, leaving room for VXLAN (50
	// bytes) inside an OpenVPN tunnel on a 1500-byte path.
	MTU int
	// VNI is the VXLAN network identifier; 4242 when zero.
	VNI int
}

// Name implements CNI.
func (VXLAN) Name() string { return "vxlan" }

func (v VXLAN) mtu() int {
	if v.MTU > 0 {
		return v.MTU
	}
	return 1350
}

func (v VXLAN) vni() int {
	if v.VNI > 0 {
		return v.VNI
	}
	return 4242
}

// vxlanPeer is one node as the overlay sees it.
type vxlanPeer struct {
	name    string
	address netip.Addr
	podCIDR netip.Prefix
}

// vtepMAC derives a stable, locally administered MAC from a node address,
// so no node needs to learn another's MAC at run time.
func vtepMAC(a netip.Addr) string {
	sum := sha256.Sum256(a.AsSlice())
	return net.HardwareAddr(append([]byte{0x02}, sum[:5]...)).String()
}

// files renders the conflist and the setup script of one node, given every
// node's pod CIDR. Both are deterministic, so Check can compare them.
func (v VXLAN) files(self string, peers []vxlanPeer) (conflist, script []byte, err error) {
	i := slices.IndexFunc(peers, func(p vxlanPeer) bool { return p.name == self })
	if i < 0 {
		return nil, nil, fmt.Errorf("cni vxlan: node %q has no pod CIDR", self)
	}
	me := peers[i]
	conflist = fmt.Appendf(nil, `{"cniVersion":"1.0.0","name":"planetstage","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":false,"hairpinMode":true,"mtu":%d,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"%s"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
`, v.mtu(), me.podCIDR.Masked())

	var s strings.Builder
	fmt.Fprintf(&s, "#!/bin/sh\n# planetstage vxlan overlay for node %s; generated, re-run safe.\nset -e\ndev=vxlan.ps\n", me.name)
	fmt.Fprintf(&s, "ip link show $dev >/dev/null 2>&1 || ip link add $dev type vxlan id %d local %s dstport 4789 nolearning\n", v.vni(), me.address)
	fmt.Fprintf(&s, "ip link set $dev address %s mtu %d up\n", vtepMAC(me.address), v.mtu())
	fmt.Fprintf(&s, "ip addr replace %s/32 dev $dev\n", me.podCIDR.Masked().Addr())
	for _, p := range peers {
		if p.name == me.name {
			continue
		}
		mac, vtep := vtepMAC(p.address), p.podCIDR.Masked().Addr()
		fmt.Fprintf(&s, "# %s\n", p.name)
		fmt.Fprintf(&s, "bridge fdb replace %s dev $dev dst %s self permanent\n", mac, p.address)
		fmt.Fprintf(&s, "ip neigh replace %s lladdr %s dev $dev nud permanent\n", vtep, mac)
		fmt.Fprintf(&s, "ip route replace %s via %s dev $dev onlink\n", p.podCIDR.Masked(), vtep)
	}
	return conflist, []byte(s.String()), nil
}

// podCIDRWait bounds the wait for the podCIDRs of nodes that have just
// joined.
const podCIDRWait = time.Minute

func (b *Bootstrapper) vxlanPeers(ctx context.Context) ([]vxlanPeer, error) {
	// The controller manager gives a node its podCIDR a moment after the
	// node registers, which comes after kubeadm join returns: seconds
	// when the API server is a long round trip away (São Paulo joining a
	// control plane in Tokyo through the lab's WAN relay missed it once).
	// A node still without one after podCIDRWait is an error.
	deadline := b.now().Add(podCIDRWait)
	cidrs, err := b.PodCIDRs(ctx)
	for err != nil && b.now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), err)
		case <-time.After(b.poll()):
		}
		cidrs, err = b.PodCIDRs(ctx)
	}
	if err != nil {
		return nil, err
	}
	var peers []vxlanPeer
	for _, n := range b.Cluster.Nodes() {
		peers = append(peers, vxlanPeer{n.Name, n.Address, cidrs[n.Name]})
	}
	return peers, nil
}

// Check implements CNI: it compares each node's conflist and script with
// what Install would write.
func (v VXLAN) Check(ctx context.Context, b *Bootstrapper) (string, error) {
	peers, err := b.vxlanPeers(ctx)
	if err != nil {
		return "", err
	}
	var stale []string
	for _, p := range peers {
		r, err := b.dial(ctx, p.name)
		if err != nil {
			return "", err
		}
		conflist, script, err := v.files(p.name, peers)
		if err != nil {
			return "", err
		}
		if !v.upToDate(ctx, r, conflist, script) {
			stale = append(stale, p.name)
		}
	}
	if len(stale) == 0 {
		return "", nil
	}
	return "vxlan overlay to (re)configure on " + strings.Join(stale, ", "), nil
}

// upToDate says whether a node has both files as rendered and the device up
// (it vanishes on reboot while the files stay).
func (v VXLAN) upToDate(ctx context.Context, r remote.Runner, conflist, script []byte) bool {
	for path, want := range map[string][]byte{VXLANConflist: conflist, VXLANScript: script} {
		if got, err := r.ReadFile(ctx, path); err != nil || string(got) != string(want) {
			return false
		}
	}
	return r.Run(ctx, remote.Cmd{Command: "ip link show vxlan.ps up | grep -q UP"}) == nil
}

// Install implements CNI: on every node, in parallel, write the conflist and
// the script, and run the script (it only replaces entries, so re-running
// it is safe).
func (v VXLAN) Install(ctx context.Context, b *Bootstrapper) error {
	peers, err := b.vxlanPeers(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(peers))
	for i, p := range peers {
		wg.Go(func() { errs[i] = v.installOn(ctx, b, p.name, peers) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (v VXLAN) installOn(ctx context.Context, b *Bootstrapper, node string, peers []vxlanPeer) error {
	r, err := b.dial(ctx, node)
	if err != nil {
		return err
	}
	conflist, script, err := v.files(node, peers)
	if err != nil {
		return err
	}
	if _, err := writeIfChanged(ctx, r, VXLANConflist, conflist, 0o644); err != nil {
		return fmt.Errorf("node %q: cni vxlan: %w", node, err)
	}
	if _, err := writeIfChanged(ctx, r, VXLANScript, script, 0o755); err != nil {
		return fmt.Errorf("node %q: cni vxlan: %w", node, err)
	}
	if _, err := b.run(ctx, r, "sh "+VXLANScript, nil); err != nil {
		return fmt.Errorf("node %q: cni vxlan: %w", node, err)
	}
	return nil
}
