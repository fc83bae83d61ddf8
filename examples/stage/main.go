// Command stage validates, plans, applies and destroys planetstage
// topologies, and renders what it would write to a machine.
//
//	stage validate -f FILE
//	stage plan     -f FILE [--layers esxi,routers] [--format text|json|dot|mermaid]
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
//	stage version  [--json]
//	stage wan-relay -config relay.json [-stats FILE]   (the lab's WAN relay as a process; apply --lab starts it)
//
// With --lab, apply, plan, destroy, verify, measure, deploy, kubeconfig, inspect and ssh
// act on the local lab (package lab) instead of the hardware the file
// names: every machine a container reached over SSH, every hypervisor a
// simulator.
//
// On hardware, apply and destroy show the plan and ask for "yes" on a
// terminal first; without a terminal they refuse unless --yes.
//
// It is a thin shell over the library: everything it does, a Go program
// importing planetstage can do.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/planetstage/planetstage/lab"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, out, errOut io.Writer) error
}

var commands = map[string]command{
	"validate":   {"check a topology file and list every problem", runValidate},
	"plan":       {"show what apply would change", runPlan},
	"apply":      {"bring the testbed to the topology", runApply},
	"destroy":    {"remove what apply created", runDestroy},
	"render":     {"print what would be written to one machine", runRender},
	"graph":      {"draw the topology: sites, routers, hosts, tunnels", runGraph},
	"verify":     {"measure reachability between every pair of machines, from inside them", runVerify},
	"deploy":     {"run an image on every worker (a DaemonSet) and wait for it", runDeploy},
	"measure":    {"measure latency, tunnel throughput and router CPU of a running testbed", runMeasure},
	"wan-relay":  {"run the lab's WAN latency emulator (see package wan)", runWANRelay},
	"kubeconfig": {"add the cluster as a context to $KUBECONFIG or ~/.kube/config", runKubeconfig},
	"inspect":    {"list the machines, addresses, roles, tunnels and, with --lab, what runs", runInspect},
	"node-image": {"build (or reuse) the lab's offline Kubernetes node image", runNodeImage},
	"ssh":        {"a shell or a command on one machine (host keys checked, through its router)", runSSH},
	"version":    {"print the versions of planetstage, its libraries and the node image", runVersion},
}

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errOut)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(errOut, "stage: unknown command %q\n\n", args[0])
		usage(errOut)
		return 2
	}
	err := cmd.run(ctx, args[1:], out, errOut)
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, lab.ErrNotUp):
		fmt.Fprintf(errOut, "stage %s: %v; bring it up with stage apply --lab\n", args[0], err)
		return 1
	default:
		fmt.Fprintf(errOut, "stage %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: stage <command> -f FILE [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'stage <command> -h' for a command's flags.")
}
