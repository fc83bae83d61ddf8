// Package experiment runs an experiment on a running testbed: events on a
// schedule or on demand, probes on a fixed interval, and a results folder
// per run that a person can open.
//
//	l, _ := lab.Up(ctx, topo, lab.Options{})              // or labtest.Up in a test
//	run, err := experiment.Start(ctx, experiment.ForLab(l), experiment.Options{
//		Dir: "results/run1",
//		Schedule: []experiment.Scheduled{
//			{After: 30 * time.Second, Event: experiment.Event{Kind: experiment.Partition, Site: "tokyo"}},
//			{After: 60 * time.Second, Event: experiment.Event{Kind: experiment.Heal, Site: "tokyo"}},
//		},
//		Metrics: mySystemsCounters,                        // the system under test's own numbers
//	})
//	…
//	run.Do(ctx, experiment.Event{Kind: experiment.SetLink, From: "tokyo", To: "frankfurt",
//		Shape: &wan.Shape{Delay: 120 * time.Millisecond}})  // on demand
//	…
//	err = run.Stop()
//
// # Events
//
// Partition cuts every tunnel of a site (Heal restores them), SetLink gives
// a tunnel a new one-way delay, jitter and loss, StopMachine and
// StartMachine stop and start a machine. Each is timestamped and recorded
// with what it did and its outcome (Record), also when it fails. Every
// scheduled event is checked before the run starts — unknown site or
// machine, a shape an emulator cannot honour (negative delay, loss over
// 100 %), an offset in the past — and any fault is an error naming the
// value, with nothing done.
//
// The seam is Testbed. ForLab implements it on a running lab: cuts and
// shapes change on the lab's WAN relay (package wan's relay paths change
// their shape and are cut while they run, race-free: the shape is read per
// datagram through an atomic pointer), machines stop and start as their
// containers. The relay must run in the program's own process: a lab whose
// relay runs as a process of its own (lab.Options.RelayCommand) can be
// probed and its machines stopped and started, but a Partition or SetLink
// on it fails, saying so. A cut drops the datagrams between the routers,
// so OpenVPN sees a real outage: cut for longer than its keepalive timeout,
// a tunnel restarts once healed. A started machine boots afresh: what apply
// started in it (OpenVPN on a router) comes back with the next apply.
//
// ForTestbed implements it on a testbed.Testbed: the lab's, or on hardware
// one that acts on the machines. A cut is firewall rules on both routers
// that drop everything through the tunnel's interface (the tunnel stays up
// underneath, so a heal works at once); a shape is netem on both routers'
// tunnel interface; a machine is powered off and on through its
// hypervisor. Both need Linux routers (a tunnel with a VyOS router at an
// end is refused, naming it), a shape needs the netem qdisc in their
// kernels (this project's test machine has none, so the shape is tested
// only up to the router's refusal), and a machine that exists outside any
// hypervisor cannot be stopped. The cut, the refusals and the facts are
// tested on a lab's machines taken as hardware (over SSH, testbed's
// tests); the power switch on govmomi's simulator (layer's tests). No
// real ESXi host or router ran them.
//
// # Probes
//
// Every ProbeInterval each pair of sites is pinged from the first site's
// router to the second's (its tunnel address where a tunnel joins them,
// else its LAN address, as `stage verify --measure` does), against the
// RTT the testbed's shapes give the path at that moment; Options.Metrics
// adds the system's own numbers.
//
// # The system's own results
//
// A harness that computes results of its own from what its system
// recorded hands them to the run as tables (Section, Run.SetSections):
// report.html shows them beside the testbed's, and they are rewritten
// with the folder, so a run cut short keeps the last. Package
// experiment/gossip is such a harness: libp2p gossipsub peers on every
// worker, delivery latency per site pair and delivery per site before,
// during and after a partition (go run ./examples/gossip).
//
// # The results folder
//
// topology.yaml (as the testbed runs it, defaults filled), facts.json
// (planetstage, Go, kernel and Docker versions, the relay's seed),
// events.json/.csv, rtt.json/.csv and metrics.json/.csv (every sample),
// summary.json (per pair and metric: min, median, max, loss, count),
// timing.json (the plan's, when given) and report.html: one file with no
// script and nothing fetched, holding a target-against-measured heatmap,
// the RTT and metric timelines with the events drawn across them, and a
// Gantt chart of the plan's steps. Each file is replaced atomically after
// every probe round and event, so a run cut short (its context cancelled)
// keeps what it measured.
//
// Tested: unit tests against a stand-in Testbed (scheduling, validation,
// the files, the summary), the report rendered by Debian's headless
// Chromium (skipped where it is not installed), and a lab test on three
// Linux-router sites with real OpenVPN through the relay that partitions
// and heals a site, changes a tunnel's latency, and stops and starts a
// router.
package experiment
