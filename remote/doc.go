// Package remote is the one transport every planetstage layer uses to act
// on a host: run a command, write a file atomically, read a file.
//
// Layers depend only on the [Runner] interface, so the code that configures
// a lab container is the code that configures a real router. Two
// implementations ship:
//
//   - [SSH], on golang.org/x/crypto/ssh, for every machine planetstage
//     manages. [NewSSH] takes an [SSHConfig].
//   - [Local], this machine, for tests and for operators who run
//     planetstage on the router itself.
//
// # Commands
//
// Run runs a command line with /bin/sh -c, whatever the login shell, with
// the caller's stdin, stdout and stderr. A non-zero exit is an [*ExitError]
// carrying the status; [Output], [CombinedOutput] and [OutputWithInput]
// also put the tail of stderr into it. Cancelling the context kills the
// command's whole process group — pipelines and background children
// included — and Run returns the context's error.
//
// WriteFile writes to a temporary file in the target's directory, sets the
// mode and renames it into place, so a reader sees the old file or the new
// one and never a part; missing parent directories are created. The data
// travels on standard input, never in a command line. ReadFile reports a
// missing file with an error matching [io/fs.ErrNotExist].
//
// # SSH
//
// The connection is dialled on first use and shared: concurrent callers
// each get a session on the one connection (at most MaxSessions at a time,
// the rest wait), and a connection that died is dialled again on the next
// call. A host that is still booting is retried with exponential backoff
// ([Retry], [BootRetry]); a host key that does not verify or a refused
// login fails at once.
//
// Host keys are verified against an OpenSSH known_hosts file. A key that is
// missing or different is a [*HostKeyError] naming the host, the address,
// the offered key's fingerprint and the file. InsecureIgnoreHostKey turns
// verification off for throwaway labs only, and must be asked for by name.
//
// Keys come from files (IdentityFiles), ssh-agent (Agent), or memory
// (Signers). Private keys never appear in errors or logs.
//
// Jump chains any number of hops (OpenSSH's ProxyJump): the hosts of a site
// behind a router are reached through the router, each hop verified and
// authenticated with its own settings. Sudo runs commands and file
// operations as root through "sudo -n" for login users that are not root.
//
// The remote side needs a POSIX /bin/sh with cat, mkdir, mktemp, chmod and
// mv. Killing a cancelled command needs /proc and grep (for root logins
// OpenSSH ignores SSH signal requests, so the kill goes through a second
// session); setsid, where present, puts the command in a group of its own.
package remote
