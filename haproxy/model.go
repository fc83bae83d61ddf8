package haproxy

import (
	"net/netip"
	"time"
)

// Mode is a proxy's mode: TCP passes bytes through untouched (TLS included),
// HTTP parses requests.
type Mode string

// The two modes HAProxy knows.
const (
	ModeTCP  Mode = "tcp"
	ModeHTTP Mode = "http"
)

// Config is one haproxy.cfg: the global section, the defaults every proxy
// inherits, an optional stats/health listener, and frontends and backends.
// Render turns it into text; Validate says what is wrong with it.
type Config struct {
	Global    Global
	Defaults  Defaults
	Stats     *Stats
	Frontends []Frontend
	Backends  []Backend
}

// Global is the process-wide section.
type Global struct {
	// Log is a syslog target ("/dev/log"), logged with facility local0.
	// Empty logs nothing.
	Log string
	// Chroot is the directory HAProxy jails itself in after start-up.
	Chroot string
	// User and Group are what HAProxy drops privileges to after binding.
	User, Group string
	// MaxConn limits concurrent connections per process; 0 is HAProxy's default.
	MaxConn int
	// StatsSocket is the path of the admin socket (mode 660, level admin);
	// empty means none.
	StatsSocket string
	// HardStopAfter bounds how long the old processes of a reload keep
	// serving their open connections; 0 lets them drain forever. Long-lived
	// watches would otherwise keep one old worker per reload alive.
	HardStopAfter time.Duration
}

// Defaults is the defaults section every frontend and backend inherits.
type Defaults struct {
	Mode Mode
	// Log makes proxies log to the global log target, with tcplog format in
	// TCP mode and httplog in HTTP mode.
	Log bool
	// Retries is how many times a failed connection to a server is retried.
	Retries int
	// Redispatch lets every retry go to another server (option redispatch 1),
	// so a server that died before the health checks noticed costs the client
	// nothing but a retry.
	Redispatch bool
	Timeouts   Timeouts
}

// Timeouts are the timeouts of the defaults section; zero omits one.
type Timeouts struct {
	// Connect bounds a TCP connect to a server.
	Connect time.Duration
	// Client and Server bound inactivity on either side.
	Client, Server time.Duration
	// Tunnel replaces Client and Server once a TCP connection is
	// established in both directions: long enough for Kubernetes watches.
	Tunnel time.Duration
	// Check bounds reading a health-check response once connected.
	Check time.Duration
	// Queue bounds how long a connection waits for a free server slot.
	Queue time.Duration
}

// Stats is a small HTTP listener for operators and probes: HAProxy's stats
// page (CSV at URI;csv) and a health URI that answers 200 while each of the
// listed backends has at least one server up, and 503 otherwise.
type Stats struct {
	// Bind is where it listens; keep it on loopback (127.0.0.1:8404).
	Bind netip.AddrPort
	// URI is the stats page ("/stats").
	URI string
	// HealthURI is the health endpoint ("/healthz"); empty means none.
	HealthURI string
	// HealthyIf names backends that must each have a server up for
	// HealthURI to answer 200.
	HealthyIf []string
}

// Frontend accepts client connections and hands them to a backend.
type Frontend struct {
	Name           string
	Mode           Mode
	Binds          []netip.AddrPort
	DefaultBackend string
}

// Backend is a set of servers, a balancing algorithm and a health check.
type Backend struct {
	Name string
	Mode Mode
	// Balance is the algorithm: "roundrobin", "leastconn", "source", …
	Balance string
	// Check is the health check each server gets; nil means servers are
	// used without checks.
	Check   *HealthCheck
	Servers []Server
}

// Server is one backend server.
type Server struct {
	Name    string
	Address netip.AddrPort
}

// HealthCheck is an HTTP(S) check: connect, send Method Path, expect
// ExpectStatus. In a TCP backend it runs beside the proxied traffic, which
// is how a TCP load balancer asks a Kubernetes API server GET /readyz while
// passing client TLS through untouched.
type HealthCheck struct {
	Method       string
	Path         string
	ExpectStatus int
	// TLS makes the check connect with TLS.
	TLS bool
	// CAFile verifies the server's certificate against this CA bundle; empty
	// with TLS means "verify none" (the check then trusts any certificate,
	// which only tells it that something speaks TLS and answers 200).
	CAFile string
	// Inter is the time between two checks of a server.
	Inter time.Duration
	// Rise is how many consecutive successes bring a server back, Fall how
	// many failures take it out: a dead server leaves the rotation within
	// Fall×Inter and returns Rise×Inter after it recovers.
	Rise, Fall int
}
