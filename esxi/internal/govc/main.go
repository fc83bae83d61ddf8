// Command govc is govmomi's govc CLI with the commands planetstage's tests
// use to check an ESXi host independently of the esxi package. govmomi
// v0.56.0 publishes govc's main package as a separate module (its go.mod
// replaces govmomi with ../), which a dependent module cannot build; its
// commands live in the govmomi module's cli packages, registered here the
// way govc's own main registers them.
package main

import (
	"os"

	"github.com/vmware/govmomi/cli"
	_ "github.com/vmware/govmomi/cli/about"
	_ "github.com/vmware/govmomi/cli/device"
	_ "github.com/vmware/govmomi/cli/host/portgroup"
	_ "github.com/vmware/govmomi/cli/host/vswitch"
	_ "github.com/vmware/govmomi/cli/vm"
)

func main() {
	os.Exit(cli.Run(os.Args[1:]))
}
