package wan

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
)

// fakeRunner is a stand-in remote.Runner for parser and sequencing tests:
// it records commands and answers them from canned outputs. The real
// commands run in the *Real tests below.
type fakeRunner struct {
	mu       sync.Mutex
	commands []string
	outputs  map[string]string // by command prefix
	files    map[string]string
	failWith map[string]error
}

func (f *fakeRunner) Run(_ context.Context, cmd remote.Cmd) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands = append(f.commands, cmd.Command)
	for prefix, out := range f.outputs {
		if strings.HasPrefix(cmd.Command, prefix) && cmd.Stdout != nil {
			_, _ = io.WriteString(cmd.Stdout, out)
		}
	}
	for prefix, err := range f.failWith {
		if strings.HasPrefix(cmd.Command, prefix) {
			return err
		}
	}
	return nil
}

func (f *fakeRunner) WriteFile(context.Context, string, []byte, fs.FileMode) error { return nil }

func (f *fakeRunner) ReadFile(_ context.Context, path string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.files[path]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(s), nil
}

func (f *fakeRunner) Host() string { return "fake" }

const pingOutput = `PING 10.255.0.2 (10.255.0.2) 56(84) bytes of data.
64 bytes from 10.255.0.2: icmp_seq=1 ttl=64 time=61.2 ms
64 bytes from 10.255.0.2: icmp_seq=2 ttl=64 time=60.4 ms
64 bytes from 10.255.0.2: icmp_seq=4 ttl=64 time=60.8 ms
64 bytes from 10.255.0.2: icmp_seq=5 ttl=64 time=75.0 ms

--- 10.255.0.2 ping statistics ---
5 packets transmitted, 4 received, 20% packet loss, time 803ms
rtt min/avg/max/mdev = 60.4/64.35/75.0/6.1 ms
`

func TestPingParsesReplies(t *testing.T) {
	t.Parallel()
	r := &fakeRunner{outputs: map[string]string{"LC_ALL=C ping": pingOutput}, failWith: map[string]error{"LC_ALL=C ping": &remote.ExitError{Status: 1}}}
	s, err := Ping(t.Context(), r, netip.MustParseAddr("10.255.0.2"), 5, 200*time.Millisecond)
	require.NoError(t, err, "lost replies are in the sample, not an error")
	assert.Equal(t, []string{"LC_ALL=C ping -n -c 5 -i 0.2 -W 2 10.255.0.2"}, r.commands)
	assert.Equal(t, RTTSample{Sent: 5, Received: 4, Median: 61 * time.Millisecond, Min: 60400 * time.Microsecond, Max: 75 * time.Millisecond}, s)

	r = &fakeRunner{outputs: map[string]string{"LC_ALL=C ping": "5 packets transmitted, 0 received, 100% packet loss\n"}}
	_, err = Ping(t.Context(), r, netip.MustParseAddr("10.255.0.2"), 5, time.Second)
	assert.ErrorContains(t, err, "ping 10.255.0.2 from fake: no replies")
	_, err = Ping(t.Context(), r, netip.MustParseAddr("10.255.0.2"), 0, time.Second)
	assert.ErrorContains(t, err, "count 0")
}

func TestNewSiteResult(t *testing.T) {
	t.Parallel()
	assert.Equal(t, SiteResult{From: "a", To: "b", TargetMs: 140, MeasuredMs: 142.8, ErrorPct: 2}, NewSiteResult("a", "b", 140*time.Millisecond, 142800*time.Microsecond))
	assert.Equal(t, SiteResult{From: "a", To: "b", MeasuredMs: 0.07}, NewSiteResult("a", "b", 0, 70*time.Microsecond), "no target, no error")
}

