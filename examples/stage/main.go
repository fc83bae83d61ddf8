// Command stage validates, plans, applies and destroys planetstage
// topologies, on their hardware or in the local lab; see package stagecli
// for its commands and flags.
//
// It is the zero stagecli.CLI: a harness that adds layers of its own
// builds its own command the same way (stagecli's Example).
package main

import "github.com/planetstage/planetstage/stagecli"

func main() {
	(&stagecli.CLI{}).Main()
}
