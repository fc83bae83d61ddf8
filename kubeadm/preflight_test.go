package kubeadm

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/planetstage/planetstage/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPreflightOnThisMachine runs the real preflight script on this machine
// (remote.Local) with conditions the test controls: a port it listens on,
// and a runtime socket that is missing, then present.
func TestPreflightOnThisMachine(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	dir := t.TempDir()
	sock := filepath.Join(dir, "containerd.sock")
	c := thesisCluster()
	c.Endpoint = netip.AddrPortFrom(c.Endpoint.Addr(), uint16(port))
	c.CRISocket = "unix://" + sock
	b := &Bootstrapper{Cluster: c, Store: newMemStore()}
	local := &remote.Local{Name: "this-machine"}

	err = b.Preflight(context.Background(), local, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "this-machine")
	assert.Contains(t, err.Error(), fmt.Sprintf("Port-%d: port %d is in use", port, port))
	assert.Contains(t, err.Error(), "CRI: container runtime socket "+sock+" is missing")

	unix, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer unix.Close()
	err = b.Preflight(context.Background(), local, true)
	require.Error(t, err, "the port is still taken")
	assert.NotContains(t, err.Error(), "CRI:")

	// A worker does not need the API port.
	err = b.Preflight(context.Background(), local, false)
	if err != nil {
		assert.NotContains(t, err.Error(), fmt.Sprintf("Port-%d", port))
	}
}
