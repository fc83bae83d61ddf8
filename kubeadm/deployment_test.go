package kubeadm

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// thesisNginx is the thesis's nginx: four replicas, one per worker, from an
// image preloaded into containerd.
func thesisNginx() Deployment {
	return Deployment{Name: "nginx", Image: "planetstage.local/httpd:1", Replicas: 4, Port: 8080,
		PullPolicy: PullNever, Args: []string{"-listen", ":8080"}, Timeout: time.Minute}
}

func TestGoldenDeploymentManifest(t *testing.T) {
	t.Parallel()
	got, err := thesisNginx().Manifest()
	require.NoError(t, err)
	path := filepath.Join("testdata", "deployment-nginx.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing; run go test ./kubeadm -run Golden -update")
	assert.Equal(t, string(want), string(got))
}

// TestDeploymentManifestDecodesStrictly decodes the manifest into the
// upstream apps/v1 types refusing unknown fields (a misspelt key fails
// here), then checks the fields from the typed object.
func TestDeploymentManifestDecodesStrictly(t *testing.T) {
	t.Parallel()
	raw, err := thesisNginx().Manifest()
	require.NoError(t, err)
	var dep appsv1.Deployment
	require.NoError(t, yaml.UnmarshalStrict(raw, &dep))
	assert.Equal(t, "Deployment", dep.Kind)
	assert.Equal(t, "default", dep.Namespace)
	require.NotNil(t, dep.Spec.Replicas)
	assert.Equal(t, int32(4), *dep.Spec.Replicas)
	assert.Equal(t, map[string]string{"app": "nginx"}, dep.Spec.Selector.MatchLabels)
	assert.Equal(t, "nginx", dep.Spec.Template.Labels["app"], "the template matches its selector")

	spec := dep.Spec.Template.Spec
	require.Len(t, spec.TopologySpreadConstraints, 1)
	tsc := spec.TopologySpreadConstraints[0]
	assert.Equal(t, int32(1), tsc.MaxSkew)
	assert.Equal(t, "kubernetes.io/hostname", tsc.TopologyKey)
	assert.Equal(t, corev1.DoNotSchedule, tsc.WhenUnsatisfiable)
	require.NotNil(t, tsc.NodeTaintsPolicy)
	assert.Equal(t, corev1.NodeInclusionPolicyHonor, *tsc.NodeTaintsPolicy)
	assert.Equal(t, []string{"pod-template-hash"}, tsc.MatchLabelKeys)
	assert.Equal(t, map[string]string{"app": "nginx"}, tsc.LabelSelector.MatchLabels)
	assert.Empty(t, spec.Tolerations, "no toleration: the masters' taint keeps pods off them")

	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	assert.Equal(t, corev1.PullNever, c.ImagePullPolicy)
	assert.Equal(t, []string{"-listen", ":8080"}, c.Args)
	require.Len(t, c.Ports, 1)
	assert.Equal(t, int32(8080), c.Ports[0].ContainerPort)
	require.NotNil(t, c.ReadinessProbe)
	require.NotNil(t, c.ReadinessProbe.HTTPGet)
	assert.Equal(t, "/", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, 8080, c.ReadinessProbe.HTTPGet.Port.IntValue())

	misspelt := bytes.Replace(raw, []byte(`"whenUnsatisfiable"`), []byte(`"whenUnsatisfable"`), 1)
	require.NotEqual(t, raw, misspelt)
	assert.Error(t, yaml.UnmarshalStrict(misspelt, &appsv1.Deployment{}), "strict decoding must catch a misspelt key")

	plain := thesisNginx()
	plain.PullPolicy, plain.Args = "", nil
	raw, err = plain.Manifest()
	require.NoError(t, err)
	dep = appsv1.Deployment{}
	require.NoError(t, yaml.UnmarshalStrict(raw, &dep))
	assert.Empty(t, dep.Spec.Template.Spec.Containers[0].ImagePullPolicy, "Kubernetes' default when unset")
	assert.Empty(t, dep.Spec.Template.Spec.Containers[0].Args)
}

func TestDeploymentValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(d *Deployment)
		want   string
	}{
		{"name", func(d *Deployment) { d.Name = "Nginx" }, "name is not a lowercase DNS label"},
		{"image", func(d *Deployment) { d.Image = "" }, `image "" is empty`},
		{"namespace", func(d *Deployment) { d.Namespace = "a_b" }, `namespace "a_b"`},
		{"replicas", func(d *Deployment) { d.Replicas = 0 }, "replicas is 0; it must be at least 1"},
		{"port", func(d *Deployment) { d.Port = 70000 }, "port 70000 is not a TCP port"},
		{"pull policy", func(d *Deployment) { d.PullPolicy = "never" }, `pull policy "never"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := thesisNginx()
			tt.change(&d)
			_, err := d.Manifest()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.NoError(t, thesisNginx().Validate())
}

func TestReadyNodes(t *testing.T) {
	t.Parallel()
	reports := []PodReport{
		{Pod: "a", Node: "node02", Ready: true},
		{Pod: "b", Node: "node01", Ready: true},
		{Pod: "c", Node: "node02", Ready: true},
		{Pod: "d", Node: "node03", Ready: false},
		{Pod: "e", Node: "", Ready: false},
	}
	assert.Equal(t, []string{"node01", "node02"}, ReadyNodes(reports))
	assert.Empty(t, ReadyNodes(nil))
}
