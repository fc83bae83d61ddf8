package wan

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runTCInNetns runs line in a new, empty network namespace that holds one
// tun device named iface, and returns tc's combined output and error. The
// host's interfaces are never touched.
func runTCInNetns(t *testing.T, iface, line string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	script := "set -e; ip tuntap add dev " + iface + " mode tun; ip link set " + iface + " up; " + line
	out, err := exec.CommandContext(ctx, "unshare", "--net", "sh", "-c", script).CombinedOutput()
	return string(out), err
}

// TestLinuxNetemParsesWithRealTC feeds the rendered commands to the real
// tc. This kernel has no netem qdisc, so tc parses the netem options (and
// rejects bad ones itself, with exit status 1) and then the kernel answers
// "Specified qdisc kind is unknown" (exit status 2). Either that or success
// (a kernel with netem) proves the syntax; anything else fails.
func TestLinuxNetemParsesWithRealTC(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace (unshare --net)")
	}
	for _, bin := range []string{"unshare", "ip", "tc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (apt packages util-linux, iproute2)", bin)
		}
	}
	probe, err := runTCInNetns(t, "probe0", "true")
	if err != nil {
		t.Skipf("cannot make a network namespace with a tun device here: %v: %s", err, probe)
	}

	egress := thesisEgress()
	egress[0].Interface = "tun-site-b"
	egress[1].Interface = "tun-site-c"
	s, err := LinuxNetem(egress)
	require.NoError(t, err)
	require.Len(t, s.Lines, 2)
	for _, line := range s.Lines {
		iface := strings.Fields(line)[4]
		out, err := runTCInNetns(t, iface, line)
		if err == nil {
			continue // a kernel with netem took it
		}
		assert.Contains(t, out, "Specified qdisc kind is unknown", "%s: tc refused the syntax: %s", line, out)
	}

	// The control: a malformed delay must fail in tc's parser, not in the
	// kernel, or the check above proves nothing.
	out, err := runTCInNetns(t, "bad0", "tc qdisc replace dev bad0 root netem delay 25xs")
	require.Error(t, err)
	assert.NotContains(t, out, "Specified qdisc kind is unknown")
	assert.Contains(t, out, "Illegal")
}
