package stagecli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/testbed"
)

// errDeclined is a confirmation that was not given: nothing was changed.
var errDeclined = errors.New("not confirmed; nothing was changed")

// confirm shows what apply or destroy would change on real machines and
// asks for "yes" on a terminal, as Terraform does. Without a terminal it
// refuses before reaching any machine, unless --yes said to go on. A plan
// that changes nothing needs no answer.
func (c *CLI) confirm(ctx context.Context, name string, tb *testbed.Testbed, o *options, out io.Writer) error {
	if !c.onTerminal() {
		return fmt.Errorf("%s changes real machines: run it on a terminal to review the plan and confirm, or pass --yes", name)
	}
	var res *plan.Result
	var err error
	if name == "destroy" {
		res, err = tb.Destroy(ctx, testbed.DestroyOptions{Set: c.layers(), Layers: o.layerList(), Parallelism: o.parallelism, DryRun: true})
	} else {
		res, err = tb.Plan(ctx, testbed.PlanOptions{Set: c.layers(), Layers: o.layerList(), Parallelism: o.parallelism})
	}
	if err != nil {
		return fmt.Errorf("the plan to confirm: %w", err)
	}
	s := res.Summary()
	changes := s.Created + s.Updated + s.Deleted
	if changes == 0 {
		return nil
	}
	if err := res.WriteText(out); err != nil {
		return err
	}
	return c.askYes(out, fmt.Sprintf("\n%s: %d changes to the machines of %q above.", name, changes, tb.Topology().Name))
}

// askYes prints question and asks for "yes" on stdin: anything else is
// errDeclined.
func (c *CLI) askYes(out io.Writer, question string) error {
	fmt.Fprintf(out, "%s Type yes to go on: ", question)
	line, _ := bufio.NewReader(c.stdin()).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errDeclined
	}
	return nil
}
