package layer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// ESXi is the provider of hypervisors of kind "esxi" (the default): it
// carves the sites out of standalone ESXi hosts. Per hypervisor a
// standard vSwitch "vSwitch-<topology>", per site a port group
// "<topology>-<site>" with the site's VLAN (and "<topology>-underlay" with
// the underlay's VLAN where a router needs it), per router and host a VM
// with its NICs on those port groups (routers: underlay then site; hosts:
// site), then power-on. Destroy removes the VMs marked with the topology's
// name and the port groups and vSwitches recorded in the state as created.
//
// Credentials come from GOVC_USERNAME / GOVC_PASSWORD, never the file:
//
//	GOVC_USERNAME=root GOVC_PASSWORD=... stage apply -f thesis.yaml --layers esxi
//
// To try it without hardware, point each hypervisor's url at a simulator
// (`vcsim -esx`, or esxi/internal/vcsim in this repository) and pin its
// certificate with thumbprint (`govc about.cert -k -thumbprint`).
//
// A machine's up step (topology.MachineUpID) powers its VM on. Env.ESXi
// configures the provider.
type ESXi struct{}

// Steps implements Provider.
func (ESXi) Steps(t *topology.Topology, env *Env, hyps []topology.Hypervisor) ([]plan.Node, error) {
	return esxiSteps(t, env, hyps)
}

// Destroy implements Provider.
func (ESXi) Destroy(t *topology.Topology, env *Env, hyps []topology.Hypervisor) ([]plan.Node, error) {
	return esxiDestroySteps(t, env, hyps)
}

// Render implements Provider.
func (ESXi) Render(t *topology.Topology, env *Env, machine string) ([]Artifact, error) {
	return esxiRender(t, env, machine)
}

// ESXiOptions configures the ESXi provider (Env.ESXi). The zero value works:
// what the topology file says of each hypervisor (uplinks, vSwitch,
// datastore, TLS pin or CA, which variables hold its credentials) comes
// first, govc's GOVC_* variables fill in the rest. One value caches a session per hypervisor across walks;
// Close logs them out.
type ESXiOptions struct {
	// Getenv reads the GOVC_* variables; nil means os.Getenv.
	Getenv func(string) string
	// ConnectTimeout bounds a login; 0 means 15 s. A hypervisor that cannot
	// be reached in that time is reported as unreachable by plan.
	ConnectTimeout time.Duration

	mu    sync.Mutex
	conns map[string]*esxiConn
}

type esxiConn struct {
	mu     sync.Mutex
	client *esxi.Client
	err    error
	failed time.Time
}

// esxiRetryAfter is how long a failed login is remembered, so that a plan
// of fifty steps on an unreachable host waits for one timeout, not fifty.
const esxiRetryAfter = 30 * time.Second

// Close logs out of every hypervisor this value connected to.
func (o *ESXiOptions) Close(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var errs []error
	for _, c := range o.conns {
		if c.client != nil {
			errs = append(errs, c.client.Close(ctx))
			c.client = nil
		}
	}
	return errors.Join(errs...)
}

// client returns the session to hypervisor h, logging in on first use.
func (o *ESXiOptions) client(ctx context.Context, env *Env, h topology.Hypervisor) (*esxi.Client, error) {
	o.mu.Lock()
	if o.conns == nil {
		o.conns = map[string]*esxiConn{}
	}
	c, ok := o.conns[h.Name]
	if !ok {
		c = &esxiConn{}
		o.conns[h.Name] = c
	}
	o.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		return c.client, nil
	}
	if c.err != nil && time.Since(c.failed) < esxiRetryAfter {
		return nil, c.err
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := esxi.ConfigFromEnv(h.URL, getenv)
	if err != nil {
		return nil, fmt.Errorf("hypervisor %s: %w", h.Name, err)
	}
	cfg.Thumbprint, cfg.CAFile = h.Thumbprint, h.CAFile
	cfg.Insecure = cfg.Insecure || h.Insecure
	if h.Datastore != "" {
		cfg.Datastore = h.Datastore
	}
	if c := h.Credentials; c != nil {
		cfg.Username, cfg.Password = getenv(c.UsernameEnv), getenv(c.PasswordEnv)
		if cfg.Username == "" {
			return nil, fmt.Errorf("hypervisor %s: credentials.usernameEnv: $%s is empty", h.Name, c.UsernameEnv)
		}
	}
	cfg.Logger = env.logger()
	timeout := o.ConnectTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := esxi.Connect(cctx, cfg)
	if err != nil {
		field := ""
		if errors.Is(err, esxi.ErrNoDatastore) {
			field = " datastore"
		}
		c.err, c.failed = fmt.Errorf("hypervisor %s%s: %w", h.Name, field, err), time.Now()
		return nil, c.err
	}
	c.client, c.err = cl, nil
	return cl, nil
}

// esxiUnreachable reports whether err means the hypervisor could not be
// reached at all (as opposed to refusing our certificate pin or password).
func esxiUnreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) || errors.As(err, &dns) || errors.Is(err, context.DeadlineExceeded)
}

