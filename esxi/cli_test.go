package esxi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/esxi/esxitest"
)

// TestStageCLIAgainstVcsim is the user's path end to end: two `vcsim -esx`
// processes stand in for the thesis's two hosts, `stage apply --layers
// esxi` builds the thesis on them, and govc — a client independent of the
// esxi package — checks port groups, VLANs, NIC backings and power; then a
// second apply changes nothing and destroy removes it all.
//
// It builds three binaries (about 45 s on a loaded 2-core machine with a
// cold build cache, a few seconds warm); -short skips it.
func TestStageCLIAgainstVcsim(t *testing.T) {
	if testing.Short() {
		t.Skip("builds govc, vcsim and stage; run without -short")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := t.TempDir()
	build := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin+string(filepath.Separator),
		"github.com/planetstage/planetstage/esxi/internal/govc",
		"github.com/planetstage/planetstage/esxi/internal/vcsim",
		"github.com/planetstage/planetstage/examples/stage")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	govcPath, vcsimPath, stagePath := filepath.Join(bin, "govc"), filepath.Join(bin, "vcsim"), filepath.Join(bin, "stage")

	// Two simulated hosts, each its own process.
	var hosts [2]struct{ url, user, pass, thumbprint string }
	for i := range hosts {
		u := startVcsim(ctx, t, vcsimPath)
		hosts[i].user = u.User.Username()
		hosts[i].pass, _ = u.User.Password()
		u.User = nil
		hosts[i].url = u.String()
		// The thumbprint, the way a user gets it.
		line := run(ctx, t, nil, govcPath, "about.cert", "-k", "-thumbprint", "-u", hosts[i].url)
		fields := strings.Fields(line)
		require.Len(t, fields, 2, line)
		hosts[i].thumbprint = fields[1]
	}
	require.Equal(t, hosts[0].user, hosts[1].user)

	data, err := os.ReadFile("../examples/thesis/thesis.yaml")
	require.NoError(t, err)
	topo := string(data)
	for i, real := range []string{"https://10.4.0.13/sdk", "https://10.4.0.14/sdk"} {
		require.Contains(t, topo, real)
		topo = strings.Replace(topo, `"`+real+`"`, `"`+hosts[i].url+`", thumbprint: "`+hosts[i].thumbprint+`"`, 1)
	}
	// The simulator's datastore, named in the file as an operator names
	// theirs; its uplinks (vmnic1) are the simulator's too.
	require.Contains(t, topo, "datastore: datastore1")
	topo = strings.ReplaceAll(topo, "datastore: datastore1", "datastore: LocalDS_0")
	// The key new VMs authorize: the file's (~/.ssh/id_ed25519) is not on a
	// test machine.
	require.Contains(t, topo, "identityFile: ~/.ssh/id_ed25519")
	topo = strings.Replace(topo, "identityFile: ~/.ssh/id_ed25519", "identityFile: "+esxitest.Identity(t), 1)
	dir := t.TempDir()
	file := filepath.Join(dir, "thesis.yaml")
	require.NoError(t, os.WriteFile(file, []byte(topo), 0o644))
	// Credentials the way govc users give them; the password is not in the file.
	env := []string{"GOVC_USERNAME=" + hosts[0].user, "GOVC_PASSWORD=" + hosts[0].pass}
	stage := func(args ...string) string {
		args = append(args, "-f", file, "--layers", "esxi", "--state", filepath.Join(dir, "state"))
		return run(ctx, t, env, stagePath, args...)
	}

	// No hypervisor reachable (nothing listens on port 1): plan says so and
	// plans creation.
	offline := strings.ReplaceAll(strings.ReplaceAll(topo, hosts[0].url, "https://127.0.0.1:1/sdk"), hosts[1].url, "https://127.0.0.1:1/sdk")
	offlineFile := filepath.Join(dir, "offline.yaml")
	require.NoError(t, os.WriteFile(offlineFile, []byte(offline), 0o644))
	planOut := run(ctx, t, env, stagePath, "plan", "-f", offlineFile, "--layers", "esxi", "--state", filepath.Join(dir, "offline-state"))
	assert.Contains(t, planOut, "hypervisor esxi1 unreachable")
	assert.Contains(t, planOut, "+ create    port group thesis-site-a on esxi1 (VLAN 10)")

	out1 := stage("apply", "--yes")
	assert.Contains(t, lastLine(out1), "apply: 18 created, 11 updated, 0 unchanged, 0 failed, 0 skipped in ")
	assert.NotContains(t, out1, hosts[0].pass)

	govc := func(host int, command string, args ...string) string {
		// Flags go before the arguments: govc stops parsing at the first.
		args = append([]string{command, "-u", hosts[host].url, "-k=false"}, args...)
		return run(ctx, t, []string{"GOVC_TLS_KNOWN_HOSTS=" + knownHosts(t, hosts[host].url, hosts[host].thumbprint),
			"GOVC_USERNAME=" + hosts[host].user, "GOVC_PASSWORD=" + hosts[host].pass}, govcPath, args...)
	}
	wantPGs := []map[string]int{
		{"thesis-underlay": 0, "thesis-site-a": 10},
		{"thesis-underlay": 0, "thesis-site-b": 20, "thesis-site-c": 30},
	}
	for i, want := range wantPGs {
		assert.Equal(t, want, govcPortGroups(t, govc(i, "host.portgroup.info", "-json")), "host %d port groups", i)
	}
	machines := []struct {
		host int
		name string
		nics []string
	}{
		{0, "vyos01", []string{"thesis-underlay", "thesis-site-a"}},
		{0, "lb", []string{"thesis-site-a"}},
		{0, "master01", []string{"thesis-site-a"}}, {0, "master02", []string{"thesis-site-a"}}, {0, "master03", []string{"thesis-site-a"}},
		{1, "vyos02", []string{"thesis-underlay", "thesis-site-b"}},
		{1, "node01", []string{"thesis-site-b"}}, {1, "node02", []string{"thesis-site-b"}},
		{1, "vyos03", []string{"thesis-underlay", "thesis-site-c"}},
		{1, "node03", []string{"thesis-site-c"}}, {1, "node04", []string{"thesis-site-c"}},
	}
	for _, m := range machines {
		assert.Equal(t, m.nics, govcNICs(t, govc(m.host, "device.info", "-json", "-vm", m.name, "ethernet-*")), m.name)
		info := govc(m.host, "vm.info", "-json", m.name)
		assert.Equal(t, "poweredOn", govcPower(t, info), m.name)
		assert.True(t, strings.HasPrefix(govcVMXPath(t, info), "[LocalDS_0] "), "%s on the file's datastore", m.name)
	}

	assert.Contains(t, lastLine(stage("apply", "--yes")), "apply: 0 created, 0 updated, 29 unchanged, 0 failed, 0 skipped")

	assert.Contains(t, lastLine(stage("destroy", "--yes")), "apply: 0 created, 0 updated, 18 deleted, 0 unchanged, 0 failed, 0 skipped")
	for i := range wantPGs {
		assert.Empty(t, govcPortGroups(t, govc(i, "host.portgroup.info", "-json")), "host %d", i)
	}
	for _, m := range machines {
		assert.Empty(t, strings.TrimSpace(govc(m.host, "vm.info", m.name)), m.name)
	}
}

