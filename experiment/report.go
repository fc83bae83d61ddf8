package experiment

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// reportData is what report.html shows.
type reportData struct {
	Topology *topology.Topology
	Facts    map[string]string
	Records  []Record
	RTTs     []RTTSample
	Metrics  []MetricSample
	Summary  Summary
	Timing   *plan.TimingReport
	Sections []Section
}

// The report's charts are drawn here, in SVG, so that the file needs
// nothing but a browser: no script, no stylesheet, no font fetched.
const (
	chartW, chartH = 900.0, 260.0
	padL, padR     = 60.0, 20.0
	padT, padB     = 20.0, 30.0
)

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

type cell struct {
	Text, Color, Title string
	Fg                 string // the text's colour, light on the darker cells
}

type heatRow struct {
	Site  string
	Cells []cell
}

type series struct {
	Name, Color string
	// Segments are the polylines' points: a probe with no reply breaks
	// the line, so that a cut shows as a gap, not as a slope.
	Segments []string
	Lost     []point // probes with no reply, drawn on the top edge
}

type point struct{ X, Y float64 }

type mark struct {
	X           float64
	Label, Tip  string
	Color       string
	LabelOffset float64
}

type tick struct {
	Pos   float64
	Label string
}

type chart struct {
	Title        string
	Series       []series
	Marks        []mark
	XTicks       []tick
	YTicks       []tick
	W, H         float64
	PlotL, PlotR float64
	PlotT, PlotB float64
}

type bar struct {
	Y, X, W      float64
	Label, Color string
	Tip          string
}

type gantt struct {
	H    float64
	Bars []bar
	Axis []tick
}

type view struct {
	Name     string
	Facts    [][2]string
	Sites    []string
	Target   []heatRow
	Measured []heatRow
	RTT      chart
	Metrics  *chart
	Gantt    *gantt
	Records  []Record
	Summary  Summary
	Sections []Section
}

func renderReport(d reportData) ([]byte, error) {
	v := view{Name: d.Topology.Name, Records: d.Records, Summary: d.Summary, Sections: d.Sections}
	for _, k := range slices.Sorted(maps.Keys(d.Facts)) {
		v.Facts = append(v.Facts, [2]string{k, d.Facts[k]})
	}
	for _, s := range d.Topology.Sites {
		v.Sites = append(v.Sites, s.Name)
	}
	v.Target, v.Measured = heatmaps(v.Sites, Summarize(sinceLastTarget(d.RTTs), nil))
	end := 1.0
	for _, s := range d.RTTs {
		end = max(end, s.OffsetMs/1000)
	}
	for _, r := range d.Records {
		end = max(end, r.OffsetMs/1000)
	}
	for _, m := range d.Metrics {
		end = max(end, m.OffsetMs/1000)
	}
	v.RTT = rttChart(d.RTTs, d.Records, end)
	if len(d.Metrics) > 0 {
		c := metricChart(d.Metrics, d.Records, end)
		v.Metrics = &c
	}
	if d.Timing != nil && len(d.Timing.Steps) > 0 {
		v.Gantt = ganttChart(*d.Timing)
	}
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("experiment: report: %w", err)
	}
	return b.Bytes(), nil
}

// sinceLastTarget keeps each pair's probes since its target last changed
// (a SetLink event), so that the heatmap sets measured against the target
// it was measured under.
func sinceLastTarget(rtts []RTTSample) []RTTSample {
	type k struct{ a, b string }
	last := map[k]float64{}
	for _, s := range rtts {
		last[k{s.From, s.To}] = s.TargetMs
	}
	from := map[k]int{}
	for i, s := range rtts {
		if s.TargetMs != last[k{s.From, s.To}] {
			from[k{s.From, s.To}] = i + 1
		}
	}
	var out []RTTSample
	for i, s := range rtts {
		if i >= from[k{s.From, s.To}] {
			out = append(out, s)
		}
	}
	return out
}

