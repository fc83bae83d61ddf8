package kubeadm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWritePods(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	require.NoError(t, WritePods(&b, []PodReport{
		{Node: "node01", Pod: "web-a", Phase: "Running", Ready: true, PodIP: "10.244.3.2"},
		{Node: "node02", Phase: "Pending"},
	}))
	assert.Equal(t, "✓ node01       web-a                          10.244.3.2      Running\n"+
		"✗ node02       -                                              Pending\n", b.String())
}

func TestNameFromImage(t *testing.T) {
	t.Parallel()
	for image, want := range map[string]string{
		"registry.local/team/nginx:1.27":  "nginx",
		"busybox":                         "busybox",
		"localhost:5000/My_App@sha256:ab": "my-app",
		"::":                              "workload",
	} {
		name := NameFromImage(image)
		assert.Equal(t, want, name, image)
		assert.Regexp(t, dnsLabel, name, "a valid name for the DaemonSet")
	}
}
