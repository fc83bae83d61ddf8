// Package lab is a local stand-in for the hardware of a planetstage
// topology: the underlay and every site become internal Docker networks with
// the topology's prefixes, every router and host a container at its
// topology address, reached from this machine over real SSH with host keys
// the lab made and recorded in a known_hosts file. Nothing in a lab has a
// route to the outside world; every packet stays on this machine.
//
// A test brings a topology up, applies its plan as on hardware, and checks
// reachability in a few lines:
//
//	l, err := lab.Up(ctx, topo, lab.Options{StateDir: t.TempDir()})
//	require.NoError(t, err)
//	t.Cleanup(func() { l.Down(context.Background()) })
//	g, err := layer.Plan(l.Topology(), l.Env(state))
//	res, err := plan.Walk(ctx, g, plan.Options{Apply: true})
//	m, err := l.Matrix(ctx) // ping from inside every machine to every other
//
// Each hypervisor of the topology becomes govmomi's ESXi simulator in this
// process, and a machine on it gets its container once the plan has powered
// its VM on. Routers of kind vyos run as Linux routers (Notes says so).
// l.Dial is the plan's SSH; l.Exec runs commands through docker exec for
// looking from inside; Stop, Kill and Start play faults.
//
// The node image is built here, never pulled: mmdebstrap makes a Debian root
// file system from the machine's configured Debian mirror (read from the apt
// sources at run time) and `docker import` turns it into
// planetstage/node:<hash of the recipe>, reused while the recipe is
// unchanged. A machine needs Docker (engine and CLI) and, for the first
// build, mmdebstrap (installed with apt when running as root).
//
// A topology with latency (a site with a location, or a latency section)
// gets a WAN relay (package wan; see Relay): this kernel has no netem, so
// Up starts one relay path per tunnel on the host's address on the
// underlay and Env points each tunnel end's OpenVPN remote at its face of
// the relay, which holds every datagram for the site pair's one-way delay.
// It runs in this process unless Options.RunRelay runs it elsewhere, and
// Down stops it.
//
// Routers get NET_ADMIN and /dev/net/tun and forward; hosts get no extra
// capability and route to other sites via their site's router. Docker is
// driven through its CLI (see docker.go for why).
package lab