// heatmaps lays out target and measured median RTT per site pair, both
// halves of each matrix filled, coloured on one scale.
func heatmaps(sites []string, sum Summary) (target, measured []heatRow) {
	type k struct{ a, b string }
	pairs := map[k]PairSummary{}
	top := 1.0
	for _, p := range sum.Pairs {
		pairs[k{p.From, p.To}], pairs[k{p.To, p.From}] = p, p
		top = max(top, p.TargetMs)
		if p.MedianMs != nil {
			top = max(top, *p.MedianMs)
		}
	}
	for _, a := range sites {
		tr, mr := heatRow{Site: a}, heatRow{Site: a}
		for _, b := range sites {
			p, ok := pairs[k{a, b}]
			switch {
			case a == b:
				tr.Cells, mr.Cells = append(tr.Cells, cell{Color: "#eee"}), append(mr.Cells, cell{Color: "#eee"})
				continue
			case !ok:
				tr.Cells, mr.Cells = append(tr.Cells, cell{Text: "–", Color: "#fff"}), append(mr.Cells, cell{Text: "–", Color: "#fff"})
				continue
			}
			tr.Cells = append(tr.Cells, cell{Text: fmt.Sprintf("%.1f", p.TargetMs), Color: heat(p.TargetMs / top), Fg: fg(p.TargetMs / top),
				Title: fmt.Sprintf("%s↔%s target %.2f ms", a, b, p.TargetMs)})
			c := cell{Text: "no reply", Color: "#999", Title: fmt.Sprintf("%s↔%s: no reply in %d probes", a, b, p.Count)}
			if p.MedianMs != nil {
				c = cell{Text: fmt.Sprintf("%.1f", *p.MedianMs), Color: heat(*p.MedianMs / top), Fg: fg(*p.MedianMs / top),
					Title: fmt.Sprintf("%s↔%s median %.2f ms (min %.2f, max %.2f), loss %.1f %%, %d probes",
						a, b, *p.MedianMs, *p.MinMs, *p.MaxMs, p.LossPct, p.Count)}
			}
			mr.Cells = append(mr.Cells, c)
		}
		target, measured = append(target, tr), append(measured, mr)
	}
	return target, measured
}

// fg is the text colour on heat(f).
func fg(f float64) string {
	if f > 0.6 {
		return "#fff"
	}
	return "#222"
}

// heat is a colour from pale yellow (0) through orange to deep red (1),
// as #rrggbb: html/template lets no hsl() through a style attribute.
func heat(f float64) string {
	f = math.Max(0, math.Min(1, f))
	stops := [][3]float64{{255, 247, 188}, {253, 141, 60}, {189, 0, 38}}
	i := min(int(f*2), 1)
	a, b, u := stops[i], stops[i+1], f*2-float64(i)
	c := func(k int) int { return int(math.Round(a[k] + (b[k]-a[k])*u)) }
	return fmt.Sprintf("#%02x%02x%02x", c(0), c(1), c(2))
}

func newChart(title string, end, top float64, unit string) chart {
	c := chart{Title: title, W: chartW, H: chartH, PlotL: padL, PlotR: chartW - padR, PlotT: padT, PlotB: chartH - padB}
	for _, t := range niceTicks(end) {
		c.XTicks = append(c.XTicks, tick{Pos: c.x(t, end), Label: fmt.Sprintf("%gs", t)})
	}
	for _, t := range niceTicks(top) {
		c.YTicks = append(c.YTicks, tick{Pos: c.y(t, top), Label: fmt.Sprintf("%g%s", t, unit)})
	}
	return c
}

func (c chart) x(sec, end float64) float64 {
	return math.Round((c.PlotL+(c.PlotR-c.PlotL)*sec/end)*10) / 10
}
func (c chart) y(v, top float64) float64 {
	return math.Round((c.PlotB-(c.PlotB-c.PlotT)*v/top)*10) / 10
}

