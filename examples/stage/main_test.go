package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/stagecli"
)

// The version command is tested here, in the binary's own package: only a
// main package's test binary carries the build's module list (a library
// package's test binary reports none), and that list is what it prints.

func stage(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = (&stagecli.CLI{}).Run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, errOut := stage(t, "version")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "planetstage ")
	assert.Contains(t, out, "github.com/vmware/govmomi")
	assert.Contains(t, out, "node image: Kubernetes "+k8snode.DefaultVersions.Kubernetes)
	code, out, errOut = stage(t, "version", "--json")
	require.Equal(t, 0, code, errOut)
	var v struct {
		Go        string            `json:"go"`
		Modules   map[string]string `json:"modules"`
		NodeImage map[string]string `json:"nodeImage"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, runtime.Version(), v.Go)
	assert.NotEmpty(t, v.Modules["github.com/vmware/govmomi"])
	assert.Equal(t, k8snode.DefaultVersions.Etcd, v.NodeImage["etcd"], "camelCase keys")
}
