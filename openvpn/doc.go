// Package openvpn carries planetstage's site-to-site tunnels (package
// tunnel) with OpenVPN, and is its Linux router driver: one tunnel kind.
//
// The tunnels themselves — which site pairs are joined, ports, transit
// addresses, routes — are package tunnel's kind-neutral model. New puts
// OpenVPN's options on one (Options: TLS or static keys, keepalive) and
// returns the Model that everything here takes. What OpenVPN adds to a
// tunnel follows from the neutral model: tunnel i's interface is "vtun<i>"
// on both routers (Interface), and the end that listens (Ends[0]) is the
// TLS server, "passive", the end that initiates the client, "active"
// (RoleOf). Package vyos renders the same Model as VyOS set commands.
//
// Another tunnel kind does not go here: it is a package of its own on top
// of package tunnel, plugged into planetstage's routers layer as a
// layer.TunnelKind (layer.OpenVPN is this package's).
//
// LoadKeys creates key material in Go and keeps it in a secret.Store the
// caller provides (topology.State in planetstage's CLI): with TLS, one
// self-signed ECDSA P-256 certificate per router, pinned by its SHA-256
// fingerprint on the peer; with StaticKey, one OpenVPN static key per tunnel.
// Keys are reused on the next run, so a re-apply changes nothing. A static
// key is stored as openvpn/ROUTER_ROUTER.static.key (tunnel.Tunnel.Name);
// stores written before that name kept keys as ROUTER-ROUTER, which two
// tunnels could share (routers a-b and c, a and b-c). Such a key is still
// used, copied to the new name, when only one tunnel of the model maps to
// it; otherwise each tunnel gets a new key of its own.
//
// Config renders the openvpn.conf of one tunnel end. Linux applies a router's
// tunnels and routes over a remote.Runner: it writes configs and keys (keys
// mode 0600), enables IP forwarding, creates the tun devices, starts the
// openvpn daemons (restarting one only when its files changed) and installs
// the routes with "ip route replace". Linux.Inspect reports what Apply would
// change without changing anything.
//
// Files equal to the model do not prove that a daemon runs them: an apply
// can stop after writing them and before restarting the daemon. Each
// (re)start records a SHA-256 of the daemon's files next to its pid file
// (RunDir/vtunN.loaded), removed before the start and written once the
// daemon runs (by Apply and by the boot script); Inspect reports a restart
// for a running daemon whose record is missing or names other files. A
// router set up before this record existed has each daemon restarted once
// by its next apply.
//
// Reboots: the daemons and routes do not survive one, and the driver runs no
// service manager. Apply also writes an idempotent boot script,
// DefaultBootScript (/etc/planetstage/boot.d/50-openvpn, mode 0755), that
// runs the same commands from the files Apply wrote: forwarding, tun devices,
// every daemon not already running, routes. planetstage's lab node image runs
// every executable in /etc/planetstage/boot.d at each container start. On a
// machine with systemd nothing runs that directory by itself; install a
// oneshot unit once (not written by planetstage, and not tested here):
//
//	[Unit]
//	Description=planetstage boot hooks
//	After=network-online.target
//	Wants=network-online.target
//	[Service]
//	Type=oneshot
//	RemainAfterExit=yes
//	ExecStart=/bin/sh -c 'for f in /etc/planetstage/boot.d/*; do [ -x "$$f" ] && "$$f"; done'
//	[Install]
//	WantedBy=multi-user.target
//
// ("$$" is systemd's escape for "$"; RemainAfterExit keeps the unit, and with
// it the forked daemons in its cgroup, active). Inspect reports a missing,
// different or non-executable boot script as drift.
//
// Tested against real software: the package's tests run OpenVPN 2.6 (Debian's
// openvpn package) in network namespaces for 2- and 3-site meshes and a
// hub-and-spoke (3 and 4 sites), and ping every site's host and router (LAN
// address) from every other site's host and router. They also kill every
// daemon and delete every tunnel device (and so the routes), run only the boot
// scripts, and ping again.
// They need root, /dev/net/tun, ip(8) and openvpn(8), and skip otherwise.
package openvpn
