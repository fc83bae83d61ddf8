package remote

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOpenSSHArgs(t *testing.T) {
	t.Parallel()
	router := SSHConfig{Name: "r1", Addr: "10.0.0.1:22", User: "vyos", IdentityFiles: []string{"/k/id"}, KnownHostsFile: "/k/known_hosts"}
	host := SSHConfig{Name: "h1", Addr: "[fd00::5]:2222", User: "root", IdentityFiles: []string{"/k/id"}, KnownHostsFile: "/k/known_hosts", Jump: &router}
	assert.Equal(t, []string{"ssh", "-i", "/k/id", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=/k/known_hosts", "vyos@10.0.0.1"}, router.OpenSSHArgs())
	assert.Equal(t, []string{"ssh", "-p", "2222", "-i", "/k/id", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=/k/known_hosts",
		"-o", "ProxyCommand=ssh -i /k/id -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/k/known_hosts -W %h:%p vyos@10.0.0.1",
		"root@fd00::5", "--", "uname", "-a"}, host.OpenSSHArgs("uname", "-a"))

	// A chain of two hops: the inner hop's tokens are escaped for the outer ssh.
	edge := SSHConfig{Addr: "192.0.2.1", User: "jump", Agent: true}
	router.Jump = &edge
	args := host.OpenSSHArgs()
	assert.Contains(t, args[len(args)-2], "ProxyCommand=ssh ")
	assert.Contains(t, args[len(args)-2], "-W %%h:%%p jump@192.0.2.1")
	assert.Contains(t, args[len(args)-2], "-W %h:%p vyos@10.0.0.1")

	// Pinned keys are a second known_hosts file, in OpenSSH's list form.
	pinned := SSHConfig{Addr: "h", User: "u", KnownHostsFile: "/k/known_hosts", PinnedKnownHosts: "/s/known_hosts"}
	assert.Contains(t, pinned.OpenSSHArgs(), "UserKnownHostsFile=/k/known_hosts /s/known_hosts")

	// Host keys off is said so, not hidden.
	insecure := SSHConfig{Addr: "h", User: "u", InsecureIgnoreHostKey: true}
	assert.Equal(t, []string{"ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "u@h"}, insecure.OpenSSHArgs())
}
