package wan

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tc outputs below follow iproute2's netem print format in its two
// generations (6.x prints "70ms", older versions "70.0ms"); this kernel
// has no netem, so they cannot be produced here.
func TestParseNetem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		out   string
		shape Shape
		netem bool
	}{
		{"qdisc netem 8001: root refcnt 2 limit 1000 delay 70ms  2ms loss 1%\n", Shape{Delay: 70 * time.Millisecond, Jitter: 2 * time.Millisecond, LossPct: 1}, true},
		{"qdisc netem 8001: root refcnt 2 limit 1000 delay 138.5ms\n", Shape{Delay: 138500 * time.Microsecond}, true},
		{"qdisc netem 8002: root refcnt 2 limit 1000 delay 100.0ms  10.0ms loss random 0.5%\n", Shape{Delay: 100 * time.Millisecond, Jitter: 10 * time.Millisecond, LossPct: 0.5}, true},
		{"qdisc netem 8003: root refcnt 2 limit 1000 delay 500us\n", Shape{Delay: 500 * time.Microsecond}, true},
		{"qdisc fq_codel 0: root refcnt 2 limit 10240p flows 1024\n", Shape{}, false},
		{"qdisc noqueue 0: root refcnt 2\n", Shape{}, false},
		{"", Shape{}, false},
	} {
		s, ok := parseNetem(tc.out)
		assert.Equal(t, tc.netem, ok, tc.out)
		assert.Equal(t, tc.shape, s, tc.out)
	}
}

func TestInspectAndApplyLinuxNetem(t *testing.T) {
	t.Parallel()
	r := &fakeRunner{outputs: map[string]string{
		"tc qdisc show dev tun0 root": "qdisc netem 8001: root refcnt 2 limit 1000 delay 70.0ms loss 1%\n",
		"tc qdisc show dev tun1 root": "qdisc netem 8002: root refcnt 2 limit 1000 delay 60ms\n",
		"tc qdisc show dev tun2 root": "qdisc fq_codel 0: root refcnt 2 limit 10240p\n",
		"tc qdisc show dev tun3 root": "qdisc netem 8003: root refcnt 2 limit 1000 delay 5ms\n",
		"tc qdisc show dev tun4 root": "qdisc noqueue 0: root refcnt 2\n",
	}}
	want := []Egress{
		{Interface: "tun0", Shape: Shape{Delay: 70 * time.Millisecond, LossPct: 1}}, // as it is
		{Interface: "tun1", Shape: Shape{Delay: 70 * time.Millisecond}},             // other delay
		{Interface: "tun2", Shape: Shape{Delay: 10 * time.Millisecond}},             // no netem yet
		{Interface: "tun3"}, // netem to remove
		{Interface: "tun4"}, // nothing, as wanted
	}
	change, reasons, err := InspectLinuxNetem(t.Context(), r, want)
	require.NoError(t, err)
	assert.Equal(t, []Egress{want[1], want[2], want[3]}, change)
	assert.Equal(t, []string{
		"tun1: netem delay 60ms -> delay 70ms",
		"tun2: add netem delay 10ms",
		"tun3: remove netem (delay 5ms)",
	}, reasons)

	require.NoError(t, ApplyLinuxNetem(t.Context(), r, change))
	assert.Equal(t, []string{
		"tc qdisc replace dev tun1 root netem delay 70ms",
		"tc qdisc replace dev tun2 root netem delay 10ms",
		"tc qdisc del dev tun3 root 2>/dev/null || true",
	}, r.commands[len(r.commands)-3:])

	_, _, err = InspectLinuxNetem(t.Context(), r, []Egress{{Interface: "bad name"}})
	assert.ErrorContains(t, err, "not a Linux interface name")
}

// TestApplyLinuxNetemReal applies through the real tc in a network
// namespace: removing netem where there is none succeeds, and adding it
// fails here only because this kernel has no netem qdisc, with tc's own
// words in the error.
func TestApplyLinuxNetemReal(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	for _, bin := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (apt package iproute2)", bin)
		}
	}
	ns := "pswtc" + itoa(os.Getpid())
	require.NoError(t, exec.Command("ip", "netns", "add", ns).Run())
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	out, err := exec.Command("ip", "-n", ns, "tuntap", "add", "dev", "tun0", "mode", "tun").CombinedOutput()
	require.NoError(t, err, "%s", out)
	r := &netnsRunner{ns: ns}

	change, reasons, err := InspectLinuxNetem(t.Context(), r, []Egress{{Interface: "tun0", Shape: Shape{Delay: 70 * time.Millisecond}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"tun0: add netem delay 70ms"}, reasons)
	require.NoError(t, ApplyLinuxNetem(t.Context(), r, []Egress{{Interface: "tun0"}}), "removing what is not there is fine")
	err = ApplyLinuxNetem(t.Context(), r, change)
	if err == nil {
		got, _, err := InspectLinuxNetem(t.Context(), r, change)
		require.NoError(t, err)
		assert.Empty(t, got, "a kernel with netem: the second inspect finds nothing to do")
		return
	}
	assert.Contains(t, err.Error(), "Specified qdisc kind is unknown")
	assert.Contains(t, err.Error(), "netem on tun0: the kernel has no netem qdisc (load sch_netem")
}

func itoa(i int) string { return strconv.Itoa(i) }
