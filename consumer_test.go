package planetstage_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConsumerModuleBuilds proves that a program importing planetstage
// builds after a plain `go get`: the module's go.mod must carry every
// requirement itself (no replace directive of ours), because a dependency's
// replace directives are ignored. The consumer lives outside this repo and
// points at it with a replace of its own, as a user trying a checkout
// would. It needs the Go module proxy (or a warm module cache). The
// consumer imports only the model, and links neither govmomi nor
// Kubernetes.
func TestConsumerModuleBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command; skipped in -short")
	}
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command")
	repo, err := os.Getwd()
	require.NoError(t, err)

	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(gomod), "\n") {
		require.False(t, strings.HasPrefix(strings.TrimSpace(line), "replace"),
			"go.mod must not have a replace directive: %q", line)
	}

	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("go.mod", "module example.com/consumer\n\ngo 1.26\n\n"+
		"require github.com/planetstage/planetstage v0.0.0\n\n"+
		"replace github.com/planetstage/planetstage => "+repo+"\n")
	write("main.go", `package main

import (
	"fmt"
	"os"

	"github.com/planetstage/planetstage/topology"
)

func main() {
	t, err := topology.Load(os.Args[1])
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(t.Name, len(t.Machines()))
}
`)
	run := func(args ...string) string {
		cmd := exec.Command(gobin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	run("mod", "tidy")
	run("build", "-o", filepath.Join(dir, "consumer"), ".")
	out, err := exec.Command(filepath.Join(dir, "consumer"), filepath.Join(repo, "examples", "thesis", "thesis.yaml")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "thesis 11\n", string(out))

	// A program that only loads and checks topologies links the model
	// alone: no hypervisor client, no Kubernetes tree.
	linked := run("version", "-m", filepath.Join(dir, "consumer"))
	for _, heavy := range []string{"github.com/vmware/govmomi", "k8s.io/kubernetes", "k8s.io/apimachinery"} {
		require.NotContains(t, linked, heavy, "the topology package must not link %s", heavy)
	}
	require.Contains(t, linked, "sigs.k8s.io/yaml", "a negative control: the listing names what is linked")
}
