package lab_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/remote"
)

// A lab made from a bare Spec: before any tunnel, only machines of the
// same site reach each other. (Needs Docker; the node image is built on
// first use.)
func ExampleUpSpec() {
	ctx := context.Background()
	spec := lab.Spec{
		Name:     "example-spec",
		Underlay: netip.MustParsePrefix("10.23.0.0/16"),
		Sites: []lab.Site{
			{Name: "a", Prefix: netip.MustParsePrefix("172.23.10.0/24"),
				Router: lab.Router{Name: "vyos01", WAN: netip.MustParseAddr("10.23.0.90"), LAN: netip.MustParseAddr("172.23.10.1")},
				Hosts:  []lab.Host{{Name: "master01", Address: netip.MustParseAddr("172.23.10.101")}}},
			{Name: "b", Prefix: netip.MustParsePrefix("172.23.20.0/24"),
				Router: lab.Router{Name: "vyos02", WAN: netip.MustParseAddr("10.23.0.91"), LAN: netip.MustParseAddr("172.23.20.1")},
				Hosts:  []lab.Host{{Name: "node01", Address: netip.MustParseAddr("172.23.20.101")}}},
		},
	}
	state, _ := os.MkdirTemp("", "lab-example-spec-")
	defer os.RemoveAll(state)
	l, err := lab.UpSpec(ctx, spec, lab.Options{StateDir: state})
	if err != nil {
		fmt.Println("lab up:", err)
		return
	}
	defer l.Down(ctx)

	m, err := l.Matrix(ctx)
	if err != nil {
		fmt.Println("matrix:", err)
		return
	}
	fmt.Print(m.Table())
	r, _ := l.Exec("master01")
	route, _ := remote.Output(ctx, r, "ip route show default")
	fmt.Print(route)
	// Output:
	// from\to    vyos01   master01 vyos02   node01
	// vyos01     -        o        x        x
	// master01   o        -        x        x
	// vyos02     x        x        -        o
	// node01     x        x        o        -
	// default via 172.23.10.1 dev eth0
}
