package lab

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/remote"
)

// needDocker skips when no Docker engine answers.
func needDocker(t testing.TB) *engine {
	t.Helper()
	d, err := newEngine()
	if err != nil {
		t.Skipf("lab tests need Docker: %v", err)
	}
	if _, err := d.ping(context.Background()); err != nil {
		t.Skipf("lab tests need a running Docker engine: %v", err)
	}
	return d
}

// twoSites is a small lab on prefixes of its own, so it can run next to the
// thesis example.
func twoSites(name string, n int) Spec {
	pfx := func(s string) netip.Prefix { return netip.MustParsePrefix(strings.ReplaceAll(s, "N", itoa(n))) }
	addr := func(s string) netip.Addr { return netip.MustParseAddr(strings.ReplaceAll(s, "N", itoa(n))) }
	return Spec{
		Name:     name,
		Underlay: pfx("10.2N.0.0/16"),
		Sites: []Site{
			{Name: "a", Prefix: pfx("172.2N.10.0/24"), Router: Router{Name: "r1", WAN: addr("10.2N.0.90"), LAN: addr("172.2N.10.1")},
				Hosts: []Host{{Name: "h1", Address: addr("172.2N.10.101")}}},
			{Name: "b", Prefix: pfx("172.2N.20.0/24"), Router: Router{Name: "r2", WAN: addr("10.2N.0.91"), LAN: addr("172.2N.20.1")},
				Hosts: []Host{{Name: "h2", Address: addr("172.2N.20.101")}}},
		},
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

func upLab(t *testing.T, spec Spec) *Lab {
	t.Helper()
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var events []Event
	l, err := UpSpec(ctx, spec, Options{StateDir: t.TempDir(), Progress: func(e Event) { events = append(events, e) }})
	if err != nil && strings.Contains(err.Error(), "mmdebstrap") && os.Geteuid() != 0 {
		t.Skipf("cannot build the node image: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		assert.NoError(t, l.Down(ctx))
	})
	for _, e := range events {
		if e.Done && e.Phase == PhaseImage {
			t.Logf("cold image build: %s", e.Elapsed.Round(time.Millisecond))
		}
	}
	return l
}

func TestUpNetworksRoutesAndMatrix(t *testing.T) {
	t.Parallel()
	l := upLab(t, twoSites("labtest-net", 1))
	ctx := context.Background()

	r1, err := l.Exec("r1")
	require.NoError(t, err)
	h1, err := l.Exec("h1")
	require.NoError(t, err)

	// Routers: eth0 on the underlay, eth1 on the site, no default route.
	out, err := remote.Output(ctx, r1, "ip -4 -o addr show dev eth0; ip -4 -o addr show dev eth1; ip route show default")
	require.NoError(t, err)
	assert.Contains(t, out, "eth0    inet 10.21.0.90/16")
	assert.Contains(t, out, "eth1    inet 172.21.10.1/24")
	assert.NotContains(t, out, "default")

	// Hosts: default route via their router, and no NET_ADMIN of their own.
	out, err = remote.Output(ctx, h1, "ip route show default")
	require.NoError(t, err)
	assert.Equal(t, "default via 172.21.10.1 dev eth0", strings.TrimSpace(out))
	err = h1.Run(ctx, remote.Cmd{Command: "ip link add dummy0 type dummy"})
	assert.Error(t, err, "a host must not hold NET_ADMIN")

	// The command line a person would type reaches the machine, with the
	// host key checked against the lab's known_hosts.
	argv, err := l.SSHCommand("h1", "hostname")
	require.NoError(t, err)
	if _, err := exec.LookPath(argv[0]); err == nil {
		hostname, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		require.NoError(t, err, "%v: %s", argv, hostname)
		assert.Equal(t, "h1", strings.TrimSpace(string(hostname)))
	}
	_, err = l.SSHCommand("nosuch")
	assert.ErrorContains(t, err, `no machine "nosuch"`)

	// Before any tunnel: only pairs within a site answer.
	before, err := l.Matrix(ctx)
	require.NoError(t, err)
	require.Len(t, before.Pairs, 4*3)
	for _, p := range before.Pairs {
		sameSite := l.machines[p.From].Site == l.machines[p.To].Site
		assert.Equal(t, sameSite, p.Reachable, "%s -> %s", p.From, p.To)
	}
	t.Logf("before:\n%s", before.Table())

	// Static routes between the routers stand in for tunnels here (the
	// routers layer's own tests bring real OpenVPN): all pairs answer.
	_, err = remote.Output(ctx, r1, "ip route add 172.21.20.0/24 via 10.21.0.91")
	require.NoError(t, err)
	r2, err := l.Exec("r2")
	require.NoError(t, err)
	_, err = remote.Output(ctx, r2, "ip route add 172.21.10.0/24 via 10.21.0.90")
	require.NoError(t, err)
	// Pings time out after a second: on a loaded machine a first echo
	// can miss that, so the matrix is taken again until it is full (or
	// half a minute passes, and the assertion below fails).
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	after, err := l.MatrixUntil(wait, func(m reach.Matrix) bool { return len(m.Unreachable()) == 0 })
	require.NoError(t, err)
	assert.Empty(t, after.Unreachable())
	p, ok := after.Pair("h1", "h2")
	require.True(t, ok)
	assert.Greater(t, p.RTT, time.Duration(0))
	t.Logf("after:\n%s", after.Table())

	// A stopped router breaks exactly the pairs that cross it.
	require.NoError(t, l.Stop(ctx, "r2"))
	broken, err := l.Matrix(ctx)
	require.NoError(t, err)
	for _, p := range broken.Pairs {
		crossesR2 := p.From == "r2" || p.To == "r2" || l.machines[p.From].Site != l.machines[p.To].Site
		assert.Equal(t, !crossesR2, p.Reachable, "%s -> %s", p.From, p.To)
	}
	require.NoError(t, l.Start(ctx, "r2"))
	out, err = remote.Output(ctx, r2, "ip route show default")
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(out), "a restarted router drops Docker's default route again")
	// Its route went with the restart...
	m, err := l.Matrix(ctx)
	require.NoError(t, err)
	p, _ = m.Pair("h1", "h2")
	assert.False(t, p.Reachable)

	// ...unless a boot hook brings it back, as the lab's init runs every
	// /etc/planetstage/boot.d script at start.
	require.NoError(t, r2.WriteFile(ctx, "/etc/planetstage/boot.d/10-route", []byte("#!/bin/sh\nip route replace 172.21.10.0/24 via 10.21.0.90\n"), 0o755))
	require.NoError(t, l.Stop(ctx, "r2"))
	require.NoError(t, l.Start(ctx, "r2"))
	m, err = l.Matrix(ctx)
	require.NoError(t, err)
	assert.Empty(t, m.Unreachable(), "after a restart with a boot hook:\n%s", m.Table())
}

func TestSSHVerifiesHostKeys(t *testing.T) {
	t.Parallel()
	l := upLab(t, twoSites("labtest-ssh", 2))
	keyPEM, err := os.ReadFile(l.IdentityFile())
	require.NoError(t, err)
	fi, err := os.Stat(l.IdentityFile())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	signer, err := ssh.ParsePrivateKey(keyPEM)
	require.NoError(t, err)
	check, err := knownhosts.New(l.KnownHostsFile())
	require.NoError(t, err)

	for _, m := range l.Machines() {
		cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: check, Timeout: 5 * time.Second}
		c, err := ssh.Dial("tcp", net.JoinHostPort(m.Address.String(), "22"), cfg)
		require.NoError(t, err, m.Name)
		s, err := c.NewSession()
		require.NoError(t, err)
		out, err := s.Output("hostname")
		require.NoError(t, err)
		assert.Equal(t, m.Name, strings.TrimSpace(string(out)))
		require.NoError(t, c.Close())
	}

	// Dial is remote.SSH with the same known_hosts.
	for _, name := range []string{"r1", "h2"} {
		r, err := l.Dial(context.Background(), name)
		require.NoError(t, err)
		out, err := remote.Output(context.Background(), r, "hostname")
		require.NoError(t, err)
		assert.Equal(t, name, strings.TrimSpace(out))
	}
	_, err = l.Dial(context.Background(), "nobody")
	assert.ErrorContains(t, err, `no machine "nobody"`)

	// Another machine's key under this address must be refused.
	wrong, err := knownhosts.New(writeTemp(t, knownhostsLineFor(t, l, "h2", "172.22.10.101")))
	require.NoError(t, err)
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: wrong, Timeout: 5 * time.Second}
	_, err = ssh.Dial("tcp", "172.22.10.101:22", cfg)
	require.Error(t, err)
	var keyErr *knownhosts.KeyError
	assert.ErrorAs(t, err, &keyErr)
}

func knownhostsLineFor(t *testing.T, l *Lab, machine, addr string) string {
	_, pub, err := l.keys.hostKey(machine)
	require.NoError(t, err)
	return knownhosts.Line([]string{addr}, pub) + "\n"
}

func writeTemp(t *testing.T, content string) string {
	f := t.TempDir() + "/known_hosts"
	require.NoError(t, os.WriteFile(f, []byte(content), 0o644))
	return f
}
