// Package stagecli is the stage command line as a library: the commands
// that validate, plan, apply, destroy, render, verify and measure a
// planetstage topology, on its hardware or in the local lab.
//
//	stage validate -f FILE
//	stage plan     -f FILE [--layers machines,routers] [--format text|json|dot|mermaid]
//	stage apply    -f FILE [--layers …] [--report FILE] [--yes]
//	stage destroy  -f FILE [--layers …] [--yes]
//	stage render   -f FILE --host NAME [--show-secrets]
//	stage graph    -f FILE [--format dot|mermaid]
//	stage verify   -f FILE [--lab] [--measure] [--json]
//	stage measure  -f FILE [--lab] [--geo PRESET] [--throughput D] [--json]
//	stage deploy   -f FILE --image IMAGE [--name NAME] [--replicas N] [--lab]
//	stage kubeconfig -f FILE [--lab] [--kubeconfig PATH] [--print]
//	stage inspect  -f FILE [--lab] [--json]
//	stage node-image [--cache DIR] [--env]
//	stage plan     -f FILE --offline        (every step, reaching no machine)
//	stage ssh      -f FILE [--lab] NODE [COMMAND...]
//	stage power    -f FILE [--lab] [--yes] off|on NODE
//	stage version  [--json]
//	stage wan-relay -config relay.json [-stats FILE]   (the lab's WAN relay as a process; apply --lab starts it)
//
// With --lab, apply, plan, destroy, verify, measure, deploy, kubeconfig,
// inspect, ssh and power act on the local lab (package lab) instead of the
// hardware the file names: every machine a container reached over SSH,
// every hypervisor a simulator.
//
// On hardware, apply and destroy show the plan, and power names the
// machine, and ask for "yes" on a terminal first; without a terminal they
// refuse unless --yes.
//
// examples/stage is this package's zero CLI. A research harness builds its
// own command the same way, with its own layers beside the built-in ones
// (see Example): plan, apply, destroy and render then walk them too.
// Every command is a thin shell over the library (testbed, layer, lab,
// reach, kubeadm): what it does, a Go program can do without it.
package stagecli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"golang.org/x/term"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
)

// CLI is the stage command. The zero value is the stage binary's.
type CLI struct {
	// Name is the program's name in usage lines and errors; default
	// "stage".
	Name string
	// Layers is the set that plan, apply, destroy and render walk; nil
	// means layer.Default(). A harness adds its own layers to a Set.
	Layers *layer.Set
	// Stdin is where apply and destroy on hardware read their
	// confirmation; default os.Stdin. IsTerminal says whether a person is
	// there to give it; default: whether os.Stdin is a terminal.
	Stdin      io.Reader
	IsTerminal func() bool
}

// command is one subcommand.
type command struct {
	summary string
	run     func(c *CLI, ctx context.Context, args []string, out, errOut io.Writer) error
}

var commands = map[string]command{
	"validate":   {"check a topology file and list every problem", (*CLI).runValidate},
	"plan":       {"show what apply would change", (*CLI).runPlan},
	"apply":      {"bring the testbed to the topology", (*CLI).runApply},
	"destroy":    {"remove what apply created", (*CLI).runDestroy},
	"render":     {"print what would be written to one machine", (*CLI).runRender},
	"graph":      {"draw the topology: sites, routers, hosts, tunnels", (*CLI).runGraph},
	"verify":     {"measure reachability between every pair of machines, from inside them", (*CLI).runVerify},
	"deploy":     {"run an image on every worker (a DaemonSet) and wait for it", (*CLI).runDeploy},
	"measure":    {"measure latency, tunnel throughput and router CPU of a running testbed", (*CLI).runMeasure},
	"wan-relay":  {"run the lab's WAN latency emulator (see package wan)", (*CLI).runWANRelay},
	"kubeconfig": {"add the cluster as a context to $KUBECONFIG or ~/.kube/config", (*CLI).runKubeconfig},
	"inspect":    {"list the machines, addresses, roles, tunnels and, with --lab, what runs", (*CLI).runInspect},
	"node-image": {"build (or reuse) the lab's offline Kubernetes node image", (*CLI).runNodeImage},
	"ssh":        {"a shell or a command on one machine (host keys checked, through its router)", (*CLI).runSSH},
	"power":      {"turn a machine off or on: its container in the lab, its VM through the hypervisor", (*CLI).runPower},
	"version":    {"print the versions of planetstage, its libraries and the node image", (*CLI).runVersion},
}

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the command line in os.Args with the process's standard
// streams, cancelled by SIGINT or SIGTERM, and exits with its status.
//
// The lab's WAN relay runs as this same executable with the argument
// wan-relay, so a program that calls Main first thing keeps apply --lab's
// tunnels shaped after it exits.
func (c *CLI) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := c.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run runs one command line (args without the program's name), writing
// its output to out and its errors and progress to errOut, and returns the
// exit status: 0 success, 1 failure, 2 a usage error.
func (c *CLI) Run(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		c.usage(errOut)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(errOut, "%s: unknown command %q\n\n", c.name(), args[0])
		c.usage(errOut)
		return 2
	}
	err := cmd.run(c, ctx, args[1:], out, errOut)
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, lab.ErrNotUp):
		fmt.Fprintf(errOut, "%s %s: %v; bring it up with %s apply --lab\n", c.name(), args[0], err, c.name())
		return 1
	default:
		fmt.Fprintf(errOut, "%s %s: %v\n", c.name(), args[0], err)
		return 1
	}
}

func (c *CLI) name() string {
	if c.Name == "" {
		return "stage"
	}
	return c.Name
}

func (c *CLI) layers() *layer.Set {
	if c.Layers == nil {
		return layer.Default()
	}
	return c.Layers
}

func (c *CLI) stdin() io.Reader {
	if c.Stdin == nil {
		return os.Stdin
	}
	return c.Stdin
}

func (c *CLI) onTerminal() bool {
	if c.IsTerminal == nil {
		return term.IsTerminal(int(os.Stdin.Fd()))
	}
	return c.IsTerminal()
}

func (c *CLI) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s <command> -f FILE [flags]\n\ncommands:\n", c.name())
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags.\n", c.name())
}