// esxiUnreachableCause is the short form of an unreachable error for a
// plan line: the network error itself, without the wrapping.
func esxiUnreachableCause(err error) string {
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &op):
		return op.Error()
	case errors.As(err, &dns):
		return dns.Error()
	}
	return "no answer in time"
}

// esxiLayerRun is what one plan build's steps share.
type esxiLayerRun struct {
	t    *topology.Topology
	env  *Env
	opts *ESXiOptions
}

func newESXiRun(t *topology.Topology, env *Env) *esxiLayerRun {
	return &esxiLayerRun{t: t, env: env, opts: env.esxiOptions()}
}

// esxiOptions is env.ESXi, or the defaults (GOVC_* variables, no cached
// session) when it is nil.
func (env *Env) esxiOptions() *ESXiOptions {
	if env.ESXi == nil {
		return &ESXiOptions{}
	}
	return env.ESXi
}

// step builds a node whose Inspect and Apply get the hypervisor's client.
// When the hypervisor cannot be reached, Inspect reports offline (the
// change it would make, saying the host is unreachable) instead of failing,
// so `stage plan` works before the lab is cabled; Apply then fails.
func (r *esxiLayerRun) step(id, target string, deps []string, h topology.Hypervisor, offline func() plan.Change,
	inspect func(context.Context, *esxi.Client) (plan.Change, error),
	apply func(context.Context, *esxi.Client, plan.Change) error) plan.Node {
	return plan.Node{ID: id, Target: target, Deps: deps, Step: plan.Funcs{
		InspectFunc: func(ctx context.Context) (plan.Change, error) {
			c, err := r.opts.client(ctx, r.env, h)
			if err != nil {
				if offline != nil && esxiUnreachable(err) {
					ch := offline()
					ch.Reason = strings.TrimPrefix(fmt.Sprintf("%s; hypervisor %s unreachable: %s", ch.Reason, h.Name, esxiUnreachableCause(err)), "; ")
					return ch, nil
				}
				return plan.Change{}, err
			}
			return inspect(ctx, c)
		},
		ApplyFunc: func(ctx context.Context, ch plan.Change) error {
			c, err := r.opts.client(ctx, r.env, h)
			if err != nil {
				return err
			}
			return apply(ctx, c, ch)
		},
	}}
}

// Names of what the layer creates; the topology name keeps two testbeds on
// one host apart.
// esxiSwitchName is h's staging vSwitch: the file's, else one named
// after the topology.
func esxiSwitchName(t *topology.Topology, h topology.Hypervisor) string {
	if h.VSwitch != "" {
		return h.VSwitch
	}
	return "vSwitch-" + t.Name
}

func esxiUnderlayPortGroup(t *topology.Topology) string { return t.Name + "-underlay" }
func esxiSitePortGroup(t *topology.Topology, s topology.Site) string {
	return t.Name + "-" + s.Name
}

// ESXiPortGroupID, ESXiVSwitchID and ESXiVMID are the ESXi provider's step IDs.
func ESXiVSwitchID(hypervisor string) string { return "esxi/vswitch/" + hypervisor }

// ESXiPortGroupID is the step that ensures a port group on a hypervisor.
func ESXiPortGroupID(hypervisor, pg string) string { return "esxi/portgroup/" + hypervisor + "/" + pg }

// ESXiVMID is the step that ensures machine's VM.
func ESXiVMID(machine string) string { return "esxi/vm/" + machine }

// esxiHostNetworks lists, per hypervisor of on in topology order, the port
// groups it needs: its sites', and the underlay's where one of its sites
// has a router (every site has one).
func esxiHostNetworks(t *topology.Topology, on []topology.Hypervisor) (hyps []topology.Hypervisor, pgs map[string][]esxi.PortGroup) {
	pgs = map[string][]esxi.PortGroup{}
	for _, h := range on {
		sw := esxiSwitchName(t, h)
		var list []esxi.PortGroup
		for _, s := range t.Sites {
			if s.Hypervisor != h.Name {
				continue
			}
			if len(list) == 0 {
				list = append(list, esxi.PortGroup{Name: esxiUnderlayPortGroup(t), VSwitch: sw, VLAN: t.Underlay.VLAN})
			}
			list = append(list, esxi.PortGroup{Name: esxiSitePortGroup(t, s), VSwitch: sw, VLAN: s.VLAN})
		}
		if len(list) > 0 {
			hyps = append(hyps, h)
			pgs[h.Name] = list
		}
	}
	return hyps, pgs
}

// onHypervisors returns t's machines whose sites are on one of hyps.
func onHypervisors(t *topology.Topology, hyps []topology.Hypervisor) []topology.Machine {
	var ms []topology.Machine
	for _, m := range t.Machines() {
		if slices.ContainsFunc(hyps, func(h topology.Hypervisor) bool { return h.Name == m.Site.Hypervisor }) {
			ms = append(ms, m)
		}
	}
	return ms
}

