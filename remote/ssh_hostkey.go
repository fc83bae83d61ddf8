package remote

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is returned when a host's key does not verify against the
// known_hosts file. It is never retried.
type HostKeyError struct {
	Host        string // the hop's name
	Addr        string // the address dialled
	KeyType     string // type of the key the host offered
	Fingerprint string // SHA256 fingerprint of the key the host offered
	File        string // the known_hosts file
	// Known lists "file:line" of the entries for this host with other keys.
	// Empty means the host is not in the file at all.
	Known   []string
	Revoked bool // the offered key is marked @revoked in the file
}

func (e *HostKeyError) Error() string {
	offered := fmt.Sprintf("host %s (%s) offered %s key %s", e.Host, e.Addr, e.KeyType, e.Fingerprint)
	switch {
	case e.Revoked:
		return offered + ", which is marked @revoked in " + e.File
	case len(e.Known) == 0:
		return fmt.Sprintf("%s, which is not in known_hosts file %s: "+
			"check the fingerprint out of band, then add the key (ssh-keyscan)", offered, e.File)
	default:
		return fmt.Sprintf("%s, which does NOT match the key recorded at %s: "+
			"the host was reinstalled or someone is in between; if the change is expected, remove the old entry",
			offered, strings.Join(e.Known, ", "))
	}
}

// hostKeyCheck returns the callback that verifies the host at addr, and the
// host key algorithms to ask for: those of the keys known_hosts lists for
// it, so a host that also has keys of other types is not refused for
// offering one of those first.
func (h *hop) hostKeyCheck(addr string) (ssh.HostKeyCallback, []string, error) {
	if h.cfg.InsecureIgnoreHostKey {
		return ssh.InsecureIgnoreHostKey(), nil, nil
	}
	file := h.cfg.KnownHostsFile
	files := []string{file}
	if p := h.cfg.PinnedKnownHosts; p != "" {
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
			file += " or " + p
		}
	}
	db, err := knownhosts.New(files...)
	if err != nil {
		return nil, nil, fmt.Errorf("KnownHostsFile: %w", err)
	}
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := db(hostname, remote, key)
		if err == nil {
			return nil
		}
		hkErr := &HostKeyError{
			Host: hostName(h.cfg), Addr: addr, File: file,
			KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key),
		}
		var keyErr *knownhosts.KeyError
		var revoked *knownhosts.RevokedError
		switch {
		case errors.As(err, &keyErr):
			for _, k := range keyErr.Want {
				hkErr.Known = append(hkErr.Known, fmt.Sprintf("%s:%d", k.Filename, k.Line))
			}
		case errors.As(err, &revoked):
			hkErr.Revoked = true
		default:
			return fmt.Errorf("host key of %s: %w", addr, err)
		}
		return hkErr
	}
	return check, knownAlgorithms(db, addr), nil
}

// probeKey is a key no known_hosts lists: checking it returns the keys the
// file does list for a host.
var probeKey = func() ssh.PublicKey {
	k, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		panic(err) // a constant input: cannot fail
	}
	return k
}()

// knownAlgorithms returns the host key algorithms matching the key types
// known_hosts lists for addr, or nil (the library's default) if none.
func knownAlgorithms(db ssh.HostKeyCallback, addr string) []string {
	err := db(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey)
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return nil
	}
	var algos []string
	for _, k := range keyErr.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algos = append(algos, t)
		}
	}
	slices.Sort(algos)
	return slices.Compact(algos)
}
