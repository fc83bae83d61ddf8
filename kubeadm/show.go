package kubeadm

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// RenderedConfig is a node's kubeadm configuration as a person sees it.
type RenderedConfig struct {
	// Path is where the flow writes it on the node.
	Path string
	// Note says what is provisional ("" when nothing is).
	Note    string
	Content []byte
}

// placeholderHash stands in for the CA hash before the PKI exists.
var placeholderHash = "sha256:" + strings.Repeat("0", 64)

// ShowConfig renders the kubeadm config of node as Init or Join would write
// it, reading the PKI and token from the Store but never creating them. The
// token is RedactedToken unless showSecrets (and a stored token exists).
// Before the PKI is generated the CA hash is a placeholder, said in Note.
func (b *Bootstrapper) ShowConfig(node string, showSecrets bool) (RenderedConfig, error) {
	if _, _, ok := b.Cluster.Node(node); !ok {
		return RenderedConfig{}, fmt.Errorf("node %q: not part of the cluster", node)
	}
	var notes []string
	s := Secrets{Token: Token{Value: RedactedToken}}
	if showSecrets {
		if raw, err := b.Store.Read(storeToken); err == nil {
			if tok, err := parseToken(raw); err == nil {
				s.Token = tok
			}
		}
		if s.Token.Value == RedactedToken {
			notes = append(notes, "no bootstrap token yet: apply creates one")
		}
	}
	now := b.now()
	if s.Token.Expires.Before(now.Add(b.ttl())) {
		s.Token.Expires = now.Add(b.ttl())
	}
	s.CAHash = placeholderHash
	p, err := LoadPKI(b.Store)
	switch {
	case err == nil:
		if s.CAHash, err = p.CACertHash(); err != nil {
			return RenderedConfig{}, err
		}
	case errors.Is(err, fs.ErrNotExist):
		notes = append(notes, "CA not generated yet: caCertHashes is a placeholder until apply runs cluster/certs")
	default:
		return RenderedConfig{}, err
	}
	out := RenderedConfig{Note: strings.Join(notes, "; ")}
	if node == b.Cluster.FirstControlPlane().Name {
		out.Path = ConfigDir + "/init.yaml"
		out.Content, err = b.Cluster.InitConfig(s, now)
	} else {
		out.Path = ConfigDir + "/join.yaml"
		out.Content, err = b.Cluster.JoinConfig(node, s)
	}
	return out, err
}
