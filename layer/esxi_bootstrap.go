package layer

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/vyos"
)

// PinnedKnownHostsFile is the state file that pins the host keys of the
// VMs the machines layer creates, made before they boot: the SSH pool
// trusts it besides ssh.knownHosts, so the first SSH to a new VM is
// verified, not trusted on first use.
const PinnedKnownHostsFile = "known_hosts"

// hostKeyFile is the state file of machine's SSH host key (secret).
func hostKeyFile(machine string) string { return "hostkeys/" + machine }

// vmHostKey returns machine's SSH host key: env.HostKey's, else one made
// (ed25519) and kept in the state on first use; its OpenSSH private key
// (PEM) and public key.
func vmHostKey(env *Env, machine string) ([]byte, ssh.PublicKey, error) {
	if env.HostKey != nil {
		return env.HostKey(machine)
	}
	priv, err := env.State.LoadOrCreate(hostKeyFile(machine), true, func() ([]byte, error) { return secret.NewSSHKey(machine) })
	if err != nil {
		return nil, nil, fmt.Errorf("machine %s: host key: %w", machine, err)
	}
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("machine %s: host key in the state: %w", machine, err)
	}
	return priv, signer.PublicKey(), nil
}

// authorizedKey is the public half of the ssh section's identity file,
// which the VMs authorize for ssh.user: IDENTITY.pub, else derived from
// the private key (which must then have no passphrase).
func authorizedKey(t *topology.Topology) (string, error) {
	s := t.SSH
	if s == nil || s.IdentityFile == "" {
		return "", errors.New("ssh.identityFile: new VMs authorize the key of this file; name one (keys held only by ssh-agent cannot be read here)")
	}
	path, err := expandHome(s.IdentityFile)
	if err != nil {
		return "", fmt.Errorf("ssh.identityFile: %w", err)
	}
	if pub, err := os.ReadFile(path + ".pub"); err == nil {
		k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
		if err != nil {
			return "", fmt.Errorf("ssh.identityFile: %s.pub is not a public key", s.IdentityFile)
		}
		return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), nil
	}
	priv, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("ssh.identityFile: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		// The parser's message names the format, never key material.
		return "", fmt.Errorf("ssh.identityFile: %s.pub is missing and the key cannot be read without a passphrase: %w", s.IdentityFile, err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
}

func expandHome(p string) (string, error) {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return home + "/" + rest, nil
	}
	return p, nil
}

// esxiUserData is machine m's cloud-config: the ssh section's key
// authorized for its user, password logins off, and the host key made in
// the state installed in place of keys the image would generate, so that
// the key pinned before boot is the one it offers. showKey prints the host
// key's private half instead of secret.Redacted.
func esxiUserData(t *topology.Topology, m topology.Machine, hostKey []byte, hostPub ssh.PublicKey, authorized string, showKey bool) string {
	user := "root"
	if t.SSH != nil && t.SSH.User != "" {
		user = t.SSH.User
	}
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	fmt.Fprintf(&b, "hostname: %s\n", m.Name)
	if user == "root" {
		// The ssh module authorizes root itself when root is not disabled;
		// a users entry for root would lock its password, and an sshd
		// without PAM refuses a locked account even a key.
		fmt.Fprintf(&b, "disable_root: false\nssh_authorized_keys:\n  - %s\n", authorized)
	} else {
		fmt.Fprintf(&b, "users:\n  - name: %s\n    lock_passwd: true\n    ssh_authorized_keys:\n      - %s\n", user, authorized)
		b.WriteString("    sudo: ALL=(ALL) NOPASSWD:ALL\n    shell: /bin/bash\n")
	}
	b.WriteString("ssh_pwauth: false\nssh_deletekeys: true\nssh_keys:\n  ed25519_private: |\n")
	key := string(hostKey)
	if !showKey {
		key = secret.Redacted + "\n"
	}
	for _, line := range strings.SplitAfter(strings.TrimRight(key, "\n")+"\n", "\n") {
		if line != "" {
			b.WriteString("    " + line)
		}
	}
	fmt.Fprintf(&b, "  ed25519_public: %s\n", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostPub))))
	return b.String()
}

// pinHostKeys writes the pinned known_hosts: each VM of t that has a host
// key under the addresses the pool dials it at (a router at its WAN
// address, a host at its site address). It rewrites the whole file from
// the state, so a re-run writes the same bytes.
func pinHostKeys(t *topology.Topology, env *Env, vms []topology.Machine) error {
	port := 22
	if t.SSH != nil && t.SSH.Port != 0 {
		port = t.SSH.Port
	}
	var lines []string
	for _, m := range vms {
		_, pub, err := vmHostKey(env, m.Name)
		if err != nil {
			return err
		}
		addr := m.Address
		if m.IsRouter() {
			addr = m.WAN
		}
		host := knownhosts.Normalize(net.JoinHostPort(addr.String(), strconv.Itoa(port)))
		lines = append(lines, host+" "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))))
	}
	slices.Sort(lines)
	data := []byte(strings.Join(lines, "\n") + "\n")
	if old, err := env.State.Read(PinnedKnownHostsFile); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return env.State.Write(PinnedKnownHostsFile, data, false)
}

// vyosUserData is a VyOS router's first-boot configuration: its name, its
// two interfaces' addresses, SSH, and the ssh section's key authorized for
// the login user (VyOS reserves root: a file that logs in as root has the
// key authorized for "vyos"). Its host key is VyOS's own, not pinned: put
// it in the known_hosts file before the first apply reaches the router.
func vyosUserData(t *topology.Topology, m topology.Machine, authorized string) (string, error) {
	d, err := vyos.ParseVersion(m.Site.Router.Version)
	if err != nil {
		return "", fmt.Errorf("router %s: %w", m.Name, err)
	}
	b := vyos.Bootstrap{HostName: m.Name, User: "vyos",
		WAN: netip.PrefixFrom(m.WAN, t.Underlay.Prefix.Bits()), LAN: netip.PrefixFrom(m.Address, m.Site.Prefix.Bits())}
	if t.SSH != nil && t.SSH.User != "" && t.SSH.User != "root" {
		b.User = t.SSH.User
	}
	if f := strings.Fields(authorized); len(f) >= 2 && !strings.HasPrefix(authorized, "#") {
		b.KeyType, b.Key = f[0], f[1]
	} else {
		return "", errors.New("ssh.identityFile: no key to authorize")
	}
	cmds, err := vyos.BootstrapCommands(d, b)
	if err != nil {
		return "", fmt.Errorf("router %s: %w", m.Name, err)
	}
	return vyos.BootstrapUserData(cmds), nil
}
