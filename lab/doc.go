// Package lab is a local stand-in for the hardware of a planetstage
// topology: the underlay and every site become internal Docker networks with
// the topology's prefixes, every router and host a container at its
// topology address, reached from this machine over real SSH with host keys
// the lab made and recorded in a known_hosts file. Nothing in a lab has a
// route to the outside world; every packet stays on this machine.
//
// The node image is built here, never pulled: mmdebstrap makes a Debian root
// file system from the machine's configured Debian mirror (read from the apt
// sources at run time) and `docker import` turns it into
// planetstage/node:<hash of the recipe>, reused while the recipe is
// unchanged.
//
// A test brings a lab up in a few lines:
//
//	l, err := lab.Up(ctx, spec, lab.Options{})
//	require.NoError(t, err)
//	t.Cleanup(func() { l.Down(context.Background()) })
//	m, err := l.Matrix(ctx) // ping from inside every machine to every other
//
// Routers get NET_ADMIN and /dev/net/tun and forward; hosts get no extra
// capability and route to other sites via their site's router. Docker talks
// through the docker CLI (see docker.go for why).
package lab