func esxiSteps(t *topology.Topology, env *Env, on []topology.Hypervisor) ([]plan.Node, error) {
	r := newESXiRun(t, env)
	hyps, pgs := esxiHostNetworks(t, on)
	var nodes []plan.Node
	for _, h := range hyps {
		sw := esxi.VSwitch{Name: esxiSwitchName(t, h), Uplinks: h.Uplinks}
		swID := ESXiVSwitchID(h.Name)
		nodes = append(nodes, r.step(swID, fmt.Sprintf("vswitch %s on %s", sw.Name, h.Name), nil, h,
			func() plan.Change { return plan.Change{Action: plan.Create} },
			func(ctx context.Context, c *esxi.Client) (plan.Change, error) {
				ch, err := c.InspectVSwitch(ctx, sw)
				var ue *esxi.UplinkError
				if errors.As(err, &ue) {
					return ch, fmt.Errorf("hypervisor %s uplinks: %w", h.Name, err)
				}
				return ch, err
			},
			func(ctx context.Context, c *esxi.Client, ch plan.Change) error {
				if err := c.ApplyVSwitch(ctx, sw, ch); err != nil || ch.Action != plan.Create {
					return err
				}
				return r.record(h.Name, "vswitches", sw.Name, true)
			}))
		for _, p := range pgs[h.Name] {
			nodes = append(nodes, r.step(ESXiPortGroupID(h.Name, p.Name),
				fmt.Sprintf("port group %s on %s (VLAN %d)", p.Name, h.Name, p.VLAN), []string{swID}, h,
				func() plan.Change { return plan.Change{Action: plan.Create} },
				func(ctx context.Context, c *esxi.Client) (plan.Change, error) {
					return c.InspectPortGroup(ctx, p)
				},
				func(ctx context.Context, c *esxi.Client, ch plan.Change) error {
					if err := c.ApplyPortGroup(ctx, p, ch); err != nil || ch.Action != plan.Create {
						return err
					}
					return r.record(h.Name, "portGroups", p.Name, true)
				}))
		}
	}
	// A new VM authorizes the ssh section's key and offers a host key made
	// here and pinned before it boots. Without a readable key, creating a
	// VM fails (a plan still shows it).
	authorized, authErr := authorizedKey(t)
	var pinned []topology.Machine
	macs := newVMMACs(t)
	for _, m := range onHypervisors(t, on) {
		h, _ := t.Hypervisor(m.Site.Hypervisor)
		// A plan shows the VM whatever stops it; creating it says what.
		userData, createErr := "", authErr
		if isVyOS(m) {
			if ud, err := vyosUserData(t, m, authorized); err == nil {
				userData = ud
			} else if createErr == nil {
				createErr = err
			}
		} else {
			key, pub, err := vmHostKey(env, m.Name)
			if err != nil {
				return nil, err
			}
			userData = esxiUserData(t, m, key, pub, authorized, true)
			pinned = append(pinned, m)
		}
		v, err := esxiVM(t, m, userData, macs)
		if err != nil {
			return nil, err
		}
		var deps []string
		for _, n := range v.NICs {
			deps = append(deps, ESXiPortGroupID(h.Name, n.PortGroup))
		}
		vmID := ESXiVMID(m.Name)
		nodes = append(nodes, r.step(vmID, fmt.Sprintf("vm %s on %s (VLAN %d)", m.Name, h.Name, m.Site.VLAN), deps, h,
			func() plan.Change { return plan.Change{Action: plan.Create} },
			func(ctx context.Context, c *esxi.Client) (plan.Change, error) { return c.InspectVM(ctx, v) },
			func(ctx context.Context, c *esxi.Client, ch plan.Change) error {
				if createErr != nil && ch.Action == plan.Create {
					return fmt.Errorf("vm %s: %w", m.Name, createErr)
				}
				return c.ApplyVM(ctx, v, ch)
			}))
		nodes = append(nodes, r.step(topology.MachineUpID(m.Name), fmt.Sprintf("power of vm %s on %s", m.Name, h.Name), []string{vmID}, h,
			func() plan.Change { return plan.Change{Action: plan.Update, Reason: "power on"} },
			func(ctx context.Context, c *esxi.Client) (plan.Change, error) {
				if plan.Pending(ctx) {
					// The VM is about to be created or changed: it will
					// need powering on whatever it is now.
					return plan.Change{Action: plan.Update, Reason: fmt.Sprintf("power on vm %s after it is created or changed", m.Name)}, nil
				}
				return c.InspectPower(ctx, m.Name, true)
			},
			func(ctx context.Context, c *esxi.Client, _ plan.Change) error { return c.ApplyPower(ctx, m.Name, true) }))
	}
	if err := pinHostKeys(t, env, pinned); err != nil {
		return nil, err
	}
	return nodes, nil
}

// isVyOS says whether m is a VyOS router, whose image takes configuration
// commands in its user-data (vyosUserData) instead of cloud-init's modules.
func isVyOS(m topology.Machine) bool {
	return m.IsRouter() && m.Site.Router.Kind == topology.RouterVyOS
}
