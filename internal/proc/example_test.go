package proc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/planetstage/planetstage/internal/proc"
)

// A pipeline that would run a minute stops as soon as its context ends:
// both sides of the pipe get SIGINT, not just the shell.
func ExampleCommand() {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := proc.Command(ctx, "sh", "-c", "sleep 60 | cat").Run()
	fmt.Println("error:", err)
	fmt.Println("context:", ctx.Err())
	fmt.Println("stopped within two seconds:", time.Since(start) < 2*time.Second)
	// Output:
	// error: signal: interrupt
	// context: context deadline exceeded
	// stopped within two seconds: true
}