// startVcsim runs the simulator as a process and returns its URL.
func startVcsim(ctx context.Context, t *testing.T, path string) *url.URL {
	t.Helper()
	cmd := exec.CommandContext(ctx, path, "-esx", "-vm", "0", "-l", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	// export GOVC_URL=https://user:pass@127.0.0.1:PORT/sdk GOVC_SIM_PID=N
	f := strings.Fields(line)
	require.GreaterOrEqual(t, len(f), 2, line)
	u, err := url.Parse(strings.TrimPrefix(f[1], "GOVC_URL="))
	require.NoError(t, err)
	return u
}

func run(ctx context.Context, t *testing.T, env []string, path string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", filepath.Base(path), strings.Join(args, " "), out)
	return string(out)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// knownHosts writes a govc known_hosts file pinning the host's thumbprint,
// so govc verifies TLS too instead of running with -k.
func knownHosts(t *testing.T, rawURL, thumbprint string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(p, []byte(u.Host+" "+thumbprint+"\n"), 0o600))
	return p
}

func govcPortGroups(t *testing.T, out string) map[string]int {
	t.Helper()
	var res struct {
		Portgroup []struct {
			Spec struct {
				Name        string `json:"name"`
				VlanID      int    `json:"vlanId"`
				VswitchName string `json:"vswitchName"`
			} `json:"spec"`
		} `json:"portgroup"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	got := map[string]int{}
	for _, pg := range res.Portgroup {
		if strings.HasPrefix(pg.Spec.Name, "thesis-") {
			assert.Equal(t, "vSwitch-thesis", pg.Spec.VswitchName)
			got[pg.Spec.Name] = pg.Spec.VlanID
		}
	}
	return got
}

func govcNICs(t *testing.T, out string) []string {
	t.Helper()
	var res struct {
		Devices []struct {
			Backing struct {
				DeviceName string `json:"deviceName"`
			} `json:"backing"`
		} `json:"devices"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	var pgs []string
	for _, d := range res.Devices {
		pgs = append(pgs, d.Backing.DeviceName)
	}
	return pgs
}

// govcVMXPath is the VM's configuration file as govc shows it:
// "[DATASTORE] NAME/NAME.vmx".
func govcVMXPath(t *testing.T, out string) string {
	t.Helper()
	var res struct {
		VirtualMachines []struct {
			Config struct {
				Files struct {
					VMPathName string `json:"vmPathName"`
				} `json:"files"`
			} `json:"config"`
		} `json:"virtualMachines"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Len(t, res.VirtualMachines, 1, out)
	return res.VirtualMachines[0].Config.Files.VMPathName
}

func govcPower(t *testing.T, out string) string {
	t.Helper()
	var res struct {
		VirtualMachines []struct {
			Runtime struct {
				PowerState string `json:"powerState"`
			} `json:"runtime"`
		} `json:"virtualMachines"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Len(t, res.VirtualMachines, 1, out)
	return res.VirtualMachines[0].Runtime.PowerState
}
