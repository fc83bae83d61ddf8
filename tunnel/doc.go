// Package tunnel is planetstage's model of the site-to-site tunnels,
// whatever carries them.
//
// New turns plain inputs (sites with their router's WAN and LAN addresses
// and prefix; mesh, hub-and-spoke or regional hubs; a transit prefix; a
// base port) into tunnels: which site pairs are joined, the UDP port of
// each tunnel, a /30 per tunnel cut from the transit prefix, which end
// listens and which initiates, and every router's routes to the other
// sites along the Path between them (direct, through the hub, or spoke,
// hub, hub, spoke between two regions). A spoke also routes the whole
// transit prefix to its hub, and a regional hub the other hubs' spoke
// tunnels to those hubs: a router's own packets carry a tunnel address as
// source, and every other site must be able to answer them.
//
// Regional mode is how the Internet is shaped: the hubs are joined in a
// full mesh, every other site to one hub (Site.Hub; package topology picks
// the nearest by great-circle distance unless the file names one). Two
// spokes of different hubs are then further apart than the great circle
// between them: their traffic goes through both hubs, and its latency is
// the sum of the three tunnels', as a packet between two far cities
// crosses their regions' exchanges rather than the straight line.
// Spec.Remotes points a tunnel end somewhere other than its peer (the lab's
// WAN relay).
//
// The model knows no tunnel software: no interface names, keys, ciphers or
// daemons. Those belong to a tunnel kind built on top of it. planetstage
// ships two. Package openvpn names tunnel i's interface "vtun<i>", makes
// the listening end the TLS server, and renders openvpn.conf for Linux
// routers; package wireguard names it "wg<i>", gives it one peer whose
// allowed-ips follow the routes, and configures Linux routers with wg(8)
// (the kernel's WireGuard or wireguard-go); package vyos renders both as
// VyOS set commands. A new kind is a package that takes a
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
