package stagecli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
)

// geoTopology is a small topology with latency from city locations, on
// prefixes no other test uses.
const geoTopology = `apiVersion: planetstage.io/v1alpha1
kind: Topology
name: stagetest-geo
underlay: {prefix: 10.29.0.0/16}
sites:
- name: tokyo
  vlan: 10
  prefix: 172.29.10.0/24
  location: {city: Tokyo}
  router: {name: r1, kind: linux, wan: 10.29.0.90, lan: 172.29.10.1}
- name: frankfurt
  vlan: 20
  prefix: 172.29.20.0/24
  location: {city: Frankfurt}
  router: {name: r2, kind: linux, wan: 10.29.0.91, lan: 172.29.20.1}
vpn: {mode: mesh, auth: tls, transit: 10.255.0.0/16, port: 1194}
`

// The whole command line path of issue 8: apply --lab places the relay (a
// process of its own), verify --lab --measure --json adds "sites" and
// "tunnels", destroy --lab stops the relay.
func TestVerifyMeasureInLab(t *testing.T) {
	if !slices.Contains(layer.Names(), "routers") {
		t.Skip("the routers layer is not in this build")
	}
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "geo.yaml")
	require.NoError(t, os.WriteFile(file, []byte(geoTopology), 0o600))
	flags := []string{"-f", file, "--state", filepath.Join(dir, "state"), "--lab-state", filepath.Join(dir, "lab"), "--lab"}
	t.Cleanup(func() { stage(t, append([]string{"destroy"}, flags...)...) })

	code, out, errOut := stage(t, append([]string{"apply"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Starting the WAN relay on 10.29.255.254:40000-40001")
	require.True(t, relayRuns(t, file, filepath.Join(dir, "lab")), "the relay outlives the apply")

	// stage ssh reaches a machine of the lab, and passes its exit status on.
	sshFlags := []string{"ssh", "-f", file, "--lab-state", filepath.Join(dir, "lab"), "--lab"}
	code, out, errOut = stage(t, append(sshFlags, "r2", "hostname")...)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "r2", strings.TrimSpace(out))
	code, _, _ = stage(t, append(sshFlags, "r2", "exit 3")...)
	assert.Equal(t, 3, code, "the remote command's status")

	code, out, errOut = stage(t, append([]string{"inspect", "--json"}, flags...)...)
	require.Equal(t, 0, code, errOut)
	var inv struct {
		Machines []struct {
			Container string `json:"container"`
		} `json:"machines"`
		Relay struct {
			Running   bool   `json:"running"`
			Bind      string `json:"bind"`
			FirstPort int    `json:"firstPort"`
			LastPort  int    `json:"lastPort"`
		} `json:"relay"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &inv))
	assert.True(t, inv.Relay.Running, "inspect finds the relay process another command started")
	assert.Equal(t, "10.29.255.254", inv.Relay.Bind)
	assert.Equal(t, [2]int{40000, 40001}, [2]int{inv.Relay.FirstPort, inv.Relay.LastPort})
	require.Len(t, inv.Machines, 2)
	for _, m := range inv.Machines {
		assert.Equal(t, "running", m.Container)
	}

	var rep struct {
		Hosts []struct {
			From, To  string
			Reachable bool
		} `json:"hosts"`
		Sites []struct {
			From       string  `json:"from"`
			To         string  `json:"to"`
			TargetMs   float64 `json:"targetMs"`
			MeasuredMs float64 `json:"measuredMs"`
			ErrorPct   float64 `json:"errorPct"`
		} `json:"sites"`
		Tunnels []struct {
			From         string  `json:"from"`
			To           string  `json:"to"`
			TunnelMbps   float64 `json:"tunnelMbps"`
			DirectMbps   float64 `json:"directMbps"`
			RouterCPUPct float64 `json:"routerCPUPct"`
		} `json:"tunnels"`
	}
	// The tunnel may still be shaking hands; verify exits 1 until it is up.
	for range 20 {
		code, out, errOut = stage(t, append([]string{"verify", "--measure", "--pings", "10", "--throughput", "1s", "--json"}, flags...)...)
		if code == 0 {
			break
		}
	}
	require.Equal(t, 0, code, out+errOut)
	// As in lab's TestLabPlacesWANRelay: with the whole suite on 2 cores,
	// CPU wake-up delays have added 10 ms to a median, so a measurement off
	// by more than 5 % is taken again, up to three times in all.
	for attempt := 1; ; attempt++ {
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		require.Len(t, rep.Sites, 1)
		s := rep.Sites[0]
		t.Logf("attempt %d: %s-%s target %.2f ms, measured %.2f ms (%+.2f %%)", attempt, s.From, s.To, s.TargetMs, s.MeasuredMs, s.ErrorPct)
		if abs(s.ErrorPct) <= 5 || attempt == 3 {
			break
		}
		code, out, errOut = stage(t, append([]string{"verify", "--measure", "--pings", "10", "--throughput", "1s", "--json"}, flags...)...)
		require.Equal(t, 0, code, out+errOut)
	}
	assert.Len(t, rep.Hosts, 2)
	s := rep.Sites[0]
	assert.Equal(t, [2]string{"tokyo", "frankfurt"}, [2]string{s.From, s.To})
	assert.InDelta(t, 140, s.TargetMs, 2, "Tokyo–Frankfurt: 9 330 km, inflated 1.5, at 200 000 km/s")
	assert.LessOrEqual(t, abs(s.ErrorPct), 5.0, "measured %.2f ms", s.MeasuredMs)
	require.Len(t, rep.Tunnels, 1, "the lab image has iperf3")
	assert.Positive(t, rep.Tunnels[0].TunnelMbps)
	assert.Positive(t, rep.Tunnels[0].DirectMbps)
	assert.Positive(t, rep.Tunnels[0].RouterCPUPct)
	assert.NotContains(t, out, "tunnelsSkipped")

	// A machine down: verify fails, and says why on stderr even in JSON
	// mode, where stdout is for the matrix.
	topo, err := topology.Load(file)
	require.NoError(t, err)
	l, err := lab.Attach(t.Context(), topo, lab.Options{StateDir: filepath.Join(dir, "lab")})
	require.NoError(t, err)
	require.NoError(t, l.Stop(t.Context(), "r2"))
	code, out, errOut = stage(t, append([]string{"verify", "--json"}, flags...)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "2 of 2 pairs unreachable: r1→r2, r2→r1")
	assert.Contains(t, out, `"hosts"`, "the matrix is still printed")

	code, out, errOut = stage(t, append([]string{"destroy"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.False(t, relayRuns(t, file, filepath.Join(dir, "lab")), "destroy stops the relay")
	assert.False(t, strings.Contains(out, "✗"))
}

// relayRuns reports whether the WAN relay process of the lab of file runs.
func relayRuns(t *testing.T, file, labState string) bool {
	t.Helper()
	topo, err := topology.Load(file)
	require.NoError(t, err)
	l, err := lab.Attach(t.Context(), topo, lab.Options{StateDir: labState})
	if err != nil {
		return false // no lab, no relay
	}
	return l.RelayRunning()
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
