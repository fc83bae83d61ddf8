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
//	res, err := l.Apply(ctx, lab.ApplyOptions{}) // returns once the tunnels carry every pair
//	m, err := l.Matrix(ctx)                      // ping from inside every machine to every other
//
// Apply plans the layers (package layer) against Topology() with Env() and
// walks the plan; by default every layer but the cluster, which needs
// Options.Kubernetes (the offline node image of lab/k8snode). A program
// with layers of its own passes its layer.Set in ApplyOptions.
//
// Each hypervisor of the topology becomes govmomi's ESXi simulator in this
// process, and a machine on it gets its container when the machines layer
// powers its VM on (the lab's provider wraps the ESXi one). Routers of kind
// vyos run as Linux routers: the lab does not run VyOS (Notes says so).
// l.Dial is the plan's SSH; l.Exec runs commands through docker exec for
// looking from inside; Stop, Kill and Start play faults; AddHost and
// LoseControlPlane are the thesis's experiments; Usage and MeasureWAN say
// what the testbed costs and how its tunnels perform.
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
// It runs in this process for as long as the Lab, or, with
// Options.RelayCommand, as a process of its own that outlives the program
// (stage apply --lab exits, stage verify --lab measures later): the lab
// keeps its pid in the state directory, Apply restarts it when it is gone,
// and Down stops it either way.
//
// Routers get NET_ADMIN and /dev/net/tun and forward; hosts get no extra
// capability and route to other sites via their site's router. Docker is
// driven through its CLI (see docker.go for why).
package lab
