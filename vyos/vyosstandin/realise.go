package vyosstandin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/vyos"
)

// unit is one tunnel interface: the files it needs, then a daemon that
// makes the interface (Argv: openvpn, wireguard-go) or commands that make
// it (Setup, undone by the kind's teardown: a kernel interface such as
// WireGuard's, "ip link add wg0 type wireguard"); after a daemon, Setup
// configures the interface it made ("wg setconf wg0 FILE"). Hash
// identifies its whole configuration, so that a re-commit redoes it only
// when something of it changed. Update, when set, brings the running
// interface to a changed configuration in place ("wg syncconf") instead
// of tearing it down, when the hash's implementation (the part before
// ":") is the same.
type unit struct {
	Name   string // the interface, "vtun1"
	Files  []vyos.File
	Argv   []string
	Setup  [][]string
	Update [][]string
	Hash   string
}

// interfaceKind realises one kind of tunnel interface: every instance of
// it in the configuration becomes a unit. A new kind (WireGuard's
// "interfaces wireguard wgN") is one more entry in interfaceKinds, with
// its own units; Realise converges every kind alike.
type interfaceKind struct {
	// Node is the configuration node of the kind's interfaces, under
	// "interfaces".
	Node  string
	units func(ctx context.Context, r *Router, cfg []vyos.Command) ([]unit, error)
	// teardown undoes a daemonless unit of an interface that was changed
	// or deleted (nil for daemons, which Stop undoes).
	teardown func(iface string) [][]string
}

var interfaceKinds = []interfaceKind{
	{Node: "openvpn", units: openvpnUnits},
	{Node: "wireguard", units: wireguardUnits, teardown: wireguardTeardown},
}

// realised is what Realise last made of the configuration, kept in
// /run/vyos-standin so that the next commit removes what it no longer
// has.
type realised struct {
	Units     map[string]string `json:"units"`     // "openvpn vtun1" -> unit hash
	Addresses []string          `json:"addresses"` // "eth0 10.4.0.90/16", "wg0 10.255.0.1/30"
	VLANs     []string          `json:"vlans"`     // "eth1.100"
	Routes    []string          `json:"routes"`    // "10.1.0.0/16 dev vtun1"
}

