package openvpn

import (
	"errors"
	"fmt"

	"github.com/planetstage/planetstage/tunnel"
)

// Auth says how the two ends of a tunnel authenticate each other.
type Auth string

const (
	// TLS uses a self-signed certificate per router, pinned by its SHA-256
	// fingerprint on the peer. One end is the TLS server (passive), the
	// other the client (active): two clients never connect.
	TLS Auth = "tls"
	// StaticKey uses one pre-shared key per tunnel. It is what VyOS 1.2 and
	// 1.3 offer; OpenVPN 2.6 deprecates it and 2.7 refuses it unless
	// --allow-deprecated-insecure-static-crypto is given. See StaticKeyWarning.
	StaticKey Auth = "static-key"
)

// StaticKeyWarning is the warning a caller should surface when a topology
// uses static keys.
const StaticKeyWarning = "static-key mode is deprecated by OpenVPN 2.6 and refused by OpenVPN 2.7 " +
	"without --allow-deprecated-insecure-static-crypto; use auth: tls where every router runs VyOS 1.4+ or Linux"

// Role is the TLS role of one end of a tunnel.
type Role string

const (
	// Passive ends wait for the peer: tls-server (VyOS "tls role passive").
	Passive Role = "passive"
	// Active ends start the handshake: tls-client (VyOS "tls role active").
	Active Role = "active"
)

// Keepalive sets OpenVPN's ping and ping-restart, in seconds. A peer that
// restarts is reconnected within Restart seconds without operator action.
type Keepalive struct {
	Interval int // ping; default 10
	Restart  int // ping-restart; default 60
}

// DefaultPort is OpenVPN's registered UDP port, the usual tunnel.Spec.Port
// of the first tunnel.
const DefaultPort = 1194

// Options are the OpenVPN settings that every tunnel of a model shares.
type Options struct {
	Auth      Auth // default TLS
	Keepalive Keepalive
}

// Model is a tunnel model (package tunnel) carried by OpenVPN: the tunnels
// and routes, and the options. LoadKeys, Config, Linux and package vyos
// take it.
type Model struct {
	*tunnel.Model
	Options
}

// New checks o and fills its defaults, for the tunnels of m. Errors name
// the option at fault; every problem is reported at once.
func New(m *tunnel.Model, o Options) (*Model, error) {
	if m == nil {
		return nil, errors.New("openvpn: no tunnel model")
	}
	if o.Auth == "" {
		o.Auth = TLS
	}
	if o.Keepalive.Interval == 0 {
		o.Keepalive.Interval = 10
	}
	if o.Keepalive.Restart == 0 {
		o.Keepalive.Restart = 60
	}
	// Names reach openvpn.conf and the boot script; a Model built without
	// tunnel.New has not had them checked.
	errs := []error{m.CheckNames()}
	if o.Auth != TLS && o.Auth != StaticKey {
		errs = append(errs, fmt.Errorf("openvpn: auth %q: want %q or %q", o.Auth, TLS, StaticKey))
	}
	if o.Keepalive.Interval < 1 || o.Keepalive.Restart <= o.Keepalive.Interval {
		errs = append(errs, fmt.Errorf("openvpn: keepalive %d/%d: want interval >= 1 and restart > interval", o.Keepalive.Interval, o.Keepalive.Restart))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Model{Model: m, Options: o}, nil
}

// Interface is the name of the interface of the tunnel with index, "vtun"
// and the index. Both routers of a tunnel use it, so "vtun2" names the same
// tunnel on both.
func Interface(index int) string { return fmt.Sprintf("vtun%d", index) }

// RoleOf is the TLS role of site's end of t: the end that listens
// (t.Ends[0]) is passive, the end that initiates active.
func RoleOf(t tunnel.Tunnel, site string) Role {
	if t.Ends[0].Site == site {
		return Passive
	}
	return Active
}
