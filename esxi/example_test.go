package esxi_test

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/plan"
)

// A site on a standalone ESXi host: a vSwitch, a port group on VLAN 10 and
// a VM on it, powered on. Run twice, the second run changes nothing. The
// host here is govmomi's simulator in ESX mode.
func Example() {
	m := simulator.ESX()
	m.Machine = 0
	if err := m.Create(); err != nil {
		fmt.Println(err)
		return
	}
	defer m.Remove()
	m.Service.TLS = new(tls.Config)
	s := m.Service.NewServer()
	defer s.Close()

	ctx := context.Background()
	c, err := esxi.Connect(ctx, esxi.Config{
		URL:        s.URL.Host, // completed to https://HOST/sdk
		Username:   "root",
		Password:   "secret",
		Thumbprint: soap.ThumbprintSHA256(s.Certificate()), // pin the self-signed certificate
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(ctx)

	vm := esxi.VM{Name: "master01", GuestID: "ubuntu64Guest", CPUs: 2, MemoryMB: 4096, DiskGB: 40, Owner: "thesis",
		NICs:      []esxi.NIC{{PortGroup: "site-a"}},
		CloudInit: &esxi.CloudInit{MetaData: "local-hostname: master01\n"}}
	for run := 1; run <= 2; run++ {
		fmt.Println("run", run)
		for _, ensure := range []func() (plan.Change, error){
			func() (plan.Change, error) { return c.EnsureVSwitch(ctx, esxi.VSwitch{Name: "vSwitch-staging"}) },
			func() (plan.Change, error) {
				return c.EnsurePortGroup(ctx, esxi.PortGroup{Name: "site-a", VSwitch: "vSwitch-staging", VLAN: 10})
			},
			func() (plan.Change, error) { return c.EnsureVM(ctx, vm) },
			func() (plan.Change, error) { return c.EnsurePower(ctx, "master01", true) },
		} {
			ch, err := ensure()
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("  %s: %s\n", ch.Action, ch.Reason)
		}
	}
	// Output:
	// run 1
	//   create: vswitch vSwitch-staging missing; create with no uplink (host-internal)
	//   create: port group site-a missing; create on vSwitch-staging with VLAN 10
	//   create: vm master01 missing; create (empty) with 2 CPU, 4096 MB, 40 GB disk, NICs [site-a]
	//   update: vm master01 is poweredOff; power on
	// run 2
	//   no-op: vswitch vSwitch-staging exists
	//   no-op: port group site-a on vSwitch-staging with VLAN 10
	//   no-op: vm master01 as wanted
	//   no-op: vm master01 is powered on
}