// Realise makes the machine's state what lines (an active configuration)
// says, and records what it made. It converges: units whose
// configuration is unchanged and whose daemon runs are left alone,
// changed ones restarted, removed ones stopped; addresses, VLANs and
// routes no longer configured are removed.
func (r *Router) Realise(ctx context.Context, lines []string) error {
	r.init()
	var prev realised
	if err := r.readJSON(realisedPath, &prev); err != nil {
		return fmt.Errorf("realise: %w", err)
	}
	cfg := commands(lines)
	if err := realisable(cfg); err != nil {
		return err
	}
	next := realised{Units: map[string]string{}}
	var errs []error

	vlans, addrs, tunnelAddrs := addressesOf(cfg)
	for _, v := range prev.VLANs {
		if !slices.Contains(vlans, v) {
			errs = append(errs, r.ip(ctx, "link", "del", v))
		}
	}
	for _, v := range vlans {
		parent, id, _ := strings.Cut(v, ".")
		if !r.System.LinkExists(v) {
			if err := r.ip(ctx, "link", "add", "link", parent, "name", v, "type", "vlan", "id", id); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		errs = append(errs, r.ip(ctx, "link", "set", v, "up"))
		next.VLANs = append(next.VLANs, v)
	}
	for _, a := range prev.Addresses {
		if !slices.Contains(addrs, a) && !slices.Contains(tunnelAddrs, a) {
			dev, prefix, _ := strings.Cut(a, " ")
			_ = r.ip(ctx, "addr", "del", prefix, "dev", dev) // gone with its VLAN, or by hand
		}
	}
	setAddresses := func(addrs []string) {
		for _, a := range addrs {
			dev, prefix, _ := strings.Cut(a, " ")
			if err := r.ip(ctx, "addr", "replace", prefix, "dev", dev); err != nil {
				errs = append(errs, err)
				continue
			}
			next.Addresses = append(next.Addresses, a)
		}
	}
	setAddresses(addrs)

	for _, k := range interfaceKinds {
		units, err := k.units(ctx, r, cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		want := map[string]unit{}
		for _, u := range units {
			want[k.Node+" "+u.Name] = u
		}
		for id := range prev.Units {
			if kind, _, _ := strings.Cut(id, " "); kind != k.Node {
				continue
			}
			if u, ok := want[id]; !ok || u.Hash != prev.Units[id] && !r.updatable(id, u, prev.Units[id]) {
				r.Log.Info("stopping", "unit", id, "why", map[bool]string{true: "changed", false: "deleted"}[ok])
				if err := r.System.Stop(ctx, id); err != nil {
					errs = append(errs, err)
				}
				if _, name, _ := strings.Cut(id, " "); k.teardown != nil {
					for _, argv := range k.teardown(name) {
						_ = r.System.Run(ctx, argv...) // gone already, or by hand
					}
				}
			}
		}
		for _, u := range units {
			id := k.Node + " " + u.Name
			if prev.Units[id] == u.Hash && r.up(id, u) {
				next.Units[id] = u.Hash
				continue
			}
			if _, had := prev.Units[id]; had && r.updatable(id, u, prev.Units[id]) {
				if err := r.updateUnit(ctx, id, u); err != nil {
					errs = append(errs, fmt.Errorf("interfaces %s: %w", id, err))
					continue
				}
				next.Units[id] = u.Hash
				continue
			}
			if err := r.startUnit(ctx, id, u); err != nil {
				errs = append(errs, fmt.Errorf("interfaces %s: %w", id, err))
				continue
			}
			next.Units[id] = u.Hash
		}
	}

	// A tunnel interface's addresses once it exists (again: a remade
	// interface has lost them).
	setAddresses(tunnelAddrs)

	routes := routesOf(cfg)
	for _, rt := range prev.Routes {
		if !slices.Contains(routes, rt) {
			_ = r.ip(ctx, append([]string{"route", "del"}, strings.Fields(rt)...)...) // gone with its interface, or by hand
		}
	}
	for _, rt := range routes {
		// replace, every time: a restarted daemon's new device has lost
		// the routes through it.
		if err := r.ip(ctx, append([]string{"route", "replace"}, strings.Fields(rt)...)...); err != nil {
			errs = append(errs, err)
			continue
		}
		next.Routes = append(next.Routes, rt)
	}
	if err := r.writeJSON(realisedPath, next); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// realisable refuses an interface kind the stand-in cannot realise (one
// the command tree gained without an entry in interfaceKinds), rather than
// commit it and do nothing.
func realisable(cfg []vyos.Command) error {
	for _, c := range cfg {
		if len(c.Path) < 2 || c.Path[0] != "interfaces" || c.Path[1] == "ethernet" {
			continue
		}
		if !slices.ContainsFunc(interfaceKinds, func(k interfaceKind) bool { return k.Node == c.Path[1] }) {
			return fmt.Errorf("interfaces %s: the VyOS stand-in cannot realise this kind of interface", c.Path[1])
		}
	}
	return nil
}

// Unrealised are the configuration trees the stand-in keeps but does not
// realise, and why; a commit that has them prints a warning. ("system
// host-name" and "service ssh" are not realised either: the container
// keeps its name, sshd its configuration.)
var Unrealised = map[string]string{
	"traffic-policy": "no netem on this kernel",
	"qos":            "no netem on this kernel",
}

// up reports whether a unit realised before still runs: its daemon, or
// the interface its setup made.
func (r *Router) up(id string, u unit) bool {
	if u.Argv == nil {
		return r.System.LinkExists(u.Name)
	}
	return r.System.Running(id)
}

// updatable reports whether u, realised before as prevHash and changed
// since, can be brought to its new configuration in place: its kind
// updates, the same implementation carries it and it is up.
func (r *Router) updatable(id string, u unit, prevHash string) bool {
	return u.Update != nil && sameImpl(prevHash, u.Hash) && r.up(id, u)
}

// updateUnit writes a changed unit's files and runs its Update.
func (r *Router) updateUnit(ctx context.Context, id string, u unit) error {
	for _, f := range u.Files {
		if err := r.writeFile(f.Path, f.Data, fs.FileMode(f.Mode())); err != nil {
			return err
		}
	}
	for _, argv := range u.Update {
		r.Log.Info("updating", "unit", id, "command", strings.Join(argv, " "))
		if err := r.System.Run(ctx, argv...); err != nil {
			return err
		}
	}
	return nil
}

// startUnit writes a unit's files, runs its setup or starts its daemon and
// waits for its interface, which the routes through it need.
func (r *Router) startUnit(ctx context.Context, id string, u unit) error {
	for _, f := range u.Files {
		if err := r.writeFile(f.Path, f.Data, fs.FileMode(f.Mode())); err != nil {
			return err
		}
	}
	setup := func() error {
		for _, argv := range u.Setup {
			r.Log.Info("setting up", "unit", id, "command", strings.Join(argv, " "))
			if err := r.System.Run(ctx, argv...); err != nil {
				return err
			}
		}
		return nil
	}
	if u.Argv == nil {
		return setup()
	}
	r.Log.Info("starting", "unit", id, "command", strings.Join(u.Argv, " "))
	if err := r.System.Start(ctx, id, u.Argv...); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for !r.System.LinkExists(u.Name) {
		if !r.System.Running(id) {
			return fmt.Errorf("%s exited at once; see %s", u.Argv[0], path.Join(logDir, strings.ReplaceAll(id, " ", "-")+".log"))
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("interface %s did not appear", u.Name)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return setup()
}

func (r *Router) ip(ctx context.Context, args ...string) error {
	r.Log.Debug("ip", "args", strings.Join(args, " "))
	return r.System.Run(ctx, append([]string{"ip"}, args...)...)
}

// openvpnUnits renders every "interfaces openvpn vtunN" as VyOS would
// (vyos.OpenVPNConf), with the files in /config/auth it refers to.
func openvpnUnits(_ context.Context, r *Router, cfg []vyos.Command) ([]unit, error) {
	c := &vyos.Config{Router: "stand-in", Dialect: r.Dialect, Commands: cfg}
	var ifaces []string
	for _, cmd := range cfg {
		p := cmd.Path
		if len(p) >= 3 && p[0] == "interfaces" && p[1] == "openvpn" && !slices.Contains(ifaces, p[2]) {
			ifaces = append(ifaces, p[2])
		}
		if v := p[len(p)-1]; strings.HasPrefix(v, "/config/auth/") && !slices.ContainsFunc(c.Files, func(f vyos.File) bool { return f.Path == v }) {
			data, err := os.ReadFile(r.path(v))
			if err != nil {
				return nil, fmt.Errorf("interfaces openvpn %s: %w", p[2], err)
			}
			c.Files = append(c.Files, vyos.File{Path: v, Data: data, Secret: true})
		}
	}
	var units []unit
	for _, iface := range ifaces {
		conf, files, err := vyos.OpenVPNConf(c, iface, openvpnDir)
		if err != nil {
			return nil, err
		}
		for i := range files {
			files[i].Secret = true // 0600, whatever it holds
		}
		confPath := path.Join(openvpnDir, iface+".conf")
		files = append(files, vyos.File{Path: confPath, Data: []byte(conf)})
		h := sha256.New()
		for _, f := range files {
			fmt.Fprintf(h, "%s %d\n", f.Path, len(f.Data))
			h.Write(f.Data)
		}
		units = append(units, unit{
			Name:  iface,
			Files: files,
			Argv:  []string{"openvpn", "--config", r.path(confPath), "--status", r.path(path.Join(openvpnDir, iface+".status")), "30"},
			Hash:  hex.EncodeToString(h.Sum(nil)),
		})
	}
	return units, nil
}

// addressesOf lists the VLAN links ("eth1.100"), the addresses ("eth0
// 10.4.0.90/16") of the ethernet interfaces, and those of the WireGuard
// interfaces ("wg0 10.255.0.1/30"), which exist only once realised.
func addressesOf(cfg []vyos.Command) (vlans, addrs, tunnelAddrs []string) {
	for _, c := range cfg {
		p := c.Path
		switch {
		case len(p) == 5 && p[0] == "interfaces" && p[1] == "ethernet" && p[3] == "address":
			addrs = append(addrs, p[2]+" "+p[4])
		case len(p) == 7 && p[0] == "interfaces" && p[1] == "ethernet" && p[3] == "vif" && p[5] == "address":
			v := p[2] + "." + p[4]
			if !slices.Contains(vlans, v) {
				vlans = append(vlans, v)
			}
			addrs = append(addrs, v+" "+p[6])
		case len(p) == 5 && p[0] == "interfaces" && p[1] == "wireguard" && p[3] == "address":
			tunnelAddrs = append(tunnelAddrs, p[2]+" "+p[4])
		}
	}
	return vlans, addrs, tunnelAddrs
}

// routesOf lists the static routes as ip route arguments: "route P
// next-hop G", "route P interface I" (1.4+) and "interface-route P
// next-hop-interface I" (before 1.4).
func routesOf(cfg []vyos.Command) []string {
	var out []string
	for _, c := range cfg {
		p := c.Path
		if len(p) < 6 || p[0] != "protocols" || p[1] != "static" {
			continue
		}
		switch {
		case p[2] == "route" && p[4] == "next-hop":
			out = append(out, p[3]+" via "+p[5])
		case p[2] == "route" && p[4] == "interface", p[2] == "interface-route" && p[4] == "next-hop-interface":
			out = append(out, p[3]+" dev "+p[5])
		}
	}
	return out
}
