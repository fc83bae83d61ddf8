package esxi_test

import (
	"context"
	"crypto/tls"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/planetstage/planetstage/esxi"
)

// simHost is one govmomi simulator in ESX mode (a standalone host, no
// vCenter) served over HTTPS with a self-signed certificate, like ESXi.
type simHost struct {
	model      *simulator.Model
	server     *simulator.Server
	url        string // https://127.0.0.1:PORT/sdk, no credentials
	thumbprint string // SHA-256 of the server certificate
}

// newSimHost starts a simulated standalone ESXi host. With
// updatablePortGroups, the simulator also answers UpdatePortGroup (see
// portGroupUpdater), which real ESXi implements and vcsim does not.
func newSimHost(t testing.TB, updatablePortGroups bool) *simHost {
	t.Helper()
	m := simulator.ESX()
	m.Machine = 0 // no sample VMs: the tests own the inventory
	require.NoError(t, m.Create())
	m.Service.TLS = new(tls.Config)
	s := m.Service.NewServer()
	t.Cleanup(func() { s.Close(); m.Remove() })
	if updatablePortGroups {
		host := m.Map().Any("HostSystem").(*simulator.HostSystem)
		ns := m.Map().Get(*host.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
		m.Map().Put(&portGroupUpdater{HostNetworkSystem: ns})
	}
	u := *s.URL
	u.User = nil
	return &simHost{model: m, server: s, url: u.String(), thumbprint: soap.ThumbprintSHA256(s.Certificate())}
}

// config returns a Config that pins the simulator's certificate.
func (h *simHost) config() esxi.Config {
	return esxi.Config{URL: h.url, Username: "root", Password: "not-a-secret", Thumbprint: h.thumbprint}
}

func (h *simHost) connect(t testing.TB) *esxi.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := esxi.Connect(ctx, h.config())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// userURL is the URL with credentials, for tools that take GOVC_URL.
func (h *simHost) userURL() string {
	u, _ := url.Parse(h.url)
	u.User = url.UserPassword("root", "not-a-secret")
	return u.String()
}

// portGroupUpdater is a test-only simulator extension: it implements
// HostNetworkSystem.UpdatePortGroup, which govmomi's simulator lacks
// (MethodNotFound) and real ESXi has, by replacing the stored spec the way
// the real method does. It replaces the host's network system object in
// the simulator's registry; every other method is the simulator's own.
// It lets the VLAN-drift repair be tested end to end.
type portGroupUpdater struct {
	*simulator.HostNetworkSystem
}

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
