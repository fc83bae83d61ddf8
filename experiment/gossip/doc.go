// Package gossip stages a real peer-to-peer system on a running testbed
// and measures it through a partition: libp2p gossipsub peers (go-libp2p
// v0.52.0, go-libp2p-pubsub v0.19.0), one per worker, every one
// publishing, every one recording when each message arrived.
//
//	l := …                                                  // a lab with its cluster up (lab.Options.Kubernetes)
//	b, _ := l.Bootstrapper()
//	res, err := gossip.Run(ctx, experiment.ForLab(l), b, gossip.Options{
//		Dir: "results/gossip",                              // package experiment's folder, plus results.json
//	})                                                      // PeerSource empty: the built-in peer
//	res.WriteText(os.Stdout)                                // latency per site pair, delivery per site and phase
//	// res.Problems: the must-holds that failed, none on a good run
//
// # What Run does
//
//  1. Builds the peer (BuildPeer: go build of the built-in peer's module,
//     or of one at PeerSource, static, its dependencies from the Go
//     module proxy) and packs it into
//     an image of one layer (Image: a docker-save archive, tagged by the
//     binary's hash). No registry: the archive is copied to every worker
//     over the testbed's SSH and imported into containerd's k8s.io
//     namespace with ctr.
//  2. Runs the peers through the cluster: a DaemonSet (kubeadm.Workload)
//     on every worker, in the node's network (a P2P node listens on its
//     machine's address), imagePullPolicy Never. The peer is a module of
//     its own, shipped in this package's directory peer (go.mod.in,
//     go.sum, and a main.go that planetstage's builds ignore), so that
//     libp2p is never a dependency of planetstage while an importer of
//     planetstage still gets its source (WritePeerSource).
//  3. Waits until every peer has heard every other. Peers find each other
//     with no DHT or registry: each gets the list of workers and a seed
//     for the run, derives every peer's key from the seed and its name,
//     and dials every other peer's address, again every second while not
//     connected (clearing libp2p's dial backoff, which would otherwise
//     keep a healed peer away for minutes).
//  4. Starts an experiment (package experiment: RTT probes, events, the
//     results folder and report.html) and, on it, lets the peers gossip
//     for Before, partitions the site Partition (its tunnels cut on the
//     WAN relay) for During, heals it, and goes on for After.
//  5. Every ProbeInterval collects every peer's state (GET /state, asked
//     with curl on the peer's own node over SSH: in the lab that path
//     does not cross the relay, so a cut site is still read), adds each
//     site's receive rate to the run's timeline and rewrites results.json,
//     peers.json and the report's tables. A run cut short (ctx cancelled,
//     Ctrl-C) heals a cut still in force, collects once more and leaves
//     what it measured in the folder; the DaemonSet is removed unless
//     Keep.
//
// # What is measured
//
// Compute turns the peers' states into Results. Latency is the receive
// time minus the send time the publisher wrote in the message. That is
// one-way latency only where the peers read one clock: in the lab every
// container reads the host's; on hardware the nodes' clocks must be
// synchronised, and their error bounds what this can say. Pairs are per
// ordered pair of sites (publisher's to receiver's): p50 and p99 of the
// messages delivered within Deadline, the least latency of any message,
// and the emulated one-way delay along the route (the WAN relay's shapes,
// summed over the sites topology.SitePath crosses) and RTT. Delivery is
// per site and phase: of the messages the other sites published in the
// phase — at least Deadline before its end, so that each one's deadline
// falls in the phase too — the share the site's peers received within
// Deadline.
//
// The must-holds are checks on that data, each shown to fail on a broken
// run in the unit tests: no message between two sites faster than the
// floor of their emulated one-way delay (its delay less jitter); nothing
// crossing between the cut site and the others while the cut holds (after
// what was in flight at the cut, at most the longest one-way delay and a
// second, has landed), so its delivery during the partition is zero; and
// the cut site receiving before the partition and again after the heal.
//
// Topology is the smallest testbed for it: three sites in a geo preset's
// first three cities, a load balancer and one control plane in the first,
// a worker in each; the last site, which holds no control plane, is the
// one cut by default, so the API stays up.
//
// Tested: Compute, the archive, the options and the topology by unit
// tests; the whole run by TestGossipAcrossThePlanet in a lab with a real
// cluster, real peers and the real relay (PLANETSTAGE_HEAVY_TESTS=1, with
// the node image built). Not run on hardware.
package gossip
