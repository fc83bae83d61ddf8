// Package proc starts external programs so that cancelling their context
// stops them and everything they started, within seconds.
//
// exec.CommandContext alone sends SIGKILL to the one program it started:
// `go build`'s compilers, or mmdebstrap's worker with its apt and dpkg, run
// on, keep the output pipe open, and Wait blocks until they are done, which
// for a Kubernetes build is many minutes. Command starts the program in a
// process group of its own and, when the context ends, sends the group
// SIGINT, as a terminal's Ctrl-C would (mmdebstrap then unmounts its chroot,
// go removes its work directory), and SIGKILL Grace later for whatever is
// still there. WaitDelay bounds how long a descendant holding an output pipe
// can keep Wait waiting.
//
// Because the group is not the terminal's foreground group, a Ctrl-C typed
// at the terminal reaches only the Go program, which must turn it into a
// cancelled context (signal.NotifyContext), as the example commands do.
//
// Tested against sh and sleep: a child that dies of SIGINT, one that ignores
// it, and one that outlives its parent holding the output pipe.
package proc
