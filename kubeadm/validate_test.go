package kubeadm

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kubeadmapi "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm"
	kubeadmconfig "k8s.io/kubernetes/cmd/kubeadm/app/util/config"
)

// TestKubeadmAcceptsRenderedConfigs hands every rendered config to kubeadm's
// own code: ValidateConfig is what `kubeadm config validate` runs (strict
// decoding, defaulting, validation), and BytesTo*Configuration is what
// `kubeadm init/join --config` loads. The checks then read the fields back
// from kubeadm's decoded objects, not from our YAML.
func TestKubeadmAcceptsRenderedConfigs(t *testing.T) {
	t.Parallel()
	c := thesisCluster()
	for name, b := range renderAll(t, c) {
		require.NoError(t, kubeadmconfig.ValidateConfig(b, false, false), name)
		if strings.HasPrefix(name, "init-") {
			cfg, err := kubeadmconfig.BytesToInitConfiguration(b, true)
			require.NoError(t, err, name)
			assert.Equal(t, "192.168.10.253:6443", cfg.ControlPlaneEndpoint)
			assert.Equal(t, "v1.37.2", cfg.KubernetesVersion)
			assert.Equal(t, "10.244.0.0/16", cfg.Networking.PodSubnet)
			assert.Equal(t, "10.96.0.0/12", cfg.Networking.ServiceSubnet)
			assert.Subset(t, cfg.APIServer.CertSANs, []string{"192.168.10.253", "192.168.10.101", "192.168.10.102", "192.168.10.103"})
			assert.Equal(t, "192.168.10.101", cfg.LocalAPIEndpoint.AdvertiseAddress)
			assert.Equal(t, "master01", cfg.NodeRegistration.Name)
			assert.Equal(t, DefaultCRISocket, cfg.NodeRegistration.CRISocket)
			require.Len(t, cfg.BootstrapTokens, 1)
			assert.Equal(t, testSecrets.Token.Value, cfg.BootstrapTokens[0].Token.String())
			assert.Equal(t, DefaultTokenTTL, cfg.BootstrapTokens[0].TTL.Duration)
			assert.Contains(t, nodeIPs(cfg.NodeRegistration.KubeletExtraArgs), "192.168.10.101")
			continue
		}
		cfg, err := kubeadmconfig.BytesToJoinConfiguration(b, kubeadmconfig.LoadOrDefaultConfigurationOptions{SkipCRIDetect: true})
		require.NoError(t, err, name)
		node, controlPlane, ok := c.Node(cfg.NodeRegistration.Name)
		require.True(t, ok, name)
		assert.Equal(t, "join-"+node.Name+".yaml", name)
		assert.Contains(t, nodeIPs(cfg.NodeRegistration.KubeletExtraArgs), node.Address.String(), name)
		bt := cfg.Discovery.BootstrapToken
		require.NotNil(t, bt, name)
		assert.Equal(t, "192.168.10.253:6443", bt.APIServerEndpoint, name)
		assert.Equal(t, []string{testSecrets.CAHash}, bt.CACertHashes, name)
		assert.False(t, bt.UnsafeSkipCAVerification, name)
		assert.Equal(t, controlPlane, cfg.ControlPlane != nil, name)
		if controlPlane {
			assert.Equal(t, node.Address.String(), cfg.ControlPlane.LocalAPIEndpoint.AdvertiseAddress, name)
		}
	}
}

func nodeIPs(args []kubeadmapi.Arg) []string {
	var ips []string
	for _, a := range args {
		if a.Name == "node-ip" {
			ips = append(ips, a.Value)
		}
	}
	return ips
}

// TestKubeadmRejectsBrokenConfig shows the validation above can fail: the
// same config with a malformed pod subnet or an unknown field is refused.
func TestKubeadmRejectsBrokenConfig(t *testing.T) {
	t.Parallel()
	init, err := thesisCluster().InitConfig(testSecrets, testNow)
	require.NoError(t, err)
	for name, broken := range map[string][]byte{
		"bad subnet":    bytes.Replace(init, []byte("podSubnet: 10.244.0.0/16"), []byte("podSubnet: 10.244.0.0/33"), 1),
		"unknown field": bytes.Replace(init, []byte("clusterName: thesis"), []byte("clusterName: thesis\nclusterNmae: x"), 1),
	} {
		require.NotEqual(t, init, broken, name)
		assert.Error(t, kubeadmconfig.ValidateConfig(broken, false, false), name)
	}
}

// TestRedactedConfigStillValid: what `stage render` shows has the token
// replaced, and kubeadm still accepts it.
func TestRedactedConfigStillValid(t *testing.T) {
	t.Parallel()
	c := thesisCluster()
	s := testSecrets.Redacted()
	init, err := c.InitConfig(s, testNow)
	require.NoError(t, err)
	join, err := c.JoinConfig("node03", s)
	require.NoError(t, err)
	for _, b := range [][]byte{init, join} {
		assert.NotContains(t, string(b), testSecrets.Token.Value)
		assert.Contains(t, string(b), RedactedToken)
		assert.NoError(t, kubeadmconfig.ValidateConfig(b, false, false))
	}
}

// TestKubeadmAcceptsLabVariant: the settings a lab adds (k8s-offline.md,
// appendix A) pass kubeadm's validation too, component configs included.
func TestKubeadmAcceptsLabVariant(t *testing.T) {
	t.Parallel()
	c := thesisCluster()
	c.ImageRepository = "registry.local/k8s"
	c.IgnorePreflightErrors = []string{"SystemVerification", "Hostname", "Service-kubelet"}
	c.ExtraDocuments = []string{`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false`, `---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
conntrack: {maxPerCore: 0}`}
	init, err := c.InitConfig(testSecrets, testNow)
	require.NoError(t, err)
	require.NoError(t, kubeadmconfig.ValidateConfig(init, false, false))
	cfg, err := kubeadmconfig.BytesToInitConfiguration(init, true)
	require.NoError(t, err)
	assert.Equal(t, "registry.local/k8s", cfg.ImageRepository)
	assert.Contains(t, cfg.NodeRegistration.IgnorePreflightErrors, "SystemVerification")
	assert.Len(t, cfg.ComponentConfigs, 2, "kubelet and kube-proxy configs loaded")
	join, err := c.JoinConfig("node01", testSecrets)
	require.NoError(t, err)
	require.NoError(t, kubeadmconfig.ValidateConfig(join, false, false))
}
