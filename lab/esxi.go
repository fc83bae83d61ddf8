package lab

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// A hypervisor of the topology becomes govmomi's simulator of a standalone
// ESXi host (the ESX model), one per hypervisor, served over TLS on
// loopback from this process. The ESXi provider drives it exactly as it would
// drive the real host.
//
// The lab, not vcsim's container backing (RUN.container), starts a
// machine's container once the plan has powered its VM on. vcsim's backing
// creates the container itself at power-on with a single --network and no
// fixed address, pulls busybox for its DMI volume, cannot add a router's
// second network on this engine (API 1.41), and destroys the VM when its
// container disappears, so a crashed router would lose its VM. The lab
// needs the topology's addresses, keys installed before sshd starts, and a
// killed container to stay a crashed machine.
type simHypervisor struct {
	name       string
	model      *simulator.Model
	server     *simulator.Server
	url        *url.URL // without credentials
	login      *url.Userinfo
	thumbprint string
	caFile     string // its certificate, PEM (the simulator's file)

	mu     sync.Mutex
	client *vim25.Client
}

// startSimulator starts hypervisor name's simulator. Clients check its
// certificate against the certificate itself (caFile, the file the
// simulator writes) as well as by its thumbprint: a client that knows only
// the thumbprint makes a handshake that fails on the certificate's issuer
// first (govmomi's way), which the simulator's server logs as an error on
// every connection.
func startSimulator(name string) (*simHypervisor, error) {
	m := simulator.ESX()
	m.Machine = 0 // the topology's VMs only
	if err := m.Create(); err != nil {
		return nil, fmt.Errorf("hypervisor %s: simulator: %w", name, err)
	}
	m.Service.TLS = new(tls.Config)
	s := m.Service.NewServer()
	u := *s.URL
	u.User = nil
	h := &simHypervisor{name: name, model: m, server: s, url: &u, login: s.URL.User,
		thumbprint: soap.ThumbprintSHA256(s.Certificate())}
	var err error
	if h.caFile, err = s.CertificateFile(); err != nil {
		h.close()
		return nil, fmt.Errorf("hypervisor %s: simulator certificate: %w", name, err)
	}
	return h, nil
}

func (h *simHypervisor) close() {
	h.server.Close()
	h.model.Remove()
}

// Credentials returns the user and password of the simulated hypervisor
// called name, for the ESXi provider (GOVC_USERNAME / GOVC_PASSWORD).
func (l *Lab) Credentials(hypervisor string) (user, password string, ok bool) {
	h, found := l.sims[hypervisor]
	if !found {
		return "", "", false
	}
	p, _ := h.login.Password()
	return h.login.Username(), p, true
}

// simDatastore is the datastore of govmomi's ESX model.
const simDatastore = "LocalDS_0"

// Getenv answers the GOVC_* variables the ESXi provider reads, for the lab's
// simulators; anything else is empty. All simulators share one login.
func (l *Lab) Getenv(key string) string {
	for _, h := range l.sims {
		switch key {
		case "GOVC_USERNAME":
			return h.login.Username()
		case "GOVC_PASSWORD":
			p, _ := h.login.Password()
			return p
		case "GOVC_DATASTORE":
			return simDatastore
		}
	}
	return ""
}

// vmPower returns the power state of every VM on h by name.
func (h *simHypervisor) vmPower(ctx context.Context) (map[string]types.VirtualMachinePowerState, error) {
	c, err := h.vimClient(ctx)
	if err != nil {
		return nil, err
	}
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return nil, fmt.Errorf("hypervisor %s: %w", h.name, err)
	}
	defer v.Destroy(context.WithoutCancel(ctx))
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "runtime.powerState"}, &vms); err != nil {
		return nil, fmt.Errorf("hypervisor %s: list vms: %w", h.name, err)
	}
	out := map[string]types.VirtualMachinePowerState{}
	for _, vm := range vms {
		out[vm.Name] = vm.Runtime.PowerState
	}
	return out, nil
}

