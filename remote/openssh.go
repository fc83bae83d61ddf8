package remote

import (
	"net"
	"strings"
)

// OpenSSHArgs is the OpenSSH command line ("ssh", options, destination,
// command) that reaches the host of c as this package would: the same
// user, keys, known_hosts file and host-key checking, through the same
// Jump chain (each hop as its own ssh, verified with its own settings,
// through ProxyCommand). It is for handing a person or a script a shell
// on a machine; the command, when given, runs there in place of a login
// shell. Settings OpenSSH has no flag for (Signers held in memory, Via,
// DialContext) are not carried over.
func (c SSHConfig) OpenSSHArgs(command ...string) []string {
	args := append([]string{"ssh"}, c.openSSHOptions()...)
	if c.Jump != nil {
		// The hop is an ssh of its own that forwards to this host (-W).
		// The outer ssh expands %-tokens in ProxyCommand: the hop's own
		// (a longer chain) are escaped, only -W's are this host's.
		hop := c.Jump.OpenSSHArgs()
		var quoted []string
		for _, a := range hop[:len(hop)-1] {
			quoted = append(quoted, strings.ReplaceAll(ShellQuote(a), "%", "%%"))
		}
		quoted = append(quoted, "-W", "%h:%p", strings.ReplaceAll(ShellQuote(hop[len(hop)-1]), "%", "%%"))
		args = append(args, "-o", "ProxyCommand="+strings.Join(quoted, " "))
	}
	args = append(args, c.destination())
	if len(command) > 0 {
		args = append(args, "--")
		args = append(args, command...)
	}
	return args
}

func (c SSHConfig) openSSHOptions() []string {
	var o []string
	if _, port, err := net.SplitHostPort(c.Addr); err == nil && port != "22" {
		o = append(o, "-p", port)
	}
	for _, f := range c.IdentityFiles {
		o = append(o, "-i", homePath(f))
	}
	if len(c.IdentityFiles) > 0 && !c.Agent {
		o = append(o, "-o", "IdentitiesOnly=yes")
	}
	if c.InsecureIgnoreHostKey {
		o = append(o, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null")
	} else {
		o = append(o, "-o", "StrictHostKeyChecking=yes")
		if c.KnownHostsFile != "" {
			files := homePath(c.KnownHostsFile)
			if c.PinnedKnownHosts != "" {
				files += " " + homePath(c.PinnedKnownHosts) // OpenSSH reads each of a space-separated list
			}
			o = append(o, "-o", "UserKnownHostsFile="+files)
		}
	}
	if c.AgentSocket != "" {
		o = append(o, "-o", "IdentityAgent="+c.AgentSocket)
	}
	return o
}

// destination is user@host, with an IPv6 address bare as OpenSSH wants it
// (the port goes in -p).
func (c SSHConfig) destination() string {
	host := c.Addr
	if h, _, err := net.SplitHostPort(c.Addr); err == nil {
		host = h
	}
	return c.User + "@" + host
}

// homePath is p with "~/" expanded, or p itself when there is no home.
func homePath(p string) string {
	if e, err := expandHome(p); err == nil {
		return e
	}
	return p
}