func TestTCPThroughputParsesIperf(t *testing.T) {
	t.Parallel()
	server := &fakeRunner{outputs: map[string]string{"setsid iperf3": "4242\n"}}
	client := &fakeRunner{outputs: map[string]string{"iperf3 -c": `{"end": {"sum_received": {"bits_per_second": 94123456.7}}}`}}
	mbps, err := TCPThroughput(t.Context(), server, client, netip.MustParseAddr("10.255.0.2"), 5201, 3*time.Second)
	require.NoError(t, err)
	assert.InDelta(t, 94.12, mbps, 0.001)
	assert.Equal(t, []string{
		"setsid iperf3 -s -1 -p 5201 --idle-timeout 60 </dev/null >/dev/null 2>&1 & echo $!",
		"kill 4242 2>/dev/null || true",
	}, server.commands, "the server must be stopped by its pid")
	assert.Equal(t, []string{"iperf3 -c 10.255.0.2 -p 5201 -t 3 -J --connect-timeout 5000"}, client.commands)

	server = &fakeRunner{outputs: map[string]string{"setsid iperf3": "4243\n"}}
	client = &fakeRunner{outputs: map[string]string{"iperf3 -c": `{"error": "unable to connect to server: No route to host"}`}, failWith: map[string]error{"iperf3 -c": &remote.ExitError{Status: 1}}}
	_, err = TCPThroughput(t.Context(), server, client, netip.MustParseAddr("10.255.0.2"), 5201, time.Second)
	assert.ErrorContains(t, err, "No route to host")
	assert.Contains(t, server.commands, "kill 4243 2>/dev/null || true", "a failed run must stop the server too")
	assert.Len(t, client.commands, 1, "only a refused connection is retried")

	// iperf3 -J exits 0 even when it could not connect; a refused
	// connection is retried while the server comes up.
	server = &fakeRunner{outputs: map[string]string{"setsid iperf3": "4244\n"}}
	client = &fakeRunner{outputs: map[string]string{"iperf3 -c": `{"error": "unable to connect to server: Connection refused"}`}}
	_, err = TCPThroughput(t.Context(), server, client, netip.MustParseAddr("10.255.0.2"), 5201, time.Second)
	assert.ErrorContains(t, err, "Connection refused")
	assert.Len(t, client.commands, 10)
}

