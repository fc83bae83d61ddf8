package haproxy

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// header opens every rendered file, so a person who finds it on a host
// knows where it came from.
const header = "# haproxy.cfg rendered by planetstage; local edits are replaced on the next apply.\n"

// Render validates c and returns it as haproxy.cfg text. The output is
// deterministic: the same Config always renders the same bytes, which is
// what Inspect compares with the installed file.
func Render(c Config) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("haproxy config: %w", err)
	}
	var w writer
	w.raw(header)
	renderGlobal(&w, c.Global)
	renderDefaults(&w, c.Defaults)
	if c.Stats != nil {
		renderStats(&w, *c.Stats)
	}
	for _, f := range c.Frontends {
		w.section("frontend " + f.Name)
		if f.Mode != "" {
			w.line("mode", string(f.Mode))
		}
		for _, b := range f.Binds {
			w.line("bind", addr(b))
		}
		w.line("default_backend", f.DefaultBackend)
	}
	for _, b := range c.Backends {
		renderBackend(&w, b)
	}
	return []byte(w.String()), nil
}

func renderGlobal(w *writer, g Global) {
	w.section("global")
	if g.Log != "" {
		w.line("log", g.Log, "local0")
	}
	if g.Chroot != "" {
		w.line("chroot", g.Chroot)
	}
	if g.User != "" {
		w.line("user", g.User)
	}
	if g.Group != "" {
		w.line("group", g.Group)
	}
	if g.MaxConn > 0 {
		w.line("maxconn", fmt.Sprint(g.MaxConn))
	}
	if g.StatsSocket != "" {
		w.line("stats socket", g.StatsSocket, "mode 660 level admin")
	}
	if g.HardStopAfter > 0 {
		w.line("hard-stop-after", duration(g.HardStopAfter))
	}
}

func renderDefaults(w *writer, d Defaults) {
	w.section("defaults")
	w.line("mode", string(d.Mode))
	if d.Log {
		w.line("log", "global")
		if d.Mode == ModeHTTP {
			w.line("option", "httplog")
		} else {
			w.line("option", "tcplog")
		}
		w.line("option", "dontlognull")
	}
	if d.Retries > 0 {
		w.line("retries", fmt.Sprint(d.Retries))
	}
	if d.Redispatch {
		// "1": redispatch on every retry, not only the last one, so the
		// first retry already goes to a live server.
		w.line("option", "redispatch", "1")
	}
	t := d.Timeouts
	for _, td := range []struct {
		name string
		d    time.Duration
	}{{"connect", t.Connect}, {"client", t.Client}, {"server", t.Server}, {"tunnel", t.Tunnel}, {"queue", t.Queue}, {"check", t.Check}} {
		if td.d > 0 {
			w.line("timeout", td.name, duration(td.d))
		}
	}
}

func renderStats(w *writer, s Stats) {
	w.section("frontend stats")
	w.line("mode", "http")
	w.line("bind", addr(s.Bind))
	w.line("stats", "enable")
	w.line("stats", "uri", s.URI)
	w.line("stats", "refresh", "10s")
	if s.HealthURI != "" {
		w.line("monitor-uri", s.HealthURI)
		for _, b := range s.HealthyIf {
			w.line("monitor", "fail", "if", "{", "nbsrv("+b+")", "lt", "1", "}")
		}
	}
	// Inherits the defaults' log settings; operators' and probes' requests
	// are not worth a log line each.
	w.line("option", "httplog")
	w.line("http-request", "set-log-level", "silent")
}

func renderBackend(w *writer, b Backend) {
	w.section("backend " + b.Name)
	if b.Mode != "" {
		w.line("mode", string(b.Mode))
	}
	if b.Balance != "" {
		w.line("balance", b.Balance)
	}
	serverOpts := ""
	if hc := b.Check; hc != nil {
		w.line("option", "httpchk")
		if hc.TLS {
			w.line("http-check", "connect", "ssl")
		} else {
			w.line("http-check", "connect")
		}
		w.line("http-check", "send", "meth", hc.Method, "uri", hc.Path)
		w.line("http-check", "expect", "status", fmt.Sprint(hc.ExpectStatus))
		opts := []string{"check", "inter", duration(hc.Inter), "rise", fmt.Sprint(hc.Rise), "fall", fmt.Sprint(hc.Fall)}
		if hc.TLS {
			opts = append(opts, "check-ssl")
			if hc.CAFile != "" {
				opts = append(opts, "verify", "required", "ca-file", hc.CAFile)
			} else {
				opts = append(opts, "verify", "none")
			}
		}
		w.line(append([]string{"default-server"}, opts...)...)
		serverOpts = "check"
	}
	for _, s := range b.Servers {
		if serverOpts != "" {
			w.line("server", s.Name, addr(s.Address), serverOpts)
		} else {
			w.line("server", s.Name, addr(s.Address))
		}
	}
}

// addr renders an address:port the way HAProxy reads it. HAProxy takes the
// last colon as the port separator, so IPv6 needs no brackets.
func addr(a netip.AddrPort) string {
	return fmt.Sprintf("%s:%d", a.Addr().WithZone(""), a.Port())
}

// duration renders d in HAProxy's time format with the largest exact unit.
func duration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	default:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
}

// writer builds the file: sections separated by a blank line, keywords
// indented by four spaces.
type writer struct{ strings.Builder }

func (w *writer) raw(s string) { w.WriteString(s) }

func (w *writer) section(name string) {
	w.WriteString("\n" + name + "\n")
}

func (w *writer) line(words ...string) {
	w.WriteString("    " + strings.Join(words, " ") + "\n")
}
