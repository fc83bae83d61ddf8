package kubeadm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// Init runs kubeadm init on the first control plane: preflight, the shared
// PKI, a fresh bootstrap token, the config, then `kubeadm init --config`.
// When the node's marker file says init already succeeded it does nothing.
func (b *Bootstrapper) Init(ctx context.Context) error {
	first := b.Cluster.FirstControlPlane()
	if err := b.Cluster.Validate(); err != nil {
		return err
	}
	r, err := b.dial(ctx, first.Name)
	if err != nil {
		return err
	}
	fail := func(what string, err error) error { return fmt.Errorf("node %q: init: %s: %w", first.Name, what, err) }
	if done, err := Done(ctx, r); err != nil || done {
		return err
	}
	if adopted, err := b.resume(ctx, r, first, true); err != nil || adopted {
		return err
	}
	if err := b.Preflight(ctx, r, true); err != nil {
		return err
	}
	p, err := b.Certs()
	if err != nil {
		return fail("pki", err)
	}
	if err := placePKI(ctx, r, p); err != nil {
		return fail("pki", err)
	}
	hash, err := p.CACertHash()
	if err != nil {
		return fail("pki", err)
	}
	tok, err := b.storeNewToken()
	if err != nil {
		return fail("token", err)
	}
	cfg, err := b.Cluster.InitConfig(Secrets{Token: tok, CAHash: hash}, b.now())
	if err != nil {
		return err
	}
	path := ConfigDir + "/init.yaml"
	if err := r.WriteFile(ctx, path, cfg, 0o600); err != nil {
		return fail("write config", err)
	}
	start := b.now()
	if _, err := b.run(ctx, r, "kubeadm init --config "+path, nil); err != nil {
		return fail("kubeadm init", err)
	}
	b.log().Info("kubeadm init done", "node", first.Name, "seconds", b.now().Sub(start).Seconds())
	return b.markJoined(ctx, r, first, true)
}

// Join joins one node (a control plane or a worker) to the cluster: preflight,
// the shared PKI on a control plane, a bootstrap token valid for the join
// (created on the first control plane when the stored one runs out), the
// config, then `kubeadm join --config`. A failed join is undone with
// `kubeadm reset -f` and tried once more. Control planes must be joined one
// at a time; the plan serializes them.
func (b *Bootstrapper) Join(ctx context.Context, node string) error {
	if err := b.Cluster.Validate(); err != nil {
		return err
	}
	n, controlPlane, ok := b.Cluster.Node(node)
	if !ok {
		return fmt.Errorf("node %q: join: not part of the cluster", node)
	}
	r, err := b.dial(ctx, node)
	if err != nil {
		return err
	}
	fail := func(what string, err error) error { return fmt.Errorf("node %q: join: %s: %w", node, what, err) }
	if done, err := Done(ctx, r); err != nil || done {
		return err
	}
	if adopted, err := b.resume(ctx, r, n, controlPlane); err != nil || adopted {
		return err
	}
	if err := b.Preflight(ctx, r, controlPlane); err != nil {
		return err
	}
	p, err := b.Certs()
	if err != nil {
		return fail("pki", err)
	}
	hash, err := p.CACertHash()
	if err != nil {
		return fail("pki", err)
	}
	path := ConfigDir + "/join.yaml"
	var lastErr error
	for attempt := 1; attempt <= 2; attempt++ {
		if attempt == 2 {
			b.log().Warn("join failed; resetting the node and trying once more", "node", node, "error", lastErr)
			if _, err := b.run(ctx, r, "kubeadm reset -f", nil); err != nil {
				return errors.Join(fail("kubeadm join", lastErr), fail("kubeadm reset", err))
			}
		}
		// kubeadm reset removes /etc/kubernetes/pki, so the PKI goes on
		// before every attempt.
		if controlPlane {
			if err := placePKI(ctx, r, p); err != nil {
				return fail("pki", err)
			}
		}
		tok, err := b.joinToken(ctx)
		if err != nil {
			return fail("token", err)
		}
		cfg, err := b.Cluster.JoinConfig(node, Secrets{Token: tok, CAHash: hash})
		if err != nil {
			return err
		}
		if err := r.WriteFile(ctx, path, cfg, 0o600); err != nil {
			return fail("write config", err)
		}
		start := b.now()
		if _, lastErr = b.run(ctx, r, "kubeadm join --config "+path, nil); lastErr == nil {
			b.log().Info("kubeadm join done", "node", node, "controlPlane", controlPlane, "attempt", attempt, "seconds", b.now().Sub(start).Seconds())
			return b.markJoined(ctx, r, n, controlPlane)
		}
		if ctx.Err() != nil {
			return fail("kubeadm join", lastErr)
		}
	}
	return fail("kubeadm join (after reset and retry)", lastErr)
}

