package haproxy

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// proxyName is what HAProxy accepts as a proxy or server name.
var proxyName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// safeWord is a value written bare into the config: a path, a user name, an
// algorithm. Whitespace, '#' and quotes would change the config's meaning.
var safeWord = regexp.MustCompile(`^[A-Za-z0-9_./@:+-]+$`)

// Validate reports every problem in c, each naming the section and field,
// so a caller can fix them all at once. Render calls it first.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	g := c.Global
	for _, f := range [][2]string{{"log", g.Log}, {"chroot", g.Chroot}, {"user", g.User}, {"group", g.Group}, {"statsSocket", g.StatsSocket}} {
		if f[1] != "" && !safeWord.MatchString(f[1]) {
			add("global: %s %q: only letters, digits and _./@:+- are allowed", f[0], f[1])
		}
	}
	if g.MaxConn < 0 {
		add("global: maxConn %d: must not be negative", g.MaxConn)
	}
	checkDuration(add, "global: hardStopAfter", g.HardStopAfter)

	d := c.Defaults
	checkMode(add, "defaults: mode", d.Mode, true)
	if d.Retries < 0 {
		add("defaults: retries %d: must not be negative", d.Retries)
	}
	if d.Redispatch && d.Retries == 0 {
		add("defaults: redispatch needs retries > 0: without a retry there is nothing to redispatch")
	}
	t := d.Timeouts
	for _, td := range []struct {
		name string
		d    time.Duration
	}{{"connect", t.Connect}, {"client", t.Client}, {"server", t.Server}, {"tunnel", t.Tunnel}, {"check", t.Check}, {"queue", t.Queue}} {
		checkDuration(add, "defaults: timeouts."+td.name, td.d)
	}

	backends := make(map[string]bool)
	for i, b := range c.Backends {
		where := fmt.Sprintf("backend[%d] %q", i, b.Name)
		if !proxyName.MatchString(b.Name) {
			add("%s: name: must be non-empty letters, digits and _.:-", where)
		} else if backends[b.Name] {
			add("%s: name: duplicate backend", where)
		}
		backends[b.Name] = true
		validateBackend(add, where, b)
	}

	frontends := make(map[string]bool)
	for i, f := range c.Frontends {
		where := fmt.Sprintf("frontend[%d] %q", i, f.Name)
		if !proxyName.MatchString(f.Name) {
			add("%s: name: must be non-empty letters, digits and _.:-", where)
		} else if frontends[f.Name] {
			add("%s: name: duplicate frontend", where)
		}
		frontends[f.Name] = true
		checkMode(add, where+": mode", f.Mode, false)
		if len(f.Binds) == 0 {
			add("%s: binds: at least one address:port is needed", where)
		}
		for j, a := range f.Binds {
			if !a.IsValid() || a.Port() == 0 {
				add("%s: binds[%d] %q: need an address and a non-zero port", where, j, a)
			}
		}
		if !backends[f.DefaultBackend] {
			add("%s: defaultBackend %q: no such backend", where, f.DefaultBackend)
		}
	}

	if s := c.Stats; s != nil {
		if !s.Bind.IsValid() || s.Bind.Port() == 0 {
			add("stats: bind %q: need an address and a non-zero port", s.Bind)
		}
		if frontends["stats"] {
			add("stats: a frontend named \"stats\" already exists")
		}
		checkURI(add, "stats: uri", s.URI, true)
		checkURI(add, "stats: healthURI", s.HealthURI, false)
		if s.HealthURI != "" && s.HealthURI == s.URI {
			add("stats: healthURI %q: same as uri", s.HealthURI)
		}
		for _, name := range s.HealthyIf {
			if !backends[name] {
				add("stats: healthyIf %q: no such backend", name)
			}
		}
		if len(s.HealthyIf) > 0 && s.HealthURI == "" {
			add("stats: healthyIf needs a healthURI")
		}
	}
	return errors.Join(errs...)
}

func validateBackend(add func(string, ...any), where string, b Backend) {
	checkMode(add, where+": mode", b.Mode, false)
	if b.Balance != "" && !safeWord.MatchString(b.Balance) {
		add("%s: balance %q: not an algorithm name", where, b.Balance)
	}
	servers := make(map[string]bool)
	for j, s := range b.Servers {
		sw := fmt.Sprintf("%s: server[%d] %q", where, j, s.Name)
		if !proxyName.MatchString(s.Name) {
			add("%s: name: must be non-empty letters, digits and _.:-", sw)
		} else if servers[s.Name] {
			add("%s: name: duplicate server", sw)
		}
		servers[s.Name] = true
		if !s.Address.IsValid() || s.Address.Port() == 0 {
			add("%s: address %q: need an IP address and a non-zero port", sw, s.Address)
		}
	}
	hc := b.Check
	if hc == nil {
		return
	}
	cw := where + ": check"
	if hc.Method == "" || strings.ToUpper(hc.Method) != hc.Method || !safeWord.MatchString(hc.Method) {
		add("%s: method %q: need an upper-case HTTP method such as GET", cw, hc.Method)
	}
	checkURI(add, cw+": path", hc.Path, true)
	if http.StatusText(hc.ExpectStatus) == "" {
		add("%s: expectStatus %d: not an HTTP status", cw, hc.ExpectStatus)
	}
	if hc.CAFile != "" {
		if !hc.TLS {
			add("%s: caFile is set but tls is off", cw)
		}
		if !safeWord.MatchString(hc.CAFile) {
			add("%s: caFile %q: only letters, digits and _./@:+- are allowed", cw, hc.CAFile)
		}
	}
	if hc.Inter <= 0 {
		add("%s: inter %v: must be positive", cw, hc.Inter)
	}
	checkDuration(add, cw+": inter", hc.Inter)
	if hc.Rise < 1 {
		add("%s: rise %d: must be at least 1", cw, hc.Rise)
	}
	if hc.Fall < 1 {
		add("%s: fall %d: must be at least 1", cw, hc.Fall)
	}
}

func checkMode(add func(string, ...any), where string, m Mode, required bool) {
	switch m {
	case ModeTCP, ModeHTTP:
	case "":
		if required {
			add("%s: required (tcp or http)", where)
		}
	default:
		add("%s %q: want tcp or http", where, m)
	}
}

func checkURI(add func(string, ...any), where, uri string, required bool) {
	if uri == "" {
		if required {
			add("%s: required", where)
		}
		return
	}
	if !strings.HasPrefix(uri, "/") || !safeWord.MatchString(uri) {
		add("%s %q: need an absolute path of letters, digits and _./@:+-", where, uri)
	}
}

// checkDuration rejects what HAProxy's time format cannot say: negative
// values and fractions of a millisecond.
func checkDuration(add func(string, ...any), where string, d time.Duration) {
	if d < 0 {
		add("%s %v: must not be negative", where, d)
	} else if d%time.Millisecond != 0 {
		add("%s %v: HAProxy counts whole milliseconds", where, d)
	}
}
