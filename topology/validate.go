package topology

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Validate reports every problem of t (a *Problems error), or nil. It checks
// a defaulted copy, so a topology built in Go need not fill in defaults
// first. Nothing is changed.
func (t *Topology) Validate() error {
	c := t.Clone()
	c.SetDefaults()
	if ps := c.validate(); len(ps) > 0 {
		return ps
	}
	return nil
}

// Resolve returns a validated copy of t with its defaults filled in and
// its machines indexed for fast lookup: what a plan is built from. The
// problems, if any, are a Problems; t itself is not changed.
func (t *Topology) Resolve() (*Topology, error) {
	c := t.Clone()
	c.SetDefaults()
	if ps := c.validate(); len(ps) > 0 {
		return nil, ps
	}
	return c.indexed(), nil
}

// VyOSVersions are the VyOS releases whose configuration dialects the vyos
// layer speaks.
var VyOSVersions = []string{"1.2", "1.3", "1.4", "1.5"}

var (
	dnsLabel   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	kubeSemver = regexp.MustCompile(`^v1\.[0-9]+\.[0-9]+$`)
	roles      = []string{RoleLoadBalancer, RoleControlPlane, RoleWorker, RoleGeneric}
)

type validator struct {
	problems Problems
}

func (v *validator) addf(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (t *Topology) validate() Problems {
	v := &validator{}
	if t.APIVersion != APIVersion {
		v.addf("apiVersion", "is %q, want %q", t.APIVersion, APIVersion)
	}
	if t.Kind != Kind {
		v.addf("kind", "is %q, want %q", t.Kind, Kind)
	}
	v.label("name", t.Name)
	v.hypervisors(t)
	v.vlan("underlay.vlan", t.Underlay.VLAN)
	v.prefix("underlay.prefix", t.Underlay.Prefix)
	v.sites(t)
	v.vpn(t)
	v.cluster(t)
	v.overlaps(t)
	v.latency(t)
	if t.SSH != nil {
		v.port("ssh.port", t.SSH.Port)
		if t.SSH.InsecureIgnoreHostKey && t.SSH.KnownHosts != "" {
			v.addf("ssh.insecureIgnoreHostKey", "host key checking is off, yet knownHosts is set (%s): remove one of them", t.SSH.KnownHosts)
		}
	}
	if t.Defaults != nil {
		for role, vm := range t.Defaults.VMs {
			if role != RoleRouter && !slices.Contains(roles, role) {
				v.addf("defaults.vms."+role, "unknown role %q; use router, %s", role, strings.Join(roles, ", "))
			}
			v.vm("defaults.vms."+role, &vm)
		}
	}
	return v.problems
}

func (v *validator) hypervisors(t *Topology) {
	names := map[string]string{}
	for i, h := range t.Hypervisors {
		p := fmt.Sprintf("hypervisors[%d]", i)
		v.label(p+".name", h.Name)
		unique(v, names, p+".name", h.Name, "hypervisor name")
		// Which kinds exist is the layers' business (a program may add
		// providers); here a kind is only a well-formed name.
		v.label(p+".kind", h.Kind)
		u, err := url.Parse(h.URL)
		switch {
		case h.URL == "":
			v.addf(p+".url", "missing; the SDK endpoint, like https://10.4.0.13/sdk")
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			v.addf(p+".url", "%q is not an SDK URL like https://10.4.0.13/sdk", redactURL(h.URL))
		case u.User != nil:
			if _, hasPassword := u.User.Password(); hasPassword {
				v.addf(p+".url", "holds a password; give credentials in GOVC_USERNAME and GOVC_PASSWORD (or credentials.passwordEnv) instead")
			}
		}
		v.hardware(t, p, h)
	}
}

// nicName is a physical NIC's name as ESXi gives it ("vmnic1").
var nicName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

// envName is an environment variable's name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// hardware checks what the file says of a hypervisor's hardware: uplinks,
// vSwitch, datastore and where its credentials come from. Whether an
// uplink or datastore exists on the host is the plan's inspect's to say.
func (v *validator) hardware(t *Topology, p string, h Hypervisor) {
	seen := map[string]bool{}
	for j, nic := range h.Uplinks {
		switch {
		case !nicName.MatchString(nic):
			v.addf(fmt.Sprintf("%s.uplinks[%d]", p, j), "%q is not a NIC name like vmnic1", nic)
		case seen[nic]:
			v.addf(fmt.Sprintf("%s.uplinks[%d]", p, j), "%s is listed twice", nic)
		}
		seen[nic] = true
	}
	if len(h.Uplinks) == 0 && (h.Kind == "" || h.Kind == HypervisorESXi) && len(t.Hypervisors) > 1 && slices.ContainsFunc(t.Sites, func(s Site) bool { return s.Hypervisor == h.Name }) {
		v.addf(p+".uplinks", "missing: %s runs sites of a testbed on %d hypervisors, and without an uplink its VLANs never leave the host; name the physical NICs that trunk them, like [vmnic1]",
			h.Name, len(t.Hypervisors))
	}
	if h.VSwitch != "" && !nicName.MatchString(h.VSwitch) {
		v.addf(p+".vswitch", "%q is not a vSwitch name (letters, digits, '-', '_', '.')", h.VSwitch)
	}
	if strings.ContainsAny(h.Datastore, "[]/") {
		v.addf(p+".datastore", "%q: name the datastore alone, like datastore1, not a path", h.Datastore)
	}
	if c := h.Credentials; c != nil {
		if !envName.MatchString(c.UsernameEnv) {
			v.addf(p+".credentials.usernameEnv", "%q is not an environment variable's name", c.UsernameEnv)
		}
		if !envName.MatchString(c.PasswordEnv) {
			// Not quoted: a user who put the password itself here must not
			// see it in a log.
			v.addf(p+".credentials.passwordEnv", "is not an environment variable's name (the value is not shown: it may be the password itself)")
		}
	}
}

func (v *validator) sites(t *Topology) {
	if len(t.Sites) == 0 {
		v.addf("sites", "no sites; a testbed needs at least one")
	}
	siteNames := map[string]string{}
	machineNames := map[string]string{}
	vlans := map[int]string{t.Underlay.VLAN: "underlay.vlan"}
	wans := map[netip.Addr]string{}
	for i, s := range t.Sites {
		p := fmt.Sprintf("sites[%d]", i)
		v.label(p+".name", s.Name)
		unique(v, siteNames, p+".name", s.Name, "site name")
		if v.vlan(p+".vlan", s.VLAN) {
			if other, dup := vlans[s.VLAN]; dup {
				v.addf(p+".vlan", "VLAN %d is already used by %s", s.VLAN, other)
			} else {
				vlans[s.VLAN] = p + ".vlan"
			}
		}
		prefixOK := v.prefix(p+".prefix", s.Prefix)
		if s.Hypervisor != "" {
			if _, ok := t.Hypervisor(s.Hypervisor); !ok {
				v.addf(p+".hypervisor", "unknown hypervisor %q%s", s.Hypervisor, known(hypervisorNames(t)))
			}
		}

		r, rp := s.Router, p+".router"
		v.label(rp+".name", r.Name)
		unique(v, machineNames, rp+".name", r.Name, "machine name")
		switch r.Kind {
		case RouterVyOS:
			if !slices.Contains(VyOSVersions, r.Version) {
				v.addf(rp+".version", "VyOS version %q is not supported; use one of %s", r.Version, strings.Join(VyOSVersions, ", "))
			}
		case RouterLinux:
			if r.Version != "" {
				v.addf(rp+".version", "only vyos routers have a version")
			}
		default:
			v.addf(rp+".kind", "unknown router kind %q; use vyos or linux", r.Kind)
		}
		if v.addr(rp+".wan", r.WAN, t.Underlay.Prefix, "the underlay "+t.Underlay.Prefix.String()) {
			unique(v, wans, rp+".wan", r.WAN, "WAN address")
		}
		lans := map[netip.Addr]string{}
		if prefixOK && v.addr(rp+".lan", r.LAN, s.Prefix, "the site prefix "+s.Prefix.String()) {
			lans[r.LAN] = rp + ".lan"
		}
		v.vm(rp+".vm", r.VM)

		for j, h := range s.Hosts {
			hp := fmt.Sprintf("%s.hosts[%d]", p, j)
			v.label(hp+".name", h.Name)
			unique(v, machineNames, hp+".name", h.Name, "machine name")
			if prefixOK && v.addr(hp+".address", h.Address, s.Prefix, "the site prefix "+s.Prefix.String()) {
				unique(v, lans, hp+".address", h.Address, "address")
			}
			if !slices.Contains(roles, h.Role) {
				v.addf(hp+".role", "unknown role %q; use one of %s", h.Role, strings.Join(roles, ", "))
			}
			v.vm(hp+".vm", h.VM)
		}
	}
}

func (v *validator) vpn(t *Topology) {
	if t.VPN == nil {
		return
	}
	vp := t.VPN
	// Which tunnel kinds exist is the layers' business (a program may add
	// kinds); here a type is only a well-formed name.
	v.label("vpn.type", vp.Type)
	switch vp.Mode {
	case VPNMesh:
		if vp.Hub != "" {
			v.addf("vpn.hub", "a mesh has no hub; remove it or use mode hub-spoke")
		}
	case VPNHubSpoke:
		if vp.Hub == "" {
			v.addf("vpn.hub", "hub-spoke needs a hub site%s", known(siteNames(t)))
		} else if _, ok := t.Site(vp.Hub); !ok {
			v.addf("vpn.hub", "unknown site %q%s", vp.Hub, known(siteNames(t)))
		}
	case VPNRegional:
		v.regional(t)
	default:
		v.addf("vpn.mode", "unknown mode %q; use mesh, hub-spoke or regional", vp.Mode)
	}
	if vp.Mode != VPNRegional && len(vp.Hubs) > 0 {
		v.addf("vpn.hubs", "only mode regional has hubs")
	}
	for i, s := range t.Sites {
		if s.Hub != "" && vp.Mode != VPNRegional {
			v.addf(fmt.Sprintf("sites[%d].hub", i), "only a site of a regional vpn names its hub (vpn.mode is %q)", vp.Mode)
		}
	}
	switch {
	case vp.Type == VPNTypeWireGuard:
		if vp.Auth != "" {
			v.addf("vpn.auth", "%q: WireGuard peers authenticate with their keys; remove auth", vp.Auth)
		}
		v.wireGuard(t)
	case vp.Auth != VPNAuthTLS && vp.Auth != VPNAuthStatic:
		v.addf("vpn.auth", "unknown auth %q; use tls or static-key", vp.Auth)
	}
	if vp.WireGuard != nil && vp.Type != VPNTypeWireGuard {
		v.addf("vpn.wireguard", "only with type wireguard (type is %q)", vp.Type)
	}
	if v.prefix("vpn.transit", vp.Transit) {
		// Each tunnel takes a /30 of the transit prefix.
		tunnels := t.TunnelCount()
		if free := vp.Transit.Bits() + bitsFor(tunnels) + 2; free > vp.Transit.Addr().BitLen() {
			v.addf("vpn.transit", "%s is too small for %d tunnels (a /30 each)", vp.Transit, tunnels)
		}
	}
	if v.port("vpn.port", vp.Port) && vp.Port+t.TunnelCount()-1 > 65535 {
		v.addf("vpn.port", "%d leaves no room for a port per tunnel", vp.Port)
	}
}

// TunnelCount is how many site-to-site tunnels the VPN has.
func (t *Topology) TunnelCount() int {
	if t.VPN == nil || len(t.Sites) < 2 {
		return 0
	}
	n := len(t.Sites)
	switch t.VPN.Mode {
	case VPNHubSpoke:
		return n - 1
	case VPNRegional:
		h := len(t.VPN.Hubs)
		return h*(h-1)/2 + n - h
	}
	return n * (n - 1) / 2
}

func (v *validator) cluster(t *Topology) {
	c := t.Cluster
	if c == nil {
		return
	}
	if !kubeSemver.MatchString(c.Kubernetes) {
		v.addf("cluster.kubernetes", "%q is not a Kubernetes version like v1.37.2", c.Kubernetes)
	}
	v.prefix("cluster.podSubnet", c.PodSubnet)
	v.prefix("cluster.serviceSubnet", c.ServiceSubnet)
	v.port("cluster.apiPort", c.APIPort)
	masters := t.HostsWithRole(RoleControlPlane)
	lbs := t.HostsWithRole(RoleLoadBalancer)
	switch {
	case len(masters) == 0:
		v.addf("cluster", "no host has role control-plane; a cluster needs at least one")
	case len(masters) > 1 && len(lbs) == 0:
		v.addf("cluster", "%d control planes and no load balancer; add a host with role load-balancer for the control-plane endpoint", len(masters))
	}
	if len(lbs) > 1 {
		v.addf("cluster", "%d hosts have role load-balancer; the control-plane endpoint needs exactly one", len(lbs))
	}
}

// overlaps reports every pair of prefixes that share addresses: sites,
// underlay, transit and the cluster's pod and service subnets.
func (v *validator) overlaps(t *Topology) {
	type named struct {
		path string
		p    netip.Prefix
	}
	var all []named
	add := func(path string, p netip.Prefix) {
		if p.IsValid() && p == p.Masked() {
			all = append(all, named{path, p})
		}
	}
	add("underlay.prefix", t.Underlay.Prefix)
	for i, s := range t.Sites {
		add(fmt.Sprintf("sites[%d].prefix", i), s.Prefix)
	}
	if t.VPN != nil {
		add("vpn.transit", t.VPN.Transit)
	}
	if t.Cluster != nil {
		add("cluster.podSubnet", t.Cluster.PodSubnet)
		add("cluster.serviceSubnet", t.Cluster.ServiceSubnet)
	}
	// Prefixes either nest or are disjoint, so after sorting by first
	// address (wider first) an overlap is always with the widest prefix seen
	// so far that is still open: n log n, not n².
	slices.SortStableFunc(all, func(a, b named) int {
		if c := a.p.Addr().Compare(b.p.Addr()); c != 0 {
			return c
		}
		return a.p.Bits() - b.p.Bits()
	})
	var open *named
	for i := range all {
		cur := &all[i]
		if open != nil && open.p.Overlaps(cur.p) {
			v.addf(cur.path, "%s overlaps %s (%s)", cur.p, open.path, open.p)
			continue
		}
		open = cur
	}
}

func (v *validator) label(path, name string) {
	switch {
	case name == "":
		v.addf(path, "missing")
	case !dnsLabel.MatchString(name):
		v.addf(path, "%q is not a DNS label (lower-case letters, digits and '-', at most 63, not starting or ending with '-')", name)
	}
}

// unique records key at path in seen and reports a key seen before.
func unique[K comparable](v *validator, seen map[K]string, path string, key K, what string) {
	var zero K
	if key == zero {
		return // reported as missing elsewhere
	}
	if other, dup := seen[key]; dup {
		v.addf(path, "duplicate %s %v (also %s)", what, key, other)
		return
	}
	seen[key] = path
}

func (v *validator) vlan(path string, id int) bool {
	if id < 0 || id > 4094 {
		v.addf(path, "VLAN %d is out of range 0–4094", id)
		return false
	}
	return true
}

func (v *validator) port(path string, port int) bool {
	if port < 1 || port > 65535 {
		v.addf(path, "port %d is out of range 1–65535", port)
		return false
	}
	return true
}

func (v *validator) prefix(path string, p netip.Prefix) bool {
	switch {
	case !p.IsValid():
		v.addf(path, "missing; a prefix like 192.168.10.0/24")
		return false
	case p != p.Masked():
		v.addf(path, "%s has host bits set; did you mean %s?", p, p.Masked())
		return false
	}
	return true
}

// addr checks that a is a usable address of p: inside it, and neither its
// network nor (IPv4) its broadcast address.
func (v *validator) addr(path string, a netip.Addr, p netip.Prefix, what string) bool {
	switch {
	case !a.IsValid():
		v.addf(path, "missing")
	case !p.IsValid():
		return false // reported at the prefix
	case !p.Contains(a):
		v.addf(path, "%s is outside %s", a, what)
	case a == p.Addr() && p.Bits() < a.BitLen()-1:
		v.addf(path, "%s is the network address of %s", a, p)
	case a.Is4() && p.Bits() < 31 && a == lastAddr(p):
		v.addf(path, "%s is the broadcast address of %s", a, p)
	default:
		return true
	}
	return false
}

func (v *validator) vm(path string, vm *VM) {
	if vm == nil {
		return
	}
	if vm.CPUs < 0 {
		v.addf(path+".cpus", "%d is negative", vm.CPUs)
	}
	if vm.MemoryMB < 0 {
		v.addf(path+".memoryMB", "%d is negative", vm.MemoryMB)
	}
	if vm.DiskGB < 0 {
		v.addf(path+".diskGB", "%d is negative", vm.DiskGB)
	}
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func bitsFor(n int) int {
	bits := 0
	for 1<<bits < n {
		bits++
	}
	return bits
}

func known(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "; known: " + strings.Join(names, ", ")
}

func siteNames(t *Topology) []string {
	var out []string
	for _, s := range t.Sites {
		out = append(out, s.Name)
	}
	return out
}

func hypervisorNames(t *Topology) []string {
	var out []string
	for _, h := range t.Hypervisors {
		out = append(out, h.Name)
	}
	return out
}

// redactURL drops a URL's password so it never reaches an error message.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.User == nil {
		return s
	}
	return u.Redacted()
}
