package kubeadmtest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
	"github.com/planetstage/planetstage/remote"
)

// A fake host that answers `hostname` and fails `kubeadm join` once, and the
// log of what was asked of it.
func Example() {
	failed := false
	hosts := kubeadmtest.NewFakeHosts(func(host, command string) kubeadmtest.Reply {
		switch {
		case command == "hostname":
			return kubeadmtest.Reply{Stdout: host + "\n"}
		case strings.HasPrefix(command, "kubeadm join") && !failed:
			failed = true
			return kubeadmtest.Reply{Status: 1, Stderr: "timed out"}
		}
		return kubeadmtest.Reply{}
	})
	ctx := context.Background()
	r, _ := hosts.Dial(ctx, "node01")
	name, _ := remote.Output(ctx, r, "hostname")
	fmt.Print(name)
	fmt.Println(r.Run(ctx, remote.Cmd{Command: "kubeadm join --config join.yaml"}) != nil)
	fmt.Println(r.Run(ctx, remote.Cmd{Command: "kubeadm join --config join.yaml"}) != nil)
	for _, c := range hosts.Commands() {
		fmt.Println(c)
	}
	// Output:
	// node01
	// true
	// false
	// node01 hostname
	// node01 kubeadm join --config join.yaml
	// node01 kubeadm join --config join.yaml
}
