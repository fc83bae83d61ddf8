package stagecli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/planetstage/planetstage/lab"
)

// stage wan-relay runs the lab's user-space WAN emulator (package wan) as a
// process of its own, so that the emulated latency outlives `stage apply`:
// the lab starts it (lab.SelfRelay) and stops it (stage destroy --lab).
//
//	stage wan-relay -config relay.json [-stats stats.json] [-interval 1s]
func (c *CLI) runWANRelay(ctx context.Context, args []string, _, errOut io.Writer) error {
	err := lab.ServeRelay(ctx, args, errOut)
	if errors.Is(err, lab.ErrRelayUsage) {
		fmt.Fprintln(errOut, err)
		return errUsage
	}
	return err
}
