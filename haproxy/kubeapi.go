package haproxy

import (
	"errors"
	"net/netip"
	"time"
)

// The names KubeAPIServer gives its proxies.
const (
	KubeAPIFrontend = "kube-apiserver"
	KubeAPIBackend  = "kube-apiserver"
)

// DefaultStatsBind is where KubeAPIServer puts the stats/health listener.
var DefaultStatsBind = netip.MustParseAddrPort("127.0.0.1:8404")

// KubeAPIOptions describe a load balancer in front of Kubernetes API
// servers. Zero fields take the defaults documented on each.
type KubeAPIOptions struct {
	// Bind is the load balancer's listening address: the cluster's
	// controlPlaneEndpoint. Default 0.0.0.0:6443.
	Bind netip.AddrPort
	// Servers are the API servers (control planes at their apiPort).
	Servers []Server
	// CAFile, when set, makes the health check verify each API server's
	// certificate against the cluster CA. Empty checks with "verify none":
	// the CA does not exist yet when the load balancer must come up, before
	// kubeadm init.
	CAFile string
	// Inter, Rise, Fall: health-check timing. Defaults 2s, 2, 3 (HAProxy's
	// own): a dead API server leaves the rotation within 6s and returns 4s
	// after it is ready again.
	Inter      time.Duration
	Rise, Fall int
	// ConnectTimeout bounds a connection attempt to an API server; a server
	// whose host died without a word (no RST) costs a client this long
	// before the retry goes elsewhere. Default 5s.
	ConnectTimeout time.Duration
	// StatsBind is the loopback stats/health listener. Default 127.0.0.1:8404.
	StatsBind netip.AddrPort
	// Redispatch retries a failed connection on another server. Default on;
	// NoRedispatch turns it off (only tests want that).
	NoRedispatch bool
	// Unprivileged leaves out chroot, user and group, for an HAProxy run by
	// an ordinary user (tests); the default drops to user haproxy in
	// /var/lib/haproxy as Debian's package sets up.
	Unprivileged bool
	// StatsSocket is the admin socket path. Default /run/haproxy/admin.sock;
	// "-" means none.
	StatsSocket string
}

// KubeAPIServer returns the config for a load balancer in front of the
// Kubernetes API servers, the way kubeadm's HA guide sets one up:
//
//   - TCP mode, so the clients' TLS goes through to the API servers
//     untouched and client certificates keep working;
//   - round robin over all servers;
//   - a health check that asks each server GET /readyz over TLS and expects
//     200 (/healthz is deprecated since Kubernetes 1.16; /readyz is the one
//     meant for routing), so a server that is down or not ready leaves the
//     rotation within Fall×Inter;
//   - retries 3 with option redispatch, so a client whose connection went to
//     a server that just died is sent to another one instead of failing;
//   - timeouts from kubeadm's example (connect 5s, client/server 35s, check
//     10s) plus a 1h tunnel timeout so watches are not cut every 35s;
//   - a stats page and a /healthz on 127.0.0.1:8404 that fails when no API
//     server is up.
//
// It does not balance etcd (2379): etcd clients, the API servers included,
// take the list of every member and fail over between them themselves; a
// load balancer in between only hides which members are healthy and adds a
// hop and a single point of failure.
func KubeAPIServer(o KubeAPIOptions) (Config, error) {
	if len(o.Servers) == 0 {
		return Config{}, errors.New("kube-apiserver load balancer: servers: at least one control plane is needed")
	}
	if !o.Bind.IsValid() {
		o.Bind = netip.AddrPortFrom(netip.IPv4Unspecified(), 6443)
	}
	if o.Inter == 0 {
		o.Inter = 2 * time.Second
	}
	if o.Rise == 0 {
		o.Rise = 2
	}
	if o.Fall == 0 {
		o.Fall = 3
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if !o.StatsBind.IsValid() {
		o.StatsBind = DefaultStatsBind
	}
	switch o.StatsSocket {
	case "":
		o.StatsSocket = "/run/haproxy/admin.sock"
	case "-":
		o.StatsSocket = ""
	}
	g := Global{
		Log:           "/dev/log",
		MaxConn:       4096,
		StatsSocket:   o.StatsSocket,
		HardStopAfter: time.Hour,
	}
	if !o.Unprivileged {
		g.Chroot, g.User, g.Group = "/var/lib/haproxy", "haproxy", "haproxy"
	}
	c := Config{
		Global: g,
		Defaults: Defaults{
			Mode:       ModeTCP,
			Log:        true,
			Retries:    3,
			Redispatch: !o.NoRedispatch,
			Timeouts: Timeouts{
				Connect: o.ConnectTimeout,
				Client:  35 * time.Second,
				Server:  35 * time.Second,
				Tunnel:  time.Hour,
				Check:   10 * time.Second,
				Queue:   20 * time.Second,
			},
		},
		Stats: &Stats{
			Bind:      o.StatsBind,
			URI:       "/stats",
			HealthURI: "/healthz",
			HealthyIf: []string{KubeAPIBackend},
		},
		Frontends: []Frontend{{
			Name:           KubeAPIFrontend,
			Mode:           ModeTCP,
			Binds:          []netip.AddrPort{o.Bind},
			DefaultBackend: KubeAPIBackend,
		}},
		Backends: []Backend{{
			Name:    KubeAPIBackend,
			Mode:    ModeTCP,
			Balance: "roundrobin",
			Check: &HealthCheck{
				Method:       "GET",
				Path:         "/readyz",
				ExpectStatus: 200,
				TLS:          true,
				CAFile:       o.CAFile,
				Inter:        o.Inter,
				Rise:         o.Rise,
				Fall:         o.Fall,
			},
			Servers: o.Servers,
		}},
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
