// Package wireguard carries planetstage's site-to-site tunnels (package
// tunnel) with WireGuard, and is its Linux router driver: the second
// tunnel kind, beside package openvpn.
//
// The tunnels themselves — which site pairs are joined, ports, the /30
// transit networks, routes — are package tunnel's kind-neutral model. New
// puts WireGuard's options on one (Options: persistent keepalive, a
// pre-shared key per tunnel, endpoints of routers behind NAT) and returns
// the Model everything here takes. Tunnel i is the interface "wg<i>" on
// both of its routers (Interface), with one peer: the other end. Its
// allowed-ips (Model.AllowedIPs) are the peer's transit address and every
// prefix the router routes through the tunnel, so WireGuard's cryptokey
// routing agrees with the kernel routes and drops what the peer has no
// business sending. Where a peer is reached (Model.Endpoint) is its WAN
// address and the tunnel's port, unless tunnel.Spec.Remotes (the lab's
// WAN relay) or Options.Endpoints say otherwise. Package vyos renders the
// same Model as VyOS set commands.
//
// LoadKeys makes the keys in Go (golang.org/x/crypto/curve25519): a
// private key per router, clamped as "wg genkey" does, and with
// PresharedKey a pre-shared key per tunnel, kept in a secret.Store (0600
// in a secret.Dir) as wireguard/ROUTER.key and wireguard/TUNNEL.psk, the
// public key beside it as wireguard/ROUTER.pub. They are reused on the
// next run, so a re-apply changes nothing; a stored key that does not
// parse is an error naming the entry, never replaced behind the user's
// back. Key.String prints a key, so callers show secret.Redacted in its
// place unless asked (planetstage's --show-secrets).
//
// Linux applies a router's tunnels: per tunnel a configuration in the
// form "wg setconf" reads (mode 0600: it holds the private key), an
// interface made by the kernel's WireGuard where "ip link add type
// wireguard" works, else by wireguard-go (Debian's package) on
// /dev/net/tun, which ends when its interface is deleted; then the transit
// address, IP forwarding and "ip route replace" to every other site.
// Inspect compares what "wg show IFACE dump" and ip(8) report with the
// model and names what differs (never a key), so a second Apply changes
// nothing; Probe and Drift.Implementation say which implementation runs
// ("wireguard-go: this kernel has no WireGuard module"). Interfaces whose
// configuration Apply wrote but the model no longer has are removed;
// Remove takes every interface (and with it its routes and its
// wireguard-go) and file away. A boot script (DefaultBootScript) brings
// missing interfaces and the routes back after a reboot, as package
// openvpn's does.
//
// Tested against real software: the package's tests run wireguard-go
// 0.0.20220316 and wireguard-tools 1.0.20210914 (Debian's) in network
// namespaces — this machine's kernel has no WireGuard module — for a
// 3-site mesh with pre-shared keys and a 4-site hub-and-spoke, and ping
// every site's host and router from every other's; then they re-apply
// (no change, same daemons), delete every interface and run only the boot
// scripts, reconfigure a setting in place, switch the mesh to
// hub-and-spoke (the stale interface and its daemon go), and remove it
// all. They need root, /dev/net/tun, ip(8), wg(8) and wireguard-go, and
// skip otherwise. Public keys are checked against "wg pubkey".
package wireguard
