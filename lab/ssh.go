package lab

import (
	"fmt"
	"net"

	"github.com/planetstage/planetstage/remote"
)

// SSHCommand is the OpenSSH command line that reaches machine name as root
// from this machine, with the lab's key and known_hosts (host keys
// checked), and runs command there (a login shell when there is none).
// The lab's machines are reached directly over the Docker bridges;
// layer.SSHCommand on Topology() gives the way the hardware would be
// reached, hosts through their routers.
func (l *Lab) SSHCommand(name string, command ...string) ([]string, error) {
	m, ok := l.Machine(name)
	if !ok {
		return nil, fmt.Errorf("lab %q: no machine %q", l.name, name)
	}
	cfg := remote.SSHConfig{Name: name, Addr: net.JoinHostPort(m.Address.String(), "22"), User: "root",
		IdentityFiles: []string{l.IdentityFile()}, KnownHostsFile: l.KnownHostsFile()}
	return cfg.OpenSSHArgs(command...), nil
}
