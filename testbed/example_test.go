package testbed_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/topology"
)

// The thesis's two experiments, with the same calls in the lab and on
// hardware: a worker added to the running cluster, and a control plane
// lost and brought back. With Lab false they run on the file's hardware:
// the new worker's VM is created through ESXi, and the master's VM is
// powered off and on. (Not run as a test: it builds a cluster.)
func Example_experiments() {
	ctx := context.Background()
	t, err := topology.Load("examples/thesis/thesis.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	tb, err := testbed.Open(ctx, t, testbed.Options{Lab: true, Progress: os.Stdout})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tb.Close(ctx)
	if _, err := tb.Apply(ctx, testbed.ApplyOptions{Layers: layer.Names()}); err != nil {
		fmt.Println("apply:", err)
		return
	}

	worker := topology.Host{Name: "node05", Address: netip.MustParseAddr("192.168.20.103"), Role: topology.RoleWorker}
	add, err := tb.AddNode(ctx, "site-b", worker, testbed.ApplyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s joined and Ready in %.1f s\n", add.Node, add.Seconds)

	loss, err := tb.LoseControlPlane(ctx, "master01", testbed.ApplyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("the API answered with %s down (from %s); it was back in %.1f s\n", loss.Master, loss.Via, loss.RecoverSeconds)
}
