package k8snode

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kubeadmconfig "k8s.io/kubernetes/cmd/kubeadm/app/util/config"

	"github.com/planetstage/planetstage/kubeadm"
)

// TestTuneIsAcceptedByKubeadm renders a tuned cluster's configs and hands
// them to kubeadm's own loading and validation: the kubelet and kube-proxy
// documents Tune adds must decode strictly, and the ignored preflight
// checks must reach every node's registration.
func TestTuneIsAcceptedByKubeadm(t *testing.T) {
	t.Parallel()
	c := &kubeadm.Cluster{
		Name: "lab", KubernetesVersion: DefaultVersions.Kubernetes,
		Endpoint:      netip.MustParseAddrPort("192.168.10.253:6443"),
		PodSubnet:     netip.MustParsePrefix("10.244.0.0/16"),
		ServiceSubnet: netip.MustParsePrefix("10.96.0.0/12"),
		ControlPlanes: []kubeadm.Node{{Name: "master01", Address: netip.MustParseAddr("192.168.10.101")}},
		Workers:       []kubeadm.Node{{Name: "node01", Address: netip.MustParseAddr("192.168.20.101")}},
	}
	Tune(c)
	Tune(c) // twice: nothing added twice
	assert.Equal(t, []string{"SystemVerification", "Swap"}, c.IgnorePreflightErrors)
	assert.Len(t, c.ExtraDocuments, 2)

	now := time.Now()
	tok, err := kubeadm.NewToken(nil, now, time.Hour)
	require.NoError(t, err)
	secrets := kubeadm.Secrets{Token: tok, CAHash: "sha256:" + strings.Repeat("ab", 32)}
	init, err := c.InitConfig(secrets, now)
	require.NoError(t, err)
	require.NoError(t, kubeadmconfig.ValidateConfig(init, false, false))
	cfg, err := kubeadmconfig.BytesToInitConfiguration(init, true)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"SystemVerification", "Swap"}, cfg.NodeRegistration.IgnorePreflightErrors)
	assert.Contains(t, string(init), "failCgroupV1: false")
	assert.Contains(t, string(init), "maxPerCore: 0")

	join, err := c.JoinConfig("node01", secrets)
	require.NoError(t, err)
	jcfg, err := kubeadmconfig.BytesToJoinConfiguration(join, kubeadmconfig.LoadOrDefaultConfigurationOptions{SkipCRIDetect: true})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"SystemVerification", "Swap"}, jcfg.NodeRegistration.IgnorePreflightErrors)
}
