// Package wan gives a staging environment the latency of real distances:
// a latency model for the site pairs of a topology, a user-space UDP relay
// that imposes it in the lab, and renderers that impose it on hardware
// routers.
//
// # The latency model
//
// A site is placed by coordinates (Coord) or by the name of a city from a
// built-in table of 56 major cities (LookupCity, Cities). For a pair of
// placed sites the model takes the great-circle distance by the haversine
// formula on a sphere of radius 6371 km (the IUGG mean Earth radius), and
//
//	RTT = 2 × distance × inflation / 200 000 km/s
//
// 200 000 km/s is the speed of light in optical fibre: c / n with a
// refractive index n ≈ 1.47 for silica fibre (ITU-T G.652 fibre, for
// example), i.e. about two thirds of c. The route inflation (default 1.5,
// Model.Inflation) accounts for fibre not following the great circle:
// cables follow coasts, roads and sea-floor routes, and traffic is routed
// through exchange points. Measurement studies of Internet latency (for
// example Singla et al., "The Internet at the Speed of Light", HotNets
// 2014, and Bozkurt et al., "Why Is the Internet so Slow?!", PAM 2017)
// find real RTTs well above the speed-of-light bound for both reasons;
// 1.5 is a common rule of thumb for the path-length part and is a
// parameter, not a law. Paths that are routed far off the great circle
// (Tokyo–Europe via the US, say) are better given explicitly: a Link set
// in Model.Links (RTT, jitter, loss) overrides the model for its pair.
//
// Tokyo–London is 9 560 km on the great circle, so the model gives
// 2 × 9 560 × 1.5 / 200 000 s ≈ 143 ms; the tests check distances against
// published values.
//
// The model sets each tunnel's latency. Two sites without a tunnel of
// their own (spokes of a hub, or of two regional hubs: package tunnel's
// Model.Path) are as far apart as the tunnels their traffic crosses, so
// the RTT between them is the sum of those tunnels' RTTs, longer than the
// great circle between the two: London to Seoul through the Frankfurt and
// Tokyo hubs is 167 ms against the direct 133 ms, as a real packet between
// two far cities crosses the exchanges of their regions. The planet50
// preset (GeoPresetCities) is 50 cities on six continents with six such
// hubs.
//
// # The relay (lab)
//
// The lab's kernel has no netem qdisc, so Path emulates one WAN path in
// user space. It has one UDP socket facing each end: end A (an OpenVPN
// router, say) is configured with the relay's A-facing address as its
// peer (OpenVPN's remote), B likewise with the B-facing address. What
// arrives on the A-facing socket from A is delayed and sent from the
// B-facing socket to B, and B's replies go back the same way, so each end
// sees its peer at one fixed address and no OpenVPN float is needed.
// Datagrams from any other source are ignored (DirStats.Foreign). A
// topology with n sites in a mesh needs n(n−1)/2 paths, two sockets each.
//
// Per direction, a reader goroutine takes each datagram with its kernel
// receive timestamp (SO_TIMESTAMPNS), drops it with the configured loss
// probability, and queues it with a due time of arrival + delay (±
// uniform jitter); a scheduler goroutine sends it when due. Without
// jitter datagrams keep their order; with jitter they are released in due
// order, so they reorder as on a real path with variable delay. Go timers
// wake up to about a millisecond late, so the scheduler waits on a timer
// only until 2 ms before the due time and then sleeps with nanosleep(2),
// waking a self-tuned lead early so that the median datagram leaves on
// time; with PathConfig.Realtime (root or CAP_SYS_NICE) that sender
// thread runs at a low realtime priority so that a busy machine does not
// delay it. The random numbers come from a seeded PCG, so a run is
// repeatable. The queue is bounded (PathConfig.QueueLimit); overflow is
// dropped and counted. DirStats.LateMedian is the relay's own error: how
// late the last 1024 datagrams left against their due times.
//
// Limits, measured on this project's 2-core build machine while other
// builds were running (BenchmarkDirect, BenchmarkRelay,
// BenchmarkRelayDelayed; 1400-byte datagrams on loopback):
//
//   - accuracy: with Realtime, the median RTT through a path (endpoint
//     turnaround subtracted) is within 0.3 % of the target at 10, 50 and
//     150 ms, and the relay's own median lateness is a few microseconds,
//     even at a load average of 20 on 2 cores; single datagrams can still
//     be late by milliseconds. Without realtime priority the median was
//     off by up to 7 % at 10 ms under that load (within 2 % when idle).
//   - through real OpenVPN 2.6 tunnels (three sites placed by the
//     "planet" preset, 140–280 ms), the ping medians read 0.0–0.7 % above
//     the targets. The tunnel itself adds a little (tun device,
//     encryption, wake-ups): 1–3 ms, up to +10 % at 150 ms when the
//     OpenVPN daemons wait for a CPU on a loaded machine; at realtime
//     priority (chrt --rr 10) they stay within 0.5 %. The relay's own
//     lateness stays in microseconds throughout. In the Docker lab, which
//     places the relay itself (package lab: on the underlay bridge's
//     address, each tunnel end's remote pointed at its face), the
//     `planet` medians read −0.01 to +0.39 %, the last being ping's
//     whole-millisecond rounding above 100 ms; the tunnels add 0.3–0.4 ms
//     to every RTT (+3–4 % at 10 ms).
//   - rate: 50 000–88 000 datagrams/s per direction without delay, and
//     38 000–48 000/s with 25 ms of delay (the benchmark keeps at most
//     1 500 datagrams in flight, so it cannot show more than 60 000/s
//     there): 400–900 Mbit/s of full-size datagrams, far above what the
//     lab's OpenVPN tunnels carry (30–60 Mbit/s here).
//   - CPU: 6–10 µs of CPU per datagram on top of the sender's and
//     receiver's own (11–17 µs through the relay against 5–6 µs direct),
//     so one core is saturated at roughly 100 000 datagrams/s.
//     In the lab, with OpenVPN's traffic at 9 600 datagrams/s and the
//     machine loaded, the relay process took 45 µs per datagram (43 % of
//     a core for one 77 Mbit/s tunnel): about 22 000 datagrams/s per
//     core, some 200 Mbit/s of full-size tunnel packets.
//   - the relay adds no delay of its own beyond that: about 70 µs of
//     loopback RTT without it.
//   - it emulates latency, jitter and loss, not bandwidth limits,
//     corruption or duplication.
//
// # Hardware
//
// On real routers the same links become netem egress policies on each
// router's tunnel interface towards the peer, half of the RTT on each side
// (Link.Sides): VyOSNetem renders `traffic-policy network-emulator`
// (VyOS 1.2 and 1.3) or `qos policy network-emulator` (1.4 and later) set
// commands, LinuxNetem renders `tc qdisc replace … netem` commands. What a
// target cannot express (jitter on VyOS; fractions of a millisecond or a
// percent on VyOS 1.4+) is reported in Script.Notes.
//
// # Measuring
//
// MeasureSites (ping medians through the tunnels against the targets) and
// MeasureTunnels (iperf3 TCP throughput through a tunnel and directly,
// with the routers' CPU meanwhile: ProcStatCPU for a router that is a
// machine, CgroupCPU for a lab container, ProcessCPU for one daemon) act
// through remote.Runner and yield a Report: the JSON rows of `stage verify
// --measure --json` and a Markdown table.
package wan