// cloudInit returns the cloud-init user-data and meta-data the machines
// layer put on VM name (guestinfo.userdata and guestinfo.metadata, base64),
// as a VMware guest's cloud-init reads them; empty when it has none.
func (h *simHypervisor) cloudInit(ctx context.Context, name string) (userData, metaData []byte, err error) {
	c, err := h.vimClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return nil, nil, fmt.Errorf("hypervisor %s: %w", h.name, err)
	}
	defer v.Destroy(context.WithoutCancel(ctx))
	var vms []mo.VirtualMachine
	if err := v.RetrieveWithFilter(ctx, []string{"VirtualMachine"}, []string{"name", "config.extraConfig"}, &vms, property.Match{"name": name}); err != nil {
		return nil, nil, fmt.Errorf("hypervisor %s: vm %s: %w", h.name, name, err)
	}
	if len(vms) != 1 || vms[0].Config == nil {
		return nil, nil, fmt.Errorf("hypervisor %s: no vm %s", h.name, name)
	}
	extra := map[string]string{}
	for _, o := range vms[0].Config.ExtraConfig {
		if ov := o.GetOptionValue(); ov != nil {
			extra[ov.Key], _ = ov.Value.(string)
		}
	}
	part := func(key string) ([]byte, error) {
		v, ok := extra["guestinfo."+key]
		if !ok {
			return nil, nil
		}
		if enc := extra["guestinfo."+key+".encoding"]; enc != "base64" {
			return nil, fmt.Errorf("vm %s: guestinfo.%s.encoding %q: the lab reads base64", name, key, enc)
		}
		return base64.StdEncoding.DecodeString(v)
	}
	if userData, err = part("userdata"); err != nil {
		return nil, nil, err
	}
	metaData, err = part("metadata")
	return userData, metaData, err
}

func (h *simHypervisor) vimClient(ctx context.Context) (*vim25.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client != nil {
		return h.client, nil
	}
	sc := soap.NewClient(h.url, false)
	sc.SetThumbprint(h.url.Host, h.thumbprint)
	// Trusting the simulator's certificate outright spares a first handshake
	// that fails (and that the simulator logs) before the thumbprint check.
	_ = sc.SetRootCAs(h.caFile)
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("hypervisor %s: %w", h.name, err)
	}
	if err := session.NewManager(c).Login(ctx, h.login); err != nil {
		return nil, fmt.Errorf("hypervisor %s: login: %w", h.name, err)
	}
	h.client = c
	return c, nil
}

// syncVMs gives every machine whose VM the plan has powered on in a
// simulated hypervisor its container, and waits for its sshd. A machine
// whose container already exists is left alone, running or not: a stopped
// or killed container is a crashed machine, and only Start revives it.
func (l *Lab) syncVMs(ctx context.Context) error {
	names := l.machineNames()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		if !l.isVMBacked(name) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.syncVM(ctx, name)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// syncVM makes name's container if its VM is on and it has none, and says
// whether the machine exists (its VM is on, or it needs no VM).
func (l *Lab) syncVM(ctx context.Context, name string) (bool, error) {
	if !l.isVMBacked(name) {
		return true, nil
	}
	m, _ := l.Machine(name)
	h := l.sims[l.hypervisorOf[m.Site]]
	if h == nil {
		return false, fmt.Errorf("machine %q: site %s has no simulated hypervisor", name, m.Site)
	}
	power, err := h.vmPower(ctx)
	if err != nil {
		return false, err
	}
	if power[name] != types.VirtualMachinePowerStatePoweredOn {
		return false, nil
	}
	mu, _ := l.startLocks.LoadOrStore(name, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	exists, err := l.containerExists(ctx, name)
	if err != nil || exists {
		return exists, err
	}
	if err := l.startMachine(ctx, m); err != nil {
		return false, fmt.Errorf("machine %q: %w", name, err)
	}
	return true, waitBanner(ctx, m)
}
