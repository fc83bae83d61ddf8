package proctest_test

import (
	"fmt"
	"os/exec"

	"github.com/planetstage/planetstage/internal/proc/proctest"
)

// A process that was killed is gone, even before anyone reaps it.
func ExampleGone() {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		fmt.Println("no sleep:", err)
		return
	}
	fmt.Println("gone while running:", proctest.Gone(cmd.Process.Pid))
	_ = cmd.Process.Kill()
	fmt.Println("gone after kill:", proctest.Gone(cmd.Process.Pid))
	_ = cmd.Wait()
	// Output:
	// gone while running: false
	// gone after kill: true
}
