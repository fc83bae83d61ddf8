package wan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// SiteResult is one site pair's latency as `stage verify --measure --json`
// reports it: the model's target RTT, the median RTT measured through the
// tunnel, and the error in percent of the target.
type SiteResult struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Path is the sites the pair's traffic crosses, both ends included,
	// when that is more than the pair (through a hub); the target is the
	// sum of its tunnels' RTTs.
	Path       []string `json:"path,omitempty"`
	TargetMs   float64  `json:"targetMs"`
	MeasuredMs float64  `json:"measuredMs"`
	ErrorPct   float64  `json:"errorPct"`
}

// NewSiteResult fills in the milliseconds and the error.
func NewSiteResult(from, to string, target, measured time.Duration) SiteResult {
	r := SiteResult{From: from, To: to, TargetMs: ms(target), MeasuredMs: ms(measured)}
	if target > 0 {
		r.ErrorPct = round2(100 * (r.MeasuredMs - r.TargetMs) / r.TargetMs)
	}
	return r
}

// TunnelResult is one tunnel's cost: TCP throughput through the tunnel
// and over the same routers without it, and the busier router's CPU
// during the tunnel run, in percent of one core (OpenVPN is single
// threaded, so 100 means the tunnel is CPU bound).
type TunnelResult struct {
	From         string  `json:"from"`
	To           string  `json:"to"`
	TunnelMbps   float64 `json:"tunnelMbps"`
	DirectMbps   float64 `json:"directMbps"`
	RouterCPUPct float64 `json:"routerCPUPct"`
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// RTTSample is what Ping measured.
type RTTSample struct {
	Sent, Received   int
	Median, Min, Max time.Duration
}

var (
	pingReply = regexp.MustCompile(`time[=<]([0-9.]+) ms`)
	pingTally = regexp.MustCompile(`([0-9]+) packets transmitted, ([0-9]+) (packets )?received`)
)

// Ping runs ping on r towards target, count echo requests interval apart,
// and returns the median RTT of the replies. It fails when no reply came.
func Ping(ctx context.Context, r remote.Runner, target netip.Addr, count int, interval time.Duration) (RTTSample, error) {
	if count < 1 {
		return RTTSample{}, fmt.Errorf("ping %s from %s: count %d: want at least 1", target, r.Host(), count)
	}
	cmd := fmt.Sprintf("LC_ALL=C ping -n -c %d -i %s -W 2 %s", count, strconv.FormatFloat(interval.Seconds(), 'f', -1, 64), target)
	out, err := remote.Output(ctx, r, cmd)
	s, perr := parsePing(out)
	if perr != nil {
		return RTTSample{}, fmt.Errorf("ping %s from %s: %w", target, r.Host(), errors.Join(err, perr))
	}
	// ping exits non-zero when some replies were lost; the sample says so.
	return s, nil
}

func parsePing(out string) (RTTSample, error) {
	var s RTTSample
	var rtts []time.Duration
	for _, m := range pingReply.FindAllStringSubmatch(out, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return s, err
		}
		rtts = append(rtts, time.Duration(v*float64(time.Millisecond)))
	}
	if m := pingTally.FindStringSubmatch(out); m != nil {
		s.Sent, _ = strconv.Atoi(m[1])
		s.Received, _ = strconv.Atoi(m[2])
	}
	if len(rtts) == 0 {
		return s, errors.New("no replies")
	}
	slices.Sort(rtts)
	s.Min, s.Max = rtts[0], rtts[len(rtts)-1]
	s.Median = rtts[len(rtts)/2]
	if len(rtts)%2 == 0 {
		s.Median = (rtts[len(rtts)/2-1] + rtts[len(rtts)/2]) / 2
	}
	return s, nil
}

// TCPThroughput measures TCP throughput from client to server's address
// addr with iperf3 for d, and returns megabits per second as received. The
// server is a one-off iperf3 on port, stopped afterwards.
func TCPThroughput(ctx context.Context, server, client remote.Runner, addr netip.Addr, port int, d time.Duration) (float64, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	// A one-off server in the background, detached from the session so
	// that an SSH command returns; it is stopped by its pid afterwards,
	// whatever happened (and exits by itself after 60 s without a client).
	start := fmt.Sprintf("setsid iperf3 -s -1 -p %d --idle-timeout 60 </dev/null >/dev/null 2>&1 & echo $!", port)
	pidOut, err := remote.Output(ctx, server, start)
	if err != nil {
		return 0, fmt.Errorf("iperf3 server on %s: %w", server.Host(), err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(pidOut))
	if err != nil {
		return 0, fmt.Errorf("iperf3 server on %s: pid %q: %w", server.Host(), pidOut, err)
	}
	defer func() {
		// Not ctx: the server must go even when the measurement was
		// cancelled. Gone already is fine.
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = server.Run(stop, remote.Cmd{Command: fmt.Sprintf("kill %d 2>/dev/null || true", pid)})
	}()
	cmd := fmt.Sprintf("iperf3 -c %s -p %d -t %d -J --connect-timeout 5000", addr, port, secs)
	var out string
	// The server may not listen yet; retry while it is not there. (iperf3
	// 3.12 exits 0 with -J even when it failed: judge by its output.)
	for attempt := 0; attempt < 10; attempt++ {
		out, err = remote.Output(ctx, client, cmd)
		if !strings.Contains(out, "Connection refused") || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	bps, perr := parseIperf(out)
	if err != nil || perr != nil {
		return 0, fmt.Errorf("iperf3 from %s to %s: %w", client.Host(), addr, errors.Join(err, perr))
	}
	return round2(bps / 1e6), nil
}

func parseIperf(out string) (float64, error) {
	var rep struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		return 0, fmt.Errorf("reading iperf3's JSON: %w", err)
	}
	if rep.Error != "" {
		return 0, errors.New(rep.Error)
	}
	if rep.End.SumReceived.BitsPerSecond <= 0 {
		return 0, errors.New("iperf3 reported no data received")
	}
	return rep.End.SumReceived.BitsPerSecond, nil
}
