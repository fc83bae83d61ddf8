package kubeadm

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// thesisCluster is the thesis testbed: three masters in site A behind the
// load balancer, two workers in each of sites B and C.
func thesisCluster() *Cluster {
	return &Cluster{
		Name:              "thesis",
		KubernetesVersion: "v1.37.2",
		Endpoint:          netip.MustParseAddrPort("192.168.10.253:6443"),
		PodSubnet:         netip.MustParsePrefix("10.244.0.0/16"),
		ServiceSubnet:     netip.MustParsePrefix("10.96.0.0/12"),
		ControlPlanes: []Node{
			{"master01", netip.MustParseAddr("192.168.10.101")},
			{"master02", netip.MustParseAddr("192.168.10.102")},
			{"master03", netip.MustParseAddr("192.168.10.103")},
		},
		Workers: []Node{
			{"node01", netip.MustParseAddr("192.168.20.101")},
			{"node02", netip.MustParseAddr("192.168.20.102")},
			{"node03", netip.MustParseAddr("192.168.30.101")},
			{"node04", netip.MustParseAddr("192.168.30.102")},
		},
	}
}

var (
	testNow     = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	testSecrets = Secrets{
		Token:  Token{Value: "abcdef.0123456789abcdef", Expires: testNow.Add(DefaultTokenTTL)},
		CAHash: "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	}
)

// renderAll renders every node's config of the thesis cluster, keyed by the
// golden file name.
func renderAll(t *testing.T, c *Cluster) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	init, err := c.InitConfig(testSecrets, testNow)
	require.NoError(t, err)
	out["init-"+c.FirstControlPlane().Name+".yaml"] = init
	for _, n := range c.Nodes()[1:] {
		b, err := c.JoinConfig(n.Name, testSecrets)
		require.NoError(t, err, n.Name)
		out["join-"+n.Name+".yaml"] = b
	}
	return out
}

func TestGoldenThesisConfigs(t *testing.T) {
	t.Parallel()
	for name, got := range renderAll(t, thesisCluster()) {
		path := filepath.Join("testdata", name)
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "golden file missing; run go test ./kubeadm -run Golden -update")
		assert.Equal(t, string(want), string(got), name)
	}
}
