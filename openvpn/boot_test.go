package openvpn_test

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

func TestBootScriptContent(t *testing.T) {
	t.Parallel()
	m := newModel(t, tunnel.Spec{Sites: sites(3), Mode: tunnel.HubSpoke, Hub: "site-b", Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{})
	keys, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	l := &openvpn.Linux{Model: m, Keys: keys, Site: "site-a"}
	files, err := l.Files()
	require.NoError(t, err)
	boot := files[len(files)-1]
	assert.Equal(t, openvpn.DefaultBootScript, boot.Path)
	assert.Equal(t, uint32(0o755), boot.Mode())
	s := string(boot.Data)
	for _, want := range []string{
		"#!/bin/sh\n",
		"sysctl -q -w net.ipv4.ip_forward=1",
		"ip tuntap add dev vtun0 mode tun",
		"--config /etc/planetstage/openvpn/vtun0.conf",
		"ip route replace 192.168.30.0/24 via 10.255.0.1 dev vtun0 onlink",
		"ip route replace 10.255.0.0/24 via 10.255.0.1 dev vtun0 onlink",
		"exit $fail\n",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "PRIVATE KEY")
	out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput()
	assert.NoError(t, err, "boot script must parse: %s", out)

	l.BootScript = "-"
	files, err = l.Files()
	require.NoError(t, err)
	for _, f := range files {
		assert.NotEqual(t, openvpn.DefaultBootScript, f.Path)
	}
}

// TestInspectBootScriptDrift checks, on this machine's file system, that a
// missing, different or non-executable boot script is drift. Inspect only
// reads, so running it locally is safe.
func TestInspectBootScriptDrift(t *testing.T) {
	t.Parallel()
	m := newModel(t, tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{})
	keys, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	cases := []struct {
		name  string
		data  string // "" leaves the file missing; "want" writes the right script
		mode  os.FileMode
		drift bool
	}{
		{"missing", "", 0, true},
		{"different", "#!/bin/sh\nexit 0\n", 0o755, true},
		{"not executable", "want", 0o644, true},
		{"as written", "want", 0o755, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			l := &openvpn.Linux{Model: m, Keys: keys, Site: "site-a", Dir: filepath.Join(dir, "etc"), RunDir: filepath.Join(dir, "run"),
				SysctlFile: "-", BootScript: filepath.Join(dir, "boot.d", "50-openvpn")}
			want, err := l.BootScriptData()
			require.NoError(t, err)
			if tc.data != "" {
				data := []byte(tc.data)
				if tc.data == "want" {
					data = want
				}
				require.NoError(t, os.MkdirAll(filepath.Dir(l.BootScript), 0o755))
				require.NoError(t, os.WriteFile(l.BootScript, data, tc.mode))
				require.NoError(t, os.Chmod(l.BootScript, tc.mode))
			}
			d, err := l.Inspect(t.Context(), &remote.Local{})
			require.NoError(t, err)
			if tc.drift {
				assert.Contains(t, d.Reasons, "write "+l.BootScript)
			} else {
				assert.NotContains(t, d.Reasons, "write "+l.BootScript)
			}
		})
	}
}
