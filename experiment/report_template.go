package experiment

import (
	"fmt"
	"html/template"
)

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"slice_w": func(c chart) float64 { return c.PlotR - c.PlotL },
	"slice_h": func(c chart) float64 { return c.PlotB - c.PlotT },
	"secs":    func(ms float64) float64 { return ms / 1000 },
	"ms": func(f *float64) string {
		if f == nil {
			return ""
		}
		return fmt.Sprintf("%.2f", *f)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment {{.Name}}</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222;max-width:960px}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.heat{display:inline-block;vertical-align:top;margin-right:2em}
.heat td{min-width:4em;text-align:center}
.err{color:#d00}
svg text{font-size:11px;font-family:sans-serif}
</style></head><body>
<h1>Experiment on {{.Name}}</h1>
<table>{{range .Facts}}<tr><th class="l">{{index . 0}}</th><td class="l">{{index . 1}}</td></tr>{{end}}</table>

<h2>Site-pair RTT, ms: target against measured (median of the probes since the target last changed)</h2>
<div class="heat"><b>Target</b><table><tr><th></th>{{range .Sites}}<th>{{.}}</th>{{end}}</tr>
{{range .Target}}<tr><th>{{.Site}}</th>{{range .Cells}}<td style="background:{{.Color}};color:{{or .Fg "#222"}}" title="{{.Title}}">{{.Text}}</td>{{end}}</tr>{{end}}</table></div>
<div class="heat"><b>Measured</b><table><tr><th></th>{{range .Sites}}<th>{{.}}</th>{{end}}</tr>
{{range .Measured}}<tr><th>{{.Site}}</th>{{range .Cells}}<td style="background:{{.Color}};color:{{or .Fg "#222"}}" title="{{.Title}}">{{.Text}}</td>{{end}}</tr>{{end}}</table></div>

{{define "chart"}}<h2>{{.Title}}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}">
<rect x="{{.PlotL}}" y="{{.PlotT}}" width="{{printf "%.1f" (slice_w .)}}" height="{{printf "%.1f" (slice_h .)}}" fill="#fafafa" stroke="#ccc"/>
{{$c := .}}{{range .YTicks}}<line x1="{{$c.PlotL}}" x2="{{$c.PlotR}}" y1="{{.Pos}}" y2="{{.Pos}}" stroke="#e4e4e4"/><text x="{{$c.PlotL}}" dx="-4" y="{{.Pos}}" dy="4" text-anchor="end">{{.Label}}</text>{{end}}
{{range .XTicks}}<text x="{{.Pos}}" y="{{$c.PlotB}}" dy="16" text-anchor="middle">{{.Label}}</text>{{end}}
{{range .Marks}}<g><title>{{.Tip}}</title><line x1="{{.X}}" x2="{{.X}}" y1="{{$c.PlotT}}" y2="{{$c.PlotB}}" stroke="{{.Color}}" stroke-dasharray="4 3"/><text x="{{.X}}" dx="3" y="{{.LabelOffset}}" fill="{{.Color}}">{{.Label}}</text></g>{{end}}
{{range .Series}}{{$s := .}}<g><title>{{.Name}}</title>{{range .Segments}}<polyline fill="none" stroke="{{$s.Color}}" stroke-width="1.8" points="{{.}}"/>{{end}}{{range .Lost}}<text x="{{.X}}" y="{{.Y}}" dy="4" text-anchor="middle" fill="{{$s.Color}}">×</text>{{end}}</g>{{end}}
</svg>
<div>{{range .Series}}<span style="color:{{.Color}}">■</span> {{.Name}} &nbsp; {{end}}</div>{{end}}
{{template "chart" .RTT}}
{{with .Metrics}}{{template "chart" .}}{{end}}

{{with .Gantt}}<h2>Plan steps (Gantt)</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{{.H}}">
{{range .Bars}}<g><title>{{.Tip}}</title><text x="296" y="{{.Y}}" dy="13" text-anchor="end">{{.Label}}</text><rect x="{{.X}}" y="{{.Y}}" dy="2" width="{{.W}}" height="14" fill="{{.Color}}"/></g>{{end}}
{{$h := .H}}{{range .Axis}}<text x="{{.Pos}}" y="{{$h}}" dy="-6" text-anchor="middle">{{.Label}}</text>{{end}}
</svg>{{end}}

{{range .Sections}}<h2>{{.Title}}</h2>
{{with .Note}}<p>{{.}}</p>{{end}}<table><tr>{{range $i, $c := .Columns}}<th{{if eq $i 0}} class="l"{{end}}>{{$c}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range $i, $v := .}}<td{{if eq $i 0}} class="l"{{end}}>{{$v}}</td>{{end}}</tr>{{end}}</table>
{{end}}
<h2>Events</h2>
<table><tr><th>at (s)</th><th class="l">event</th><th class="l">did</th><th class="l">outcome</th><th>took (ms)</th></tr>
{{range .Records}}<tr><td>{{printf "%.2f" (secs .OffsetMs)}}</td><td class="l">{{.Event}}</td><td class="l">{{.Did}}</td><td class="l{{if .Error}} err{{end}}">{{if .Error}}{{.Error}}{{else}}ok{{end}}</td><td>{{printf "%.1f" .TookMs}}</td></tr>{{end}}</table>

<h2>Summary per site pair</h2>
<table><tr><th class="l">pair</th><th>target</th><th>min</th><th>median</th><th>max</th><th>loss %</th><th>probes</th></tr>
{{range .Summary.Pairs}}<tr><td class="l">{{.From}}↔{{.To}}</td><td>{{.TargetMs}}</td><td>{{ms .MinMs}}</td><td>{{ms .MedianMs}}</td><td>{{ms .MaxMs}}</td><td>{{.LossPct}}</td><td>{{.Count}}</td></tr>{{end}}</table>
{{with .Summary.Metrics}}<h2>Summary per metric</h2>
<table><tr><th class="l">metric</th><th>min</th><th>median</th><th>max</th><th>count</th></tr>
{{range .}}<tr><td class="l">{{.Name}}</td><td>{{.Min}}</td><td>{{.Median}}</td><td>{{.Max}}</td><td>{{.Count}}</td></tr>{{end}}</table>{{end}}
</body></html>
`))
