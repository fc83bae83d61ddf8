package lab

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// TestNodeBootsFromItsVMsUserData: a Kubernetes node on a hypervisor runs
// the node image and boots as a VMware guest does, like every other VM's
// machine: cloud-init in the node container reads the user-data and
// meta-data the machines layer put on the VM, and the SSH keys that let
// the lab reach it came from there (the lab installs none for it). It
// needs the node image (CI builds it first and sets PLANETSTAGE_NODE_IMAGE).
func TestNodeBootsFromItsVMsUserData(t *testing.T) {
	t.Parallel()
	needDocker(t)
	image := os.Getenv("PLANETSTAGE_NODE_IMAGE")
	if image == "" {
		t.Skip("needs the Kubernetes node image: eval \"$(go run ./examples/stage node-image --env)\" first (CI does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topo := simTopology("labtest-nodeboot")
	renumber(topo, 43)
	topo.Cluster = &topology.Cluster{Kubernetes: "v1.37.2",
		PodSubnet: netip.MustParsePrefix("10.244.0.0/16"), ServiceSubnet: netip.MustParsePrefix("10.96.0.0/12")}
	require.NoError(t, topo.Validate())

	l, err := Up(ctx, topo, Options{StateDir: t.TempDir(), Kubernetes: true, NodeImage: image})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })
	_, err = l.Apply(ctx, ApplyOptions{Layers: []string{layer.Machines}})
	require.NoError(t, err)

	c, err := l.d.inspectContainer(ctx, l.ContainerName("master01"))
	require.NoError(t, err)
	assert.Equal(t, image, c.Config.Image, "master01 is a Kubernetes node")
	r, err := l.Exec("master01")
	require.NoError(t, err)
	id, err := remote.Output(ctx, r, "cat /var/lib/cloud/data/instance-id")
	require.NoError(t, err)
	assert.Equal(t, "labtest-nodeboot-master01", strings.TrimSpace(id), "cloud-init read the VM's meta-data")
	_, err = remote.Output(ctx, r, "test -e /var/lib/cloud/k8snode-booted")
	require.NoError(t, err, "k8snode-init ran cloud-init's local and init stages")
	keys, err := remote.Output(ctx, r, "ls /etc/ssh/ | grep _key$")
	require.NoError(t, err)
	assert.Equal(t, "ssh_host_ed25519_key", strings.TrimSpace(keys), "only the host key pinned before boot, none generated beside it")

	// The lab reaches the node over SSH with the pinned host key: the key
	// cloud-init installed is the one the lab's known_hosts lists.
	ssh, err := l.Dial(ctx, "master01")
	require.NoError(t, err)
	out, err := remote.Output(ctx, ssh, "hostname")
	require.NoError(t, err)
	assert.Equal(t, "master01", strings.TrimSpace(out))
}
