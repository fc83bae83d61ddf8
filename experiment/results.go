package experiment

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/planetstage/planetstage/internal/atomicfile"
	"github.com/planetstage/planetstage/topology"
)

// The files of a results folder.
const (
	TopologyFile   = "topology.yaml" // the topology as the testbed runs it, defaults filled
	FactsFile      = "facts.json"    // versions, the relay's seed
	EventsJSONFile = "events.json"
	EventsCSVFile  = "events.csv"
	RTTJSONFile    = "rtt.json"
	RTTCSVFile     = "rtt.csv"
	MetricsJSON    = "metrics.json"
	MetricsCSV     = "metrics.csv"
	SummaryFile    = "summary.json" // min/median/max/loss/count per pair and metric
	TimingFile     = "timing.json"  // Options.Timing, when given
	ReportFile     = "report.html"
)

// Summary sums a run up: per site pair and per metric of the system.
type Summary struct {
	Pairs   []PairSummary   `json:"pairs"`
	Metrics []MetricSummary `json:"metrics"`
}

// PairSummary is one site pair over the run: of every ping answered, the
// least and the greatest RTT and the median of the probes' medians; Count
// probes, LossPct of all pings unanswered; TargetMs the last target.
type PairSummary struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	TargetMs float64  `json:"targetMs"`
	MinMs    *float64 `json:"minMs,omitempty"`
	MedianMs *float64 `json:"medianMs,omitempty"`
	MaxMs    *float64 `json:"maxMs,omitempty"`
	LossPct  float64  `json:"lossPct"`
	Count    int      `json:"count"`
}

// MetricSummary is one metric of the system under test over the run.
type MetricSummary struct {
	Name   string  `json:"name"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	Count  int     `json:"count"`
}

// Summarize computes the summary of RTT and metric samples.
func Summarize(rtts []RTTSample, metrics []MetricSample) Summary {
	sum := Summary{Pairs: []PairSummary{}, Metrics: []MetricSummary{}}
	type key struct{ from, to string }
	byPair := map[key][]RTTSample{}
	var order []key
	for _, s := range rtts {
		k := key{s.From, s.To}
		if _, ok := byPair[k]; !ok {
			order = append(order, k)
		}
		byPair[k] = append(byPair[k], s)
	}
	for _, k := range order {
		ss := byPair[k]
		p := PairSummary{From: k.from, To: k.to, Count: len(ss), TargetMs: ss[len(ss)-1].TargetMs}
		var sent, recv int
		var meds, lows, highs []float64
		for _, s := range ss {
			sent, recv = sent+s.Sent, recv+s.Received
			if s.MedianMs != nil {
				meds, lows, highs = append(meds, *s.MedianMs), append(lows, *s.MinMs), append(highs, *s.MaxMs)
			}
		}
		if sent > 0 {
			p.LossPct = round2(100 * float64(sent-recv) / float64(sent))
		}
		if len(meds) > 0 {
			lo, med, hi := slices.Min(lows), median(meds), slices.Max(highs)
			p.MinMs, p.MedianMs, p.MaxMs = &lo, &med, &hi
		}
		sum.Pairs = append(sum.Pairs, p)
	}
	byName := map[string][]float64{}
	for _, m := range metrics {
		byName[m.Name] = append(byName[m.Name], m.Value)
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		v := byName[name]
		sum.Metrics = append(sum.Metrics, MetricSummary{Name: name, Min: slices.Min(v), Median: median(v), Max: slices.Max(v), Count: len(v)})
	}
	return sum
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// writeStatic writes what does not change during the run.
func (r *Run) writeStatic() error {
	topo, err := topology.Marshal(r.topo)
	if err != nil {
		return fmt.Errorf("experiment: topology: %w", err)
	}
	files := map[string][]byte{TopologyFile: topo, FactsFile: mustJSON(r.facts)}
	if r.opts.Timing != nil {
		files[TimingFile] = mustJSON(r.opts.Timing)
	}
	for name, data := range files {
		if err := atomicfile.Write(filepath.Join(r.opts.Dir, name), data, 0o644); err != nil {
			return fmt.Errorf("experiment: %w", err)
		}
	}
	return nil
}

// flush rewrites the folder's changing files from what the run has so
// far, each atomically, so that a run cut short leaves whole files.
func (r *Run) flush() {
	r.mu.Lock()
	records, rtts, metrics := slices.Clone(r.records), slices.Clone(r.rtts), slices.Clone(r.metrics)
	sections := slices.Clone(r.sections)
	r.mu.Unlock()
	sum := Summarize(rtts, metrics)
	report, err := renderReport(reportData{Topology: r.topo, Facts: r.facts, Records: records, RTTs: rtts,
		Metrics: metrics, Summary: sum, Timing: r.opts.Timing, Sections: sections})
	if err != nil {
		r.fail(err)
	}
	files := map[string][]byte{
		EventsJSONFile: mustJSON(nonNil(records)),
		EventsCSVFile:  eventsCSV(records),
		RTTJSONFile:    mustJSON(nonNil(rtts)),
		RTTCSVFile:     rttCSV(rtts),
		MetricsJSON:    mustJSON(nonNil(metrics)),
		MetricsCSV:     metricsCSV(metrics),
		SummaryFile:    mustJSON(sum),
		ReportFile:     report,
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := atomicfile.Write(filepath.Join(r.opts.Dir, name), files[name], 0o644); err != nil {
			r.fail(fmt.Errorf("experiment: %w", err))
		}
	}
}

// fail keeps a write error for Stop; the run goes on.
func (r *Run) fail(err error) {
	r.log.Warn("experiment", "err", err)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("experiment: marshal %T: %v", v, err)) // plain data; cannot fail
	}
	return append(b, '\n')
}

func writeCSV(header []string, rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header) // a bytes.Buffer does not fail
	_ = w.WriteAll(rows)
	return b.Bytes()
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func fmtOpt(f *float64) string {
	if f == nil {
		return ""
	}
	return fmtFloat(*f)
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func eventsCSV(records []Record) []byte {
	rows := make([][]string, 0, len(records))
	for _, rec := range records {
		rows = append(rows, []string{fmtTime(rec.Time), fmtFloat(rec.OffsetMs), string(rec.Event.Kind), rec.Event.String(),
			rec.Did, strconv.FormatBool(rec.OK()), rec.Error, fmtFloat(rec.TookMs)})
	}
	return writeCSV([]string{"time", "offset_ms", "kind", "event", "did", "ok", "error", "took_ms"}, rows)
}

func rttCSV(samples []RTTSample) []byte {
	rows := make([][]string, 0, len(samples))
	for _, s := range samples {
		rows = append(rows, []string{fmtTime(s.Time), fmtFloat(s.OffsetMs), s.From, s.To, fmtFloat(s.TargetMs),
			fmtOpt(s.MinMs), fmtOpt(s.MedianMs), fmtOpt(s.MaxMs), fmtFloat(round2(s.LossPct())), strconv.Itoa(s.Sent),
			strconv.Itoa(s.Received), s.Error})
	}
	return writeCSV([]string{"time", "offset_ms", "from", "to", "target_ms", "min_ms", "median_ms", "max_ms",
		"loss_pct", "count", "received", "error"}, rows)
}

func metricsCSV(samples []MetricSample) []byte {
	rows := make([][]string, 0, len(samples))
	for _, s := range samples {
		rows = append(rows, []string{fmtTime(s.Time), fmtFloat(s.OffsetMs), s.Name, fmtFloat(s.Value)})
	}
	return writeCSV([]string{"time", "offset_ms", "name", "value"}, rows)
}
