package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab/k8snode"
)

// TestCreateBody checks the JSON the engine gets for the fields
// go-dockerclient cannot send.
func TestCreateBody(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(createBodyOf(containerSpec{Name: "n", Image: "i", Init: boolPtr(false), UnconfinedPaths: true, CgroupnsMode: "private"}))
	require.NoError(t, err)
	s := string(data)
	for _, want := range []string{`"Init":false`, `"MaskedPaths":[]`, `"ReadonlyPaths":[]`, `"CgroupnsMode":"private"`, `"Image":"i"`} {
		assert.Contains(t, s, want)
	}
	data, err = json.Marshal(createBodyOf(containerSpec{Name: "n", Image: "i"}))
	require.NoError(t, err)
	for _, absent := range []string{`"Init"`, `"MaskedPaths"`, `"CgroupnsMode"`, `"NetworkingConfig"`} {
		assert.NotContains(t, string(data), absent, "left to the engine's defaults")
	}
}

func TestApplyRunFlags(t *testing.T) {
	t.Parallel()
	var s containerSpec
	require.NoError(t, applyRunFlags(&s, k8snode.RunFlags()), "every flag a Kubernetes node needs is known")
	assert.Equal(t, []string{"ALL"}, s.CapAdd)
	assert.Equal(t, []string{"SYS_RESOURCE"}, s.CapDrop)
	assert.Equal(t, []string{"seccomp=unconfined", "apparmor=unconfined"}, s.SecurityOpt)
	assert.True(t, s.UnconfinedPaths)
	assert.Equal(t, "private", s.CgroupnsMode)
	assert.Equal(t, []string{"/dev/kmsg"}, s.Devices)
	assert.Equal(t, []string{"/var"}, s.Volumes)
	assert.Equal(t, "rw,exec,nosuid,nodev,mode=755", s.Tmpfs["/run"])
	require.NotNil(t, s.Init)
	assert.False(t, *s.Init)
	assert.False(t, s.Privileged)

	assert.ErrorContains(t, applyRunFlags(&s, []string{"--publish", "80:80"}), "--publish")
	assert.ErrorContains(t, applyRunFlags(&s, []string{"--cap-add"}), "no value")
	assert.ErrorContains(t, applyRunFlags(&s, []string{"--ip", "10.0.0.300"}), "--ip 10.0.0.300")
	assert.ErrorContains(t, applyRunFlags(&s, []string{"--sysctl", "x"}), "key=value")

	// What a router built from run flags (a VyOS container, say) asks for.
	var r containerSpec
	require.NoError(t, applyRunFlags(&r, []string{"--name", "lab-r1", "--hostname", "r1", "--privileged", "--init=false",
		"--label", "io.planetstage.role=router", "--network", "lab-0-underlay", "--ip", "10.2.0.9", "--sysctl", "net.ipv4.ip_forward=1",
		"-v", "/lib/modules:/lib/modules:ro", "--restart", "unless-stopped", "-e", "A=b", "--entrypoint", "/sbin/init"}))
	assert.Equal(t, containerSpec{Name: "lab-r1", Hostname: "r1", Privileged: true, Init: boolPtr(false),
		Labels: map[string]string{"io.planetstage.role": "router"}, Network: "lab-0-underlay", IP: netip.MustParseAddr("10.2.0.9"),
		Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}, Binds: []string{"/lib/modules:/lib/modules:ro"},
		RestartPolicy: "unless-stopped", Env: []string{"A=b"}, Entrypoint: []string{"/sbin/init"}}, r)
}

func TestSplitTag(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string][2]string{
		"planetstage/node:abc":  {"planetstage/node", "abc"},
		"localhost:5000/a/b:v1": {"localhost:5000/a/b", "v1"},
		"localhost:5000/a/b":    {"localhost:5000/a/b", "latest"},
		"planetstage/node":      {"planetstage/node", "latest"},
	} {
		repo, tag := splitTag(ref)
		assert.Equal(t, want, [2]string{repo, tag}, ref)
	}
}

// TestRawAPIImportStreamError: the engine may accept an import and report
// its failure in the progress stream with status 200. A stand-in engine
// (httptest) answers so, which the real one here was not seen to do.
func TestRawAPIImportStreamError(t *testing.T) {
	t.Parallel()
	var query url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprintln(w, `{"status":"importing"}`)
		fmt.Fprintln(w, `{"errorDetail":{"message":"boom"},"error":"boom"}`)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "x.tar")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	api := rawAPI{http: srv.Client(), base: srv.URL}
	err := api.importImage(t.Context(), file, "planetstage/node:abc", []string{"ENTRYPOINT [\"/x\"]", "LABEL a=b"})
	assert.EqualError(t, err, "boom")
	assert.Equal(t, url.Values{"fromSrc": {"-"}, "repo": {"planetstage/node"}, "tag": {"abc"}, "changes": {"ENTRYPOINT [\"/x\"]", "LABEL a=b"}}, query)
}
