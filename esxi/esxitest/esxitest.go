// Package esxitest runs govmomi's simulator as a standalone ESXi host for
// tests: in-process, over HTTPS with a self-signed certificate, with the
// sample VMs removed. It adds one method the simulator lacks and real ESXi
// has (HostNetworkSystem.UpdatePortGroup), so VLAN drift repair can be
// tested; everything else is the simulator's own behaviour.
package esxitest

import (
	"context"
	"crypto/tls"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"golang.org/x/crypto/ssh"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/secret"
)

// Credentials the simulated hosts accept (the simulator accepts any).
const (
	Username = "root"
	Password = "not-a-secret"
)

// Host is one simulated standalone ESXi host.
type Host struct {
	Model  *simulator.Model
	Server *simulator.Server
	// URL is https://127.0.0.1:PORT/sdk, without credentials.
	URL string
	// Thumbprint is the SHA-256 fingerprint of the host's certificate.
	Thumbprint string
}

// Options change the simulated host.
type Options struct {
	// NoUpdatePortGroup leaves the simulator as it ships: UpdatePortGroup
	// answers MethodNotFound, like the vcsim binary.
	NoUpdatePortGroup bool
}

// New starts a simulated standalone ESXi host that stops when t ends.
func New(t testing.TB, opts Options) *Host {
	t.Helper()
	m := simulator.ESX()
	m.Machine = 0 // no sample VMs: the tests own the inventory
	if err := m.Create(); err != nil {
		t.Fatalf("esxitest: create model: %v", err)
	}
	m.Service.TLS = new(tls.Config)
	s := m.Service.NewServer()
	t.Cleanup(func() { s.Close(); m.Remove() })
	if !opts.NoUpdatePortGroup {
		host := m.Map().Any("HostSystem").(*simulator.HostSystem)
		ns := m.Map().Get(*host.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
		m.Map().Put(&portGroupUpdater{HostNetworkSystem: ns})
	}
	u := *s.URL
	u.User = nil
	return &Host{Model: m, Server: s, URL: u.String(), Thumbprint: soap.ThumbprintSHA256(s.Certificate())}
}

// Config returns a Config that reaches the host with its certificate pinned.
func (h *Host) Config() esxi.Config {
	return esxi.Config{URL: h.URL, Username: Username, Password: Password, Thumbprint: h.Thumbprint}
}

// Connect logs in; the session is closed when t ends.
func (h *Host) Connect(t testing.TB) *esxi.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := esxi.Connect(ctx, h.Config())
	if err != nil {
		t.Fatalf("esxitest: connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// UserURL is the URL with credentials, for tools that take GOVC_URL.
func (h *Host) UserURL() string {
	u, _ := url.Parse(h.URL)
	u.User = url.UserPassword(Username, Password)
	return u.String()
}

// Getenv answers GOVC_USERNAME and GOVC_PASSWORD for the simulated hosts.
func Getenv(key string) string {
	return map[string]string{"GOVC_USERNAME": Username, "GOVC_PASSWORD": Password}[key]
}

// portGroupUpdater replaces the host's network system object in the
// simulator's registry and adds UpdatePortGroup, implemented the way ESXi
// does it: the stored spec is replaced (moving to another vSwitch is
// refused). Every other method is the simulator's own.
type portGroupUpdater struct {
	*simulator.HostNetworkSystem
}

// UpdatePortGroup implements HostNetworkSystem.UpdatePortGroup.
func (u *portGroupUpdater) UpdatePortGroup(req *types.UpdatePortGroup) soap.HasFault {
	for i := range u.NetworkInfo.Portgroup {
		pg := &u.NetworkInfo.Portgroup[i]
		if pg.Spec.Name == req.PgName {
			if req.Portgrp.VswitchName != pg.Spec.VswitchName {
				return &methods.UpdatePortGroupBody{Fault_: simulator.Fault("vswitch change", &types.InvalidArgument{InvalidProperty: "vswitchName"})}
			}
			pg.Spec = req.Portgrp
			return &methods.UpdatePortGroupBody{Res: &types.UpdatePortGroupResponse{}}
		}
	}
	return &methods.UpdatePortGroupBody{Fault_: simulator.Fault("", &types.NotFound{})}
}

// Identity writes a new SSH key and its .pub into a directory of t's and
// returns the private key's path: the ssh section's identityFile of a
// topology whose VMs the machines layer creates on a simulated host (they
// authorize its public half), where a test machine has no ~/.ssh key.
func Identity(t testing.TB) string {
	t.Helper()
	key, err := secret.NewSSHKey("esxitest")
	if err != nil {
		t.Fatalf("esxitest: %v", err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatalf("esxitest: %v", err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatalf("esxitest: %v", err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatalf("esxitest: %v", err)
	}
	return path
}
