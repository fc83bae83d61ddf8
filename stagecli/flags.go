package stagecli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/topology"
)

// errUsage reports bad flags; flag has already said what was wrong.
var errUsage = errors.New("usage")

// options are the flags the commands share.
type options struct {
	file        string
	state       string
	layers      string
	parallelism int
	verbose     bool
	lab         bool
	labState    string
}

func (c *CLI) newFlagSet(name string, errOut io.Writer, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name()+" "+name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.file, "f", "", "topology `FILE` (YAML)")
	fs.StringVar(&o.state, "state", "", "state `DIR` (default $XDG_STATE_HOME/planetstage/NAME)")
	fs.BoolVar(&o.verbose, "v", false, "debug logging to stderr (generated configs, command output)")
	return fs
}

func addLabFlags(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.lab, "lab", false, "act on the local lab (containers over SSH, simulated hypervisors) instead of the file's hardware")
	fs.StringVar(&o.labState, "lab-state", "", "the lab's state `DIR` (keys, known_hosts); default the user cache dir")
}

func addLayerFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.layers, "layers", "", "comma-separated `LAYERS` to act on ("+strings.Join(layer.Names(), ", ")+"); default all")
	fs.IntVar(&o.parallelism, "parallelism", 0, "steps run at once (default 10)")
}

// parse parses a command's flags: -h exits 0, a bad flag or an argument
// left over is a usage error, and -f FILE must be given.
func parse(fs *flag.FlagSet, args []string, o *options) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.file == "" {
		fmt.Fprintln(fs.Output(), "-f FILE is required")
		return errUsage
	}
	return nil
}

// parseFlags is parse for a command without a topology file.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{0}
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}

func (o *options) layerList() []string {
	if o.layers == "" {
		return nil
	}
	var out []string
	for _, l := range strings.Split(o.layers, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// logger logs warnings to errOut, and with -v debug detail too.
func (o *options) logger(errOut io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
}

// open reads and validates the topology file and opens its testbed: the
// lab with --lab (its WAN relay a process of its own, `stage wan-relay`,
// so that the tunnels keep their latency after this command exits), else
// the hardware. progress receives the lab's phases and notes. Close the
// testbed when done.
func (o *options) open(ctx context.Context, errOut, progress io.Writer) (*testbed.Testbed, error) {
	t, err := topology.Load(o.file)
	if err != nil {
		return nil, err
	}
	return testbed.Open(ctx, t, testbed.Options{Lab: o.lab, StateDir: o.state, LabStateDir: o.labState,
		RelayCommand: lab.SelfRelay("wan-relay"), Log: o.logger(errOut), Progress: progress})
}

// load reads and validates the topology file and opens its state. The
// returned func closes the sessions the env opened (SSH connections,
// vSphere logins); call it when done.
func (o *options) load(ctx context.Context, errOut io.Writer) (*topology.Topology, *layer.Env, func(), error) {
	t, err := topology.Load(o.file)
	if err != nil {
		return nil, nil, nil, err
	}
	env, err := layer.OpenEnv(t, o.state, o.logger(errOut))
	if err != nil {
		return nil, nil, nil, err
	}
	closeEnv := func() { _ = env.Close(ctx) }
	return t, env, closeEnv, nil
}
