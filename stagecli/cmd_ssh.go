package stagecli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// runSSH opens a shell, or runs a command, on one machine of the testbed
// with OpenSSH: the topology's key and known_hosts (host keys checked), a
// host through its site's router; with --lab, the lab's key, directly.
// Its exit status is the remote command's.
//
//	stage ssh -f FILE [--lab] [--print] NODE [COMMAND...]
func (c *CLI) runSSH(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	fs := c.newFlagSet("ssh", errOut, &o)
	addLabFlags(fs, &o)
	printOnly := fs.Bool("print", false, "print the ssh command line, quoted for a shell, instead of running it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{0}
		}
		return errUsage
	}
	if o.file == "" || fs.NArg() == 0 {
		fmt.Fprintln(errOut, "usage: stage ssh -f FILE [--lab] [--print] NODE [COMMAND...]")
		return errUsage
	}
	node, command := fs.Arg(0), fs.Args()[1:]
	tb, err := o.open(ctx, errOut, errOut)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	argv, err := tb.SSHCommand(ctx, node, command...)
	if err != nil {
		return err
	}
	if *printOnly {
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = remote.ShellQuote(a)
		}
		fmt.Fprintln(out, strings.Join(quoted, " "))
		return nil
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, out, errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exitError{exit.ExitCode()}
	}
	return err
}