// resume deals with a node where kubeadm ran but left no marker: a run
// interrupted between kubeadm and the marker, or kubeadm itself cut short.
// A node the API server knows, with its control-plane manifests when it is a
// control plane, is adopted (marked done); anything else is reset so the
// join starts clean instead of failing preflight on its own leftovers.
func (b *Bootstrapper) resume(ctx context.Context, r remote.Runner, n Node, controlPlane bool) (adopted bool, err error) {
	leftovers := []string{"/etc/kubernetes/kubelet.conf"}
	if controlPlane {
		leftovers = append(leftovers, "/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/manifests/kube-apiserver.yaml")
	}
	present := 0
	for _, p := range leftovers {
		_, err := r.ReadFile(ctx, p)
		switch {
		case err == nil:
			present++
		case !errors.Is(err, fs.ErrNotExist):
			return false, fmt.Errorf("node %q: %w", n.Name, err)
		}
	}
	if present == 0 {
		return false, nil
	}
	if present == len(leftovers) {
		if master, err := b.dial(ctx, b.Cluster.FirstControlPlane().Name); err == nil {
			if _, err := b.run(ctx, master, kubectl("get node "+remote.ShellQuote(n.Name)), nil); err == nil {
				b.log().Warn("node joined in an interrupted run; adopting it", "node", n.Name)
				return true, b.markJoined(ctx, r, n, controlPlane)
			}
		}
	}
	b.log().Warn("node has kubeadm leftovers from an interrupted run; resetting it", "node", n.Name)
	if _, err := b.run(ctx, r, "kubeadm reset -f", nil); err != nil {
		return false, fmt.Errorf("node %q: reset leftovers: %w", n.Name, err)
	}
	return false, nil
}

// markJoined writes the node's marker file and records it as a member, so a
// later run knows what is in the cluster and can remove what left the topology.
func (b *Bootstrapper) markJoined(ctx context.Context, r remote.Runner, n Node, controlPlane bool) error {
	stamp := []byte(b.now().UTC().Format(time.RFC3339) + "\n")
	if err := r.WriteFile(ctx, MarkerFile, stamp, 0o644); err != nil {
		return fmt.Errorf("node %q: write marker: %w", n.Name, err)
	}
	return b.recordMember(Member{Name: n.Name, Address: n.Address.String(), ControlPlane: controlPlane})
}

// storeNewToken generates a token and keeps it (secret) in the Store. Init
// puts it into the InitConfiguration, so kubeadm creates it.
func (b *Bootstrapper) storeNewToken() (Token, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	tok, err := NewToken(nil, b.now(), b.ttl())
	if err != nil {
		return Token{}, err
	}
	raw, err := tok.marshal()
	if err != nil {
		return Token{}, err
	}
	if err := b.Store.Write(storeToken, raw, true); err != nil {
		return Token{}, err
	}
	return tok, nil
}

// joinToken returns a token that stays valid for at least half the TTL: the
// stored one, or a new one created on the first control plane as the
// bootstrap-token Secret `kubeadm token create` would make, applied with
// kubectl from stdin: the token is never on a command line (a shell that
// expanded it into kubeadm's arguments would show it in /proc/PID/cmdline
// to every user of the node).
func (b *Bootstrapper) joinToken(ctx context.Context) (Token, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if raw, err := b.Store.Read(storeToken); err == nil {
		if tok, err := parseToken(raw); err == nil && tok.ValidFor(b.now(), b.ttl()/2) {
			return tok, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Token{}, err
	}
	tok, err := NewToken(nil, b.now(), b.ttl())
	if err != nil {
		return Token{}, err
	}
	first := b.Cluster.FirstControlPlane().Name
	r, err := b.dial(ctx, first)
	if err != nil {
		return Token{}, err
	}
	cmd := fmt.Sprintf("kubectl --kubeconfig %s apply -f - >/dev/null", AdminKubeconfig)
	if _, err := b.run(ctx, r, cmd, tokenSecret(tok), tok.Value, tok.Value[7:]); err != nil {
		return Token{}, fmt.Errorf("refresh on %s: %w", first, err)
	}
	raw, err := tok.marshal()
	if err != nil {
		return Token{}, err
	}
	if err := b.Store.Write(storeToken, raw, true); err != nil {
		return Token{}, err
	}
	b.log().Info("created a fresh bootstrap token", "on", first, "token", tok.String(), "ttl", b.ttl())
	return tok, nil
}
