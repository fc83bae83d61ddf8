package experiment

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/plan"
)

// sampleReport is a run's worth of data: three pairs, one site cut for a
// while, a latency change, a metric and a plan's timing.
func sampleReport() reportData {
	f := func(v float64) *float64 { return &v }
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	var rtts []RTTSample
	var metrics []MetricSample
	for i := range 20 {
		off := float64(i) * 1000
		tf := 60.0
		if i >= 12 {
			tf = 200
		}
		rtts = append(rtts, RTTSample{OffsetMs: off, From: "tokyo", To: "frankfurt", TargetMs: tf, Sent: 3, Received: 3,
			MinMs: f(tf + 0.2), MedianMs: f(tf + 0.5), MaxMs: f(tf + 2)})
		for _, to := range []string{"tokyo", "frankfurt"} {
			s := RTTSample{OffsetMs: off, From: to, To: "saopaulo", TargetMs: 147, Sent: 3}
			if i < 5 || i > 9 {
				s.Received, s.MinMs, s.MedianMs, s.MaxMs = 3, f(148), f(149), f(155)
			} else {
				s.Error = "no replies"
			}
			rtts = append(rtts, s)
		}
		metrics = append(metrics, MetricSample{OffsetMs: off, Name: "delivered", Value: float64(100 - 10*min(i, 5))})
	}
	recs := []Record{
		{OffsetMs: 5000, Event: Event{Kind: Partition, Site: "saopaulo"}, Did: "cut 2 tunnel(s)"},
		{OffsetMs: 10000, Event: Event{Kind: Heal, Site: "saopaulo"}, Did: "restored 2 tunnel(s)"},
		{OffsetMs: 12000, Event: Event{Kind: StopMachine, Machine: "rtokyo"}, Error: "docker: no such container"},
	}
	timing := &plan.TimingReport{Start: t0, TotalSeconds: 30, Steps: []plan.TimingEntry{
		{Step: "routers/rtokyo/openvpn", Start: t0, Seconds: 10, Outcome: plan.Done},
		{Step: "routers/rfrankfurt/openvpn", Start: t0.Add(2 * time.Second), Seconds: 12, Outcome: plan.Done},
		{Step: "wan/probe", Start: t0.Add(15 * time.Second), Seconds: 15, Outcome: plan.Failed, Error: "timeout"},
	}}
	return reportData{Topology: testTopology(), Facts: map[string]string{"kernel": "6.1", "relay.seed": "7"},
		Records: recs, RTTs: rtts, Metrics: metrics, Summary: Summarize(rtts, metrics), Timing: timing}
}

func TestReportIsSelfContained(t *testing.T) {
	t.Parallel()
	b, err := renderReport(sampleReport())
	require.NoError(t, err)
	html := string(b)
	for _, bad := range []string{"<script", "src=", "href=", "url(", "<link", "@import"} {
		assert.NotContains(t, html, bad, "the report must need nothing from the network")
	}
	assert.Equal(t, 3, strings.Count(html, "<svg"), "RTT chart, metrics chart, Gantt chart")
	assert.Contains(t, html, ">200.0<", "target heatmap cell")
	assert.Contains(t, html, ">149.0<", "measured heatmap cell")
	assert.Contains(t, html, "partition site saopaulo")
	assert.Contains(t, html, "docker: no such container", "a failed event shows its error")
	assert.Contains(t, html, "routers/rfrankfurt/openvpn", "a Gantt bar per step")
	assert.NotContains(t, html, "%!", "no formatting error")
	assert.NotContains(t, html, "ZgotmplZ", "no value html/template refused")
	assert.Contains(t, html, ">200.5<", "measured since the target became 200 ms")
	// The cut breaks the São Paulo lines: two segments each.
	assert.Equal(t, 1+2+2, strings.Count(html, "<polyline")-1, "polylines of the RTT chart (the metric has one)")
}

func TestReportWithoutTimingOrMetrics(t *testing.T) {
	t.Parallel()
	d := sampleReport()
	d.Timing, d.Metrics = nil, nil
	b, err := renderReport(d)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), "<svg"))
	assert.NotContains(t, string(b), "Gantt")
}

// TestReportRendersInChromium opens the report in a real headless browser
// (Debian's chromium): the DOM it builds holds the charts, and the
// screenshot is not blank. It skips when chromium is not installed.
func TestReportRendersInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("needs Debian's chromium (apt-get install chromium) to render the report; not installed")
	}
	t.Parallel()
	dir := t.TempDir()
	b, err := renderReport(sampleReport())
	require.NoError(t, err)
	page := filepath.Join(dir, ReportFile)
	require.NoError(t, os.WriteFile(page, b, 0o644))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// A profile of its own, so that parallel runs do not share one; no
	// network is touched: the page is a file.
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + filepath.Join(dir, "profile"),
		"--window-size=1000,1600"}
	dom, err := exec.CommandContext(ctx, bin, append(flags, "--dump-dom", "file://"+page)...).Output()
	require.NoError(t, err, "chromium --dump-dom")
	assert.Equal(t, 3, strings.Count(string(dom), "<svg"), "the browser parsed three charts")
	assert.Contains(t, string(dom), "<polyline")

	shot := filepath.Join(dir, "report.png")
	out, err := exec.CommandContext(ctx, bin, append(flags, "--screenshot="+shot, "file://"+page)...).CombinedOutput()
	require.NoError(t, err, "chromium --screenshot: %s", out)
	data, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	// The heatmap and the lines are coloured: count pixels far from grey.
	colored := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if max(r, g, b)-min(r, g, b) > 0x4000 {
				colored++
			}
		}
	}
	assert.Greater(t, colored, 500, "the screenshot shows the coloured heatmap and charts")
	if keep := os.Getenv("EXPERIMENT_KEEP_SCREENSHOT"); keep != "" {
		require.NoError(t, os.WriteFile(keep, data, 0o644))
	}
}