// niceTicks are about five round values from 0 to top.
func niceTicks(top float64) []float64 {
	if top <= 0 {
		return []float64{0}
	}
	step := math.Pow(10, math.Floor(math.Log10(top/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top/(step*m) <= 6 {
			step *= m
			break
		}
	}
	var out []float64
	for v := 0.0; v <= top+step/1e6; v += step {
		out = append(out, math.Round(v*1e6)/1e6)
	}
	return out
}

func (c *chart) addEvents(records []Record, end float64) {
	for i, r := range records {
		color := "#444"
		if !r.OK() {
			color = "#d00"
		}
		tip := r.Event.String() + ": " + r.Did
		if r.Error != "" {
			tip += " — error: " + r.Error
		}
		c.Marks = append(c.Marks, mark{X: c.x(r.OffsetMs/1000, end), Label: r.Event.String(), Tip: tip, Color: color,
			LabelOffset: c.PlotT + 12 + float64(i%4)*12})
	}
}

func rttChart(samples []RTTSample, records []Record, end float64) chart {
	top := 1.0
	for _, s := range samples {
		top = max(top, s.TargetMs)
		if s.MedianMs != nil {
			top = max(top, *s.MedianMs)
		}
	}
	top *= 1.1
	c := newChart("RTT per site pair (median of each probe; × on top: no reply)", end, top, "ms")
	byPair := map[string][]RTTSample{}
	var names []string
	for _, s := range samples {
		n := s.From + "↔" + s.To
		if _, ok := byPair[n]; !ok {
			names = append(names, n)
		}
		byPair[n] = append(byPair[n], s)
	}
	for i, n := range names {
		se := series{Name: n, Color: palette[i%len(palette)]}
		var pts []string
		for _, s := range byPair[n] {
			x := c.x(s.OffsetMs/1000, end)
			if s.MedianMs == nil {
				se.Lost = append(se.Lost, point{X: x, Y: c.PlotT})
				if len(pts) > 0 {
					se.Segments, pts = append(se.Segments, strings.Join(pts, " ")), nil
				}
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, c.y(*s.MedianMs, top)))
		}
		if len(pts) > 0 {
			se.Segments = append(se.Segments, strings.Join(pts, " "))
		}
		c.Series = append(c.Series, se)
	}
	c.addEvents(records, end)
	return c
}

func metricChart(samples []MetricSample, records []Record, end float64) chart {
	top := 1.0
	for _, s := range samples {
		top = max(top, s.Value)
	}
	top *= 1.1
	c := newChart("The system's own metrics", end, top, "")
	byName := map[string][]string{}
	var names []string
	for _, s := range samples {
		if _, ok := byName[s.Name]; !ok {
			names = append(names, s.Name)
		}
		byName[s.Name] = append(byName[s.Name], fmt.Sprintf("%.1f,%.1f", c.x(s.OffsetMs/1000, end), c.y(s.Value, top)))
	}
	for i, n := range names {
		c.Series = append(c.Series, series{Name: n, Color: palette[i%len(palette)], Segments: []string{strings.Join(byName[n], " ")}})
	}
	c.addEvents(records, end)
	return c
}

func ganttChart(t plan.TimingReport) *gantt {
	const rowH, labelW = 18.0, 300.0
	total := math.Max(t.TotalSeconds, 0.001)
	for _, s := range t.Steps {
		total = math.Max(total, s.Start.Sub(t.Start).Seconds()+s.Seconds)
	}
	width := chartW - labelW - padR
	g := &gantt{H: float64(len(t.Steps))*rowH + 30}
	for i, s := range t.Steps {
		color := "#4a90d9"
		switch {
		case s.Error != "":
			color = "#d62728"
		case s.Outcome != plan.Done:
			color = "#aaa"
		}
		x := labelW + width*math.Max(0, s.Start.Sub(t.Start).Seconds())/total
		g.Bars = append(g.Bars, bar{Y: float64(i) * rowH, X: x, W: math.Max(1, width*s.Seconds/total), Label: s.Step,
			Color: color, Tip: fmt.Sprintf("%s: %.2fs, %s", s.Step, s.Seconds, s.Outcome)})
	}
	for _, v := range niceTicks(total) {
		g.Axis = append(g.Axis, tick{Pos: labelW + width*v/total, Label: fmt.Sprintf("%gs", v)})
	}
	return g
}
