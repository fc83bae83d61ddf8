package kubeadm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestWorkloadManifestDecodesStrictly: a DaemonSet of a peer-to-peer
// system (arguments, the node's network, an image imported offline)
// decodes into the upstream apps/v1 types refusing unknown fields; a plain
// one keeps Kubernetes' defaults.
func TestWorkloadManifestDecodesStrictly(t *testing.T) {
	t.Parallel()
	raw, err := Workload{Name: "gossip", Image: "planetstage.io/gossip-peer:abc", Args: []string{"--seed", "s"},
		HostNetwork: true, PullPolicy: PullNever}.Manifest()
	require.NoError(t, err)
	var ds appsv1.DaemonSet
	require.NoError(t, yaml.UnmarshalStrict(raw, &ds))
	assert.Equal(t, "DaemonSet", ds.Kind)
	spec := ds.Spec.Template.Spec
	assert.True(t, spec.HostNetwork)
	assert.Empty(t, spec.Tolerations, "no toleration: the masters' taint keeps pods off them")
	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	assert.Equal(t, []string{"--seed", "s"}, c.Args)
	assert.Equal(t, corev1.PullNever, c.ImagePullPolicy)
	require.Len(t, c.Env, 1)
	assert.Equal(t, "NODE_NAME", c.Env[0].Name)
	assert.Equal(t, "spec.nodeName", c.Env[0].ValueFrom.FieldRef.FieldPath)

	raw, err = Workload{Name: "web", Image: "registry.local/nginx:1"}.Manifest()
	require.NoError(t, err)
	ds = appsv1.DaemonSet{}
	require.NoError(t, yaml.UnmarshalStrict(raw, &ds))
	assert.False(t, ds.Spec.Template.Spec.HostNetwork)
	assert.Empty(t, ds.Spec.Template.Spec.Containers[0].Args)
	assert.Empty(t, ds.Spec.Template.Spec.Containers[0].ImagePullPolicy)

	_, err = Workload{Name: "web", Image: "x:1", PullPolicy: "Sometimes"}.Manifest()
	assert.ErrorContains(t, err, `pull policy "Sometimes" is not Always, IfNotPresent or Never`)
}
