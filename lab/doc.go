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
// powers its VM on (the lab's provider wraps the ESXi one).
//
// Such a machine boots as a VMware guest does: the lab reads the user-data
// and meta-data the machines layer put on its VM (guestinfo.userdata and
// guestinfo.metadata), seeds them as NoCloud, and Debian's cloud-init,
// run at the container's start, installs the SSH host key and the
// authorized key from them: the lab does not install them itself, so a
// bootstrap that would leave a real VM unreachable leaves the lab's
// machine unreachable too. The host key is the one the lab's known_hosts
// lists (the lab passes it to the machines layer as layer.Env.HostKey).
// What cloud-init cannot do in a container is turned off in the image:
// the network (Docker gives each container its address; the meta-data's
// cards, matched by MAC address, are not a container's) and the host name
// (Docker's). Kubernetes nodes boot the same way: the node image carries
// cloud-init, and its init runs the same two stages before sshd
// (k8snode.CloudInitLabel marks an image that does). VyOS routers (the
// stand-in, or a real VyOS image) still get their keys from the lab, and
// so does every machine of an image given in Options.Image.
//
// Routers of kind vyos are configured by package vyos over SSH, as on
// hardware (set commands, commit, save, read-back), in one of two images:
//
//   - By default the VyOS stand-in, which is NOT VyOS: the node image plus
//     /bin/vbash from package vyos/vyosstandin (planetstage/vyos-standin,
//     built locally with go build and docker commit, nothing pulled). It
//     plays the router's VyOS version: it runs the configure session
//     package vyos sends, rejects paths outside that version's command
//     tree, and realises commits with Debian's openvpn and ip, using
//     VyOS's own rendering of openvpn.conf (vyos.OpenVPNConf), and with
//     wg and wireguard-go (the kernel's WireGuard where it has one) for
//     WireGuard interfaces. It proves
//     that planetstage's VyOS driver and its commands work end to end; it
//     proves nothing about VyOS's own software.
//   - A real VyOS image the user built (Options.VyOSImage and VyOSVersion,
//     or PLANETSTAGE_VYOS_IMAGE and PLANETSTAGE_VYOS_VERSION): started as
//     VyOS must be (--privileged, /lib/modules mounted read-only, its own
//     /sbin/init as PID 1); once its configuration system accepts a commit,
//     the lab installs its SSH key for the user vyos with "set system login
//     user vyos authentication public-keys …" (and SSH and the two
//     addresses) through docker exec, then drives it over SSH as the user
//     vyos, like hardware. This path has NOT been run: no VyOS image exists
//     on the machines that build planetstage. TestRealVyOS runs it when the
//     variable is set.
//
// To build an image from a VyOS ISO (VyOS's docs,
// docs/installation/virtual/docker.rst):
//
//	mkdir rootfs unsquashfs
//	sudo mount -o loop vyos-1.4.x-amd64.iso rootfs
//	sudo unsquashfs -f -d unsquashfs/ rootfs/live/filesystem.squashfs
//	sudo tar -C unsquashfs -c . | docker import - vyos:1.4
//	PLANETSTAGE_VYOS_IMAGE=vyos:1.4 PLANETSTAGE_VYOS_VERSION=1.4 go test -run TestRealVyOS ./lab
//
// Notes and Routers say which routers run in the stand-in (and as which
// version), in real VyOS, or as Linux; Report.Routers records it.
//
// l.Dial is the plan's SSH; l.Exec runs commands through the engine's exec
// (a cancelled one is killed) for looking from inside; Stop, Kill and
// Start play faults; AddHost grows the running testbed by a machine (the
// thesis's experiments, adding a node and losing a master, are package
// testbed's, which runs them in the lab and on hardware); Usage and
// MeasureWAN say
// what the testbed costs and how its tunnels perform; CompareTunnelKinds
// measures OpenVPN and WireGuard side by side on the running lab, without
// latency (the relay's shaping off) and with the topology's, and puts the
// topology's kind back; Inspect lists the
// machines, tunnels and relay with what runs (package inventory).
//
// A harness records and checks a run with the pieces the examples use:
// Progress prints the phases; Report keeps the steps, phases and timings
// as JSON and prints the timing table; WithinSites with Matrix.Mismatches
// checks the matrix before the tunnels, Matrix.CheckConnected after them,
// and Matrix.WriteRTTs prints what crossed them; UpOrAttach reuses a lab
// an earlier run left up; TotalUsage sums what the containers use.
//
// The node image is built here, never pulled: mmdebstrap makes a Debian root
// file system from the machine's configured Debian mirror (read from the apt
// sources at run time) and `docker import` turns it into
// planetstage/node:<hash of the recipe>, reused while the recipe is
// unchanged. A machine needs a Docker engine and, for the first build,
// mmdebstrap (installed with apt when running as root); the docker CLI
// only for the Kubernetes node image (lab/k8snode).
//
// A topology with latency (a site with a location, or a latency section)
// gets a WAN relay (package wan; see Relay): this kernel has no netem, so
// Up starts one relay path per tunnel on the host's address on the
// underlay and Env points each tunnel end (OpenVPN's remote, WireGuard's
// peer endpoint) at its face of the relay, which holds every datagram for
// the site pair's one-way delay. It runs in this process for as long as
// the Lab, or, with Options.RelayCommand, as a process of its own that
// outlives the program (stage apply --lab exits, stage verify --lab
// measures later): the lab keeps its pid in the state directory, Apply
// restarts it when it is gone or when the topology's tunnels changed (a
// re-applied file with another mode, port or vpn.type), and Down stops it
// either way.
//
// A router container runs either kind of tunnel: the image has openvpn,
// and wireguard-go with wireguard-tools, since this kernel has no
// WireGuard module (Notes says which runs).
//
// Routers get NET_ADMIN and /dev/net/tun and forward; hosts get no extra
// capability and route to other sites via their site's router.
//
// Docker is driven through its Engine API with dockertest's Pool and the
// go-dockerclient it wraps, found as dockertest finds it (DOCKER_HOST, else
// the local socket), never through the docker CLI: docker.go holds the
// typed operations (containers, networks, exec, stats, images), and
// dockerapi.go the few requests whose fields go-dockerclient lacks
// (HostConfig's CgroupnsMode and masked paths, an exec's process id,
// import with Dockerfile changes), sent over that client's own transport.
// The Engine API cannot stop an exec; a cancelled one's process and its
// children are killed by the process id the engine reports. Everything a
// lab makes carries the label io.planetstage.lab=<name>, by which Down
// finds it; a machine's container also io.planetstage.machine and
// io.planetstage.role, a network io.planetstage.image (the image its
// firewall helper runs), a short-lived helper io.planetstage.helper.
package lab
