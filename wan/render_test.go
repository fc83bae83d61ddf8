package wan

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), got)
}

// thesisEgress is router vyos01's side of the thesis mesh with a geo
// preset: towards Frankfurt (an exact link) and towards São Paulo (with
// jitter, fractional loss and a sub-millisecond delay).
func thesisEgress() []Egress {
	return []Egress{
		{Interface: "vtun0", Policy: "WAN-site-b", Shape: Shape{Delay: 70 * time.Millisecond, LossPct: 1}},
		{Interface: "vtun1", Policy: "WAN-site-c", Shape: Shape{Delay: 138500 * time.Microsecond, Jitter: 2 * time.Millisecond, LossPct: 0.5}},
		{Interface: "eth0.100", Policy: "WAN-idle", Shape: Shape{}},
	}
}

func TestVyOSNetemGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, file string }{
		{"1.2.1", "vyos-1.2.golden"},
		{"1.3", "vyos-1.3.golden"},
		{"1.4", "vyos-1.4.golden"},
		{"1.5-rolling-202411", "vyos-1.5.golden"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			s, err := VyOSNetem(tc.version, thesisEgress())
			require.NoError(t, err)
			golden(t, tc.file, s.String())
		})
	}
}

func TestVyOSNetemEthernetVif(t *testing.T) {
	t.Parallel()
	s, err := VyOSNetem("1.2", []Egress{{Interface: "eth0.100", Policy: "P", Shape: Shape{Delay: time.Millisecond}}})
	require.NoError(t, err)
	assert.Contains(t, s.Lines, "set interfaces ethernet eth0 vif 100 traffic-policy out P")
	s, err = VyOSNetem("1.4", []Egress{{Interface: "eth0.100", Policy: "P", Shape: Shape{Delay: time.Millisecond}}})
	require.NoError(t, err)
	assert.Contains(t, s.Lines, "set qos interface eth0.100 egress P")
}

func TestLinuxNetemGolden(t *testing.T) {
	t.Parallel()
	egress := thesisEgress()
	egress[0].Interface = "tun-site-b"
	egress[1].Interface = "tun-site-c"
	egress[2].Interface = "eth0"
	s, err := LinuxNetem(egress)
	require.NoError(t, err)
	assert.Empty(t, s.Notes, "tc expresses every shape")
	golden(t, "linux-tc.golden", s.String())
}

func TestNetemRejectsBadInput(t *testing.T) {
	t.Parallel()
	ok := Egress{Interface: "vtun0", Policy: "WAN", Shape: Shape{Delay: time.Millisecond}}
	for _, tc := range []struct {
		name    string
		version string
		egress  []Egress
		want    string
	}{
		{"unknown version", "2.0", []Egress{ok}, `vyos version "2.0"`},
		{"old version", "1.1.8", []Egress{ok}, `vyos version "1.1.8"`},
		{"bad interface", "1.2", []Egress{{Interface: "wg0", Policy: "P"}}, `egress[0] (interface "wg0"): want vtunN`},
		{"bad policy", "1.4", []Egress{{Interface: "vtun0", Policy: "has space"}}, `policy "has space"`},
		{"twice the interface", "1.4", []Egress{ok, ok}, `egress[1] (interface "vtun0"): interface has a policy already`},
		{"policy reused with another shape", "1.4", []Egress{ok, {Interface: "vtun1", Policy: "WAN"}}, `policy "WAN" is used with another shape`},
		{"bad shape", "1.2", []Egress{{Interface: "vtun0", Policy: "P", Shape: Shape{LossPct: -1}}}, `egress[0] (interface "vtun0"): loss -1%`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := VyOSNetem(tc.version, tc.egress)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := LinuxNetem([]Egress{{Interface: "name with space"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a Linux interface name")
}

func TestLinkSides(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rtt, a, b time.Duration
	}{
		{73 * time.Millisecond, 36 * time.Millisecond, 37 * time.Millisecond},
		{150 * time.Millisecond, 75 * time.Millisecond, 75 * time.Millisecond},
		{73400 * time.Microsecond, 36 * time.Millisecond, 37400 * time.Microsecond},
		{0, 0, 0},
	} {
		a, b := Link{RTT: tc.rtt, Jitter: time.Millisecond, LossPct: 2}.Sides()
		assert.Equal(t, tc.a, a.Delay, tc.rtt)
		assert.Equal(t, tc.b, b.Delay, tc.rtt)
		assert.Equal(t, tc.rtt, a.Delay+b.Delay)
		assert.Equal(t, time.Millisecond, a.Jitter)
		assert.InDelta(t, 2.0, b.LossPct, 0)
	}
}