func TestCPUParsers(t *testing.T) {
	t.Parallel()
	d, err := parseProcStat("cpu  100 5 50 9000 20 1 2 3 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
	require.NoError(t, err)
	assert.Equal(t, 1610*time.Millisecond, d, "(100+5+50+1+2+3) ticks of 10 ms")
	_, err = parseProcStat("intr 1 2 3\n")
	assert.Error(t, err)

	d, err = parseCgroupCPU("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
	require.NoError(t, err)
	assert.Equal(t, 1500*time.Millisecond, d)
	d, err = parseCgroupCPU("2500000000\n")
	require.NoError(t, err)
	assert.Equal(t, 2500*time.Millisecond, d)
	_, err = parseCgroupCPU("nr_periods 0\n")
	assert.Error(t, err)

	d, err = parsePidStat("1234 (open vpn (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 1 0 123 0 0\n")
	require.NoError(t, err)
	assert.Equal(t, 3800*time.Millisecond, d, "(250+130) ticks of 10 ms")
	_, err = parsePidStat("1234 (x) S 1\n")
	assert.Error(t, err)
}

func TestCPUPercent(t *testing.T) {
	t.Parallel()
	// Fake counters of machines that are busy half and all of the wall
	// time, whatever the wall time turns out to be on a busy machine.
	base := time.Now()
	half := func(context.Context) (time.Duration, error) { return time.Since(base) / 2, nil }
	full := func(context.Context) (time.Duration, error) { return time.Since(base), nil }
	pct, err := CPUPercent(t.Context(), func() error { time.Sleep(100 * time.Millisecond); return nil }, half, full)
	require.NoError(t, err)
	require.Len(t, pct, 2)
	assert.InDelta(t, 50, pct[0], 5)
	assert.InDelta(t, 100, pct[1], 10)

	failing := func(context.Context) (time.Duration, error) { return 0, errors.New("no /proc") }
	_, err = CPUPercent(t.Context(), func() error { return nil }, failing)
	assert.ErrorContains(t, err, "no /proc")
	_, err = CPUPercent(t.Context(), func() error { return errors.New("iperf3 failed") }, half)
	assert.ErrorContains(t, err, "iperf3 failed")
}

// TestCPUCountersReal reads this machine's real counters while a goroutine
// burns a core.
func TestCPUCountersReal(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc/stat")
	}
	dir := t.TempDir()
	v2 := filepath.Join(dir, "cpu.stat")
	require.NoError(t, os.WriteFile(v2, []byte("usage_usec 42\n"), 0o600))
	d, err := CgroupCPU(&remote.Local{}, v2)(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 42*time.Microsecond, d)

	// Burn 200 ms of this process's CPU time (however long that takes on
	// a busy machine); both counters must see at least most of it.
	counters := []CPUCounter{ProcStatCPU(&remote.Local{}), ProcessCPU(&remote.Local{}, os.Getpid())}
	var before []time.Duration
	for _, c := range counters {
		d, err := c(t.Context())
		require.NoError(t, err)
		before = append(before, d)
	}
	start := processCPU(t)
	for deadline := time.Now().Add(20 * time.Second); processCPU(t)-start < 200*time.Millisecond && time.Now().Before(deadline); {
	}
	for i, c := range counters {
		after, err := c(t.Context())
		require.NoError(t, err)
		assert.GreaterOrEqual(t, after-before[i], 150*time.Millisecond, "counter %d missed a busy loop", i)
	}
}

func TestCgroupCPUFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, procCgroup string
		want             []string
	}{
		{"docker cgroupfs v1", "4:memory:/docker/abc\n2:cpuacct:/docker/abc\n1:cpu:/docker/abc\n0::/\n",
			[]string{"/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage", "/sys/fs/cgroup/cpu.stat"}},
		{"combined cpu,cpuacct", "3:cpu,cpuacct:/docker/abc\n",
			[]string{"/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage", "/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage"}},
		{"systemd v2", "0::/system.slice/docker-abc.scope\n",
			[]string{"/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat"}},
		{"nothing", "1:name=systemd:/\n", nil},
	} {
		assert.Equal(t, tc.want, cgroupCPUFiles(tc.procCgroup), tc.name)
	}
	r := &fakeRunner{files: map[string]string{
		"/proc/42/cgroup": "2:cpuacct:/docker/abc\n",
		"/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage": "1500000000\n",
	}}
	d, err := PIDCgroupCPU(r, 42)(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1500*time.Millisecond, d)
	_, err = PIDCgroupCPU(r, 43)(t.Context())
	assert.ErrorContains(t, err, "cgroup of process 43 on fake")
}

// TestPIDCgroupCPUReal counts this process's own cgroup on this machine.
func TestPIDCgroupCPUReal(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	d, err := PIDCgroupCPU(&remote.Local{}, os.Getpid())(t.Context())
	require.NoError(t, err)
	assert.Positive(t, d)
}

func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestPingReal(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("needs ping (apt package iputils-ping)")
	}
	s, err := Ping(t.Context(), &remote.Local{}, netip.MustParseAddr("127.0.0.1"), 3, 200*time.Millisecond)
	if err != nil && strings.Contains(err.Error(), "Operation not permitted") {
		t.Skipf("ping not permitted here: %v", err)
	}
	require.NoError(t, err)
	assert.Equal(t, 3, s.Received)
	assert.Positive(t, s.Median)
	assert.Less(t, s.Median, 10*time.Millisecond)
}

func TestTCPThroughputReal(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("needs iperf3 (apt package iperf3)")
	}
	port := 20000 + os.Getpid()%20000
	mbps, err := TCPThroughput(t.Context(), &remote.Local{}, &remote.Local{}, netip.MustParseAddr("127.0.0.1"), port, time.Second)
	require.NoError(t, err)
	t.Logf("loopback TCP: %.0f Mbit/s", mbps)
	assert.Greater(t, mbps, 100.0)
}
