// Package tunnel is planetstage's model of the site-to-site tunnels,
// whatever carries them.
//
// New turns plain inputs (sites with their router's WAN and LAN addresses
// and prefix; mesh or hub-and-spoke; a transit prefix; a base port) into
// tunnels: which site pairs are joined, the UDP port of each tunnel, a /30
// per tunnel cut from the transit prefix, which end listens and which
// initiates, and every router's routes to the other sites (direct, or
// through the hub). In hub-and-spoke mode a spoke also routes the whole
// transit prefix to the hub: a spoke router's own packets carry its tunnel
// address as source, and the other spokes answer them through the hub.
// Spec.Remotes points a tunnel end somewhere other than its peer (the lab's
// WAN relay).
//
// The model knows no tunnel software: no interface names, keys, ciphers or
// daemons. Those belong to a tunnel kind built on top of it. Package
// openvpn is the one planetstage ships: it names tunnel i's interface
// "vtun<i>", makes the listening end the TLS server, and renders
// openvpn.conf for Linux routers, while package vyos renders the same
// tunnels as VyOS set commands. A new kind is a package that takes a
// *Model and its own options and renders or applies them, plus a
// layer.TunnelKind that plugs it into the routers layer under a
// topology vpn.type; the relay, the latency matrix and the measurements
// work from this model and need no change.
//
// The model does not depend on planetstage's topology types, so any
// program can build on it. It checks what it is given as strictly as
// package topology does: site and router names must be DNS labels
// (lower-case letters, digits and '-'), because tunnel kinds write them
// into configs, file names and shell scripts. A kind given a Model built
// without New checks the names again with Model.CheckNames.
package tunnel
