// Command vbash is the lab's VyOS stand-in (package vyosstandin) as the
// program a VyOS router runs its configuration scripts with: "vbash -s"
// reads a script on standard input. It plays the VyOS version written in
// /etc/vyos-standin/version, logs to /var/log/vyos-standin/vbash.log
// (secrets redacted), and says it is not VyOS in "show version".
//
//	vbash -s                 run the script on standard input
//	vbash --boot             load /config/config.boot and realise it (at boot)
//	vbash --rollback-at T    commit-confirm's timer (started by commit-confirm)
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/planetstage/planetstage/vyos"
	"github.com/planetstage/planetstage/vyos/vyosstandin"
)

const (
	versionFile = "/etc/vyos-standin/version"
	logFile     = "/var/log/vyos-standin/vbash.log"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout)) }

func run(args []string, in io.Reader, out io.Writer) int {
	v, err := os.ReadFile(versionFile)
	if err != nil {
		fmt.Fprintf(out, "vbash (planetstage VyOS stand-in): which VyOS version to play: %v\n", err)
		return 1
	}
	d, err := vyos.ParseVersion(strings.TrimSpace(string(v)))
	if err != nil {
		fmt.Fprintf(out, "vbash (planetstage VyOS stand-in): %s: %v\n", versionFile, err)
		return 1
	}
	r := &vyosstandin.Router{Dialect: d, Log: logger()}
	ctx := context.Background()
	switch {
	case len(args) == 1 && args[0] == "-s":
		return r.Run(ctx, in, out)
	case len(args) == 1 && args[0] == "--boot":
		if err := r.Boot(ctx); err != nil {
			fmt.Fprintf(out, "vbash --boot: %v\n", err)
			return 1
		}
		return 0
	case len(args) == 2 && args[0] == "--rollback-at":
		t, err := strconv.ParseInt(args[1], 10, 64)
		if err == nil {
			err = r.RollbackAt(ctx, t)
		}
		if err != nil {
			fmt.Fprintf(out, "vbash --rollback-at: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(out, "vbash (%s): usage: vbash -s < script\n", vyosstandin.Banner)
	return 2
}

// logger appends to the stand-in's log; without it, nothing is logged.
func logger() *slog.Logger {
	if err := os.MkdirAll("/var/log/vyos-standin", 0o755); err != nil {
		return nil
	}
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})).With("standin", "planetstage VyOS stand-in (not VyOS)")
}
