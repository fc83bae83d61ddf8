package k8snode_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/planetstage/planetstage/lab/k8snode"
)

// Build the node image (cached after the first time) and start one node
// container with the flags it needs. Not run by `go test`: a cold build
// compiles Kubernetes.
func ExampleBuild() {
	ctx := context.Background()
	res, err := k8snode.Build(ctx, k8snode.Options{Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Println("build:", err)
		return
	}
	args := append([]string{"run", "-d", "--name", "master01", "--hostname", "master01"}, k8snode.RunFlags()...)
	args = append(args, res.Image)
	fmt.Println("docker", strings.Join(args, " "))
	fmt.Println("component images:", res.Images)
}

// The flags a node container needs, whatever starts it.
func ExampleRunFlags() {
	flags := strings.Join(k8snode.RunFlags(), " ")
	fmt.Println(strings.Contains(flags, "--cap-add ALL"), strings.Contains(flags, "--cgroupns=private"), strings.Contains(flags, "--volume /var"))
	// Output: true true true
}
