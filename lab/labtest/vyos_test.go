package labtest_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/labtest"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/vyos"
)

// mixed has a router of every VyOS version and a Linux one, meshed with
// TLS: 1.2/1.3 with certificate files, 1.4/1.5 with pki and pinned
// fingerprints, Linux with openvpn.conf.
const mixed = `apiVersion: planetstage.io/v1alpha1
kind: Topology
name: vyt
underlay: {prefix: 10.40.0.0/16}
sites:
- {name: s12, vlan: 10, prefix: 172.40.10.0/24, router: {name: vyt12, kind: vyos, version: "1.2", wan: 10.40.0.90, lan: 172.40.10.1}, hosts: [{name: h12, address: 172.40.10.101, role: generic}]}
- {name: s13, vlan: 20, prefix: 172.40.20.0/24, router: {name: vyt13, kind: vyos, version: "1.3", wan: 10.40.0.91, lan: 172.40.20.1}, hosts: [{name: h13, address: 172.40.20.101, role: generic}]}
- {name: s14, vlan: 30, prefix: 172.40.30.0/24, router: {name: vyt14, kind: vyos, version: "1.4", wan: 10.40.0.92, lan: 172.40.30.1}, hosts: [{name: h14, address: 172.40.30.101, role: generic}]}
- {name: s15, vlan: 40, prefix: 172.40.40.0/24, router: {name: vyt15, kind: vyos, version: "1.5", wan: 10.40.0.93, lan: 172.40.40.1}, hosts: [{name: h15, address: 172.40.40.101, role: generic}]}
- {name: sl, vlan: 50, prefix: 172.40.50.0/24, router: {name: vytl, kind: linux, wan: 10.40.0.94, lan: 172.40.50.1}, hosts: [{name: hl, address: 172.40.50.101, role: generic}]}
vpn: {mode: mesh, auth: tls, transit: 10.255.0.0/16, port: 1194}
`

// Routers of kind vyos run in the VyOS stand-in, configured by package
// vyos over SSH; with a Linux router beside them, every machine reaches
// every other, a second apply changes nothing, a router that restarts
// comes back with its saved configuration, and what package vyos reads
// back over SSH is what it committed.
func TestVyOSStandinRouters(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab of 10 containers")
	}
	if os.Getenv(lab.EnvVyOSImage) != "" {
		t.Skipf("%s is set: routers of kind vyos run that image, not the stand-in (lab's TestRealVyOS)", lab.EnvVyOSImage)
	}
	topo, err := topology.Parse("vyt.yaml", []byte(mixed))
	require.NoError(t, err)
	l := labtest.Up(t, topo, lab.Options{})
	ctx := t.Context()

	notes := strings.Join(l.Notes(), "\n")
	assert.Contains(t, notes, "router vyt12 (VyOS 1.2) runs in the VyOS stand-in, not VyOS")
	assert.NotContains(t, notes, "runs as a Linux router")
	var kinds []string
	for _, r := range l.Routers() {
		kinds = append(kinds, r.String())
	}
	assert.Equal(t, []string{"vyt12: VyOS 1.2 stand-in (not VyOS)", "vyt13: VyOS 1.3 stand-in (not VyOS)",
		"vyt14: VyOS 1.4 stand-in (not VyOS)", "vyt15: VyOS 1.5 stand-in (not VyOS)", "vytl: Linux"}, kinds)

	m, err := l.Matrix(ctx)
	require.NoError(t, err)
	assert.Empty(t, m.Unreachable(), "every pair through the tunnels:\n%s", m.Table())

	res, err := l.Apply(ctx, lab.ApplyOptions{})
	require.NoError(t, err)
	for _, s := range res.Steps {
		assert.Equal(t, plan.NoOp, s.Action, "second apply changed %s: %s", s.ID, s.Reason)
	}

	// A router that crashes comes back with what it saved: the stand-in
	// loads /config/config.boot at boot, as VyOS does.
	require.NoError(t, l.Kill(ctx, "vyt13"))
	require.NoError(t, l.Start(ctx, "vyt13"))
	h12, err := l.Exec("h12")
	require.NoError(t, err)
	assert.Eventually(t, func() bool {
		_, err := remote.Output(ctx, h12, "ping -c1 -W1 172.40.20.101")
		return err == nil
	}, 2*time.Minute, time.Second, "site s13 is not reachable again after its router restarted")

	for _, name := range []string{"vyt12", "vyt13", "vyt14", "vyt15"} {
		r, err := l.Dial(ctx, name)
		require.NoError(t, err)
		running, err := vyos.Running(ctx, r)
		require.NoError(t, err)
		var lines []string
		var key string
		for _, c := range running {
			lines = append(lines, c.Redacted()) // what a failure prints
			if c.IsSecret() {
				key = c.Path[len(c.Path)-1]
			}
		}
		read := strings.Join(lines, "\n")
		// Four tunnels each (their numbers are the mesh's), four routes.
		assert.Len(t, regexp.MustCompile(`(?m)^set interfaces openvpn vtun[0-9]+ mode site-to-site$`).FindAllString(read, -1), 4, "%s:\n%s", name, read)
		assert.Len(t, regexp.MustCompile(`(?m)^set protocols static .*vtun[0-9]+$`).FindAllString(read, -1), 4, "%s:\n%s", name, read)
		version, err := remote.Output(ctx, r, "/bin/vbash -s <<'EOF'\nrun show version\nEOF")
		require.NoError(t, err)
		assert.Contains(t, version, "stand-in", name)
		// The daemons run, one per tunnel, and the kernel has the routes.
		procs, err := remote.Output(ctx, r, "ps -eo args | grep -c '^openvpn --config /run/openvpn/vtun' || true")
		require.NoError(t, err)
		assert.Equal(t, "4", strings.TrimSpace(procs), "%s: one openvpn per tunnel", name)
		routes, err := remote.Output(ctx, r, "ip route show")
		require.NoError(t, err)
		assert.Len(t, regexp.MustCompile(`(?m)^172\.40\.[0-9]+\.0/24 dev vtun[0-9]+ `).FindAllString(routes, -1), 4, "%s: the static routes in the kernel:\n%s", name, routes)
		// Keys stay out of the stand-in's log.
		log, err := remote.Output(ctx, r, "cat /var/log/vyos-standin/vbash.log")
		require.NoError(t, err)
		assert.Contains(t, log, "committed", name)
		if key != "" {
			assert.NotContains(t, log, key[:40], "%s: a key in the stand-in's log", name)
		}
	}
}
