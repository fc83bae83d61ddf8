package kubeadm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// CNI installs pod networking once the nodes have joined. Check says what
// Install would change ("" when nothing), without changing anything.
type CNI interface {
	Name() string
	Check(ctx context.Context, b *Bootstrapper) (string, error)
	Install(ctx context.Context, b *Bootstrapper) error
}

// PodCIDRs reads each node's spec.podCIDR (assigned by the controller
// manager from the podSubnet) with kubectl on the first control plane.
func (b *Bootstrapper) PodCIDRs(ctx context.Context) (map[string]netip.Prefix, error) {
	r, err := b.dial(ctx, b.Cluster.FirstControlPlane().Name)
	if err != nil {
		return nil, err
	}
	path := `{range .items[*]}{.metadata.name}{"\t"}{.spec.podCIDR}{"\n"}{end}`
	out, err := b.run(ctx, r, kubectl("get nodes -o jsonpath="+remote.ShellQuote(path)), nil)
	if err != nil {
		return nil, fmt.Errorf("cni: read pod CIDRs: %w", err)
	}
	cidrs := map[string]netip.Prefix{}
	for line := range strings.Lines(out) {
		name, cidr, _ := strings.Cut(strings.TrimSpace(line), "\t")
		if p, err := netip.ParsePrefix(cidr); err == nil {
			cidrs[name] = p
		}
	}
	var errs []error
	for _, n := range b.Cluster.Nodes() {
		if _, ok := cidrs[n.Name]; !ok {
			errs = append(errs, fmt.Errorf("node %q: no podCIDR yet (not joined, or the controller manager allocates none)", n.Name))
		}
	}
	return cidrs, errors.Join(errs...)
}

// Manifest is a CNI installed by `kubectl apply` of a manifest (Calico,
// Cilium, Flannel…) whose images the nodes can pull.
type Manifest struct {
	CNIName string
	YAML    []byte
}

// Name implements CNI.
func (m Manifest) Name() string { return m.CNIName }

// Check implements CNI with `kubectl diff`, which exits 1 when the cluster
// differs from the manifest.
func (m Manifest) Check(ctx context.Context, b *Bootstrapper) (string, error) {
	r, err := b.dial(ctx, b.Cluster.FirstControlPlane().Name)
	if err != nil {
		return "", err
	}
	err = r.Run(ctx, remote.Cmd{Command: kubectl("diff -f - >/dev/null"), Stdin: bytes.NewReader(m.YAML)})
	var exit *remote.ExitError
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &exit) && exit.Status == 1:
		return "manifest " + m.CNIName + " differs from the cluster", nil
	}
	return "", fmt.Errorf("cni %s: kubectl diff: %w", m.CNIName, err)
}

// Install implements CNI.
func (m Manifest) Install(ctx context.Context, b *Bootstrapper) error {
	r, err := b.dial(ctx, b.Cluster.FirstControlPlane().Name)
	if err != nil {
		return err
	}
	if _, err := b.run(ctx, r, kubectl("apply -f -"), m.YAML); err != nil {
		return fmt.Errorf("cni %s: kubectl apply: %w", m.CNIName, err)
	}
	return nil
}

// InstallCNI installs cni, or the default VXLAN when cni is nil.
func (b *Bootstrapper) InstallCNI(ctx context.Context, cni CNI) error {
	if cni == nil {
		cni = VXLAN{}
	}
	if err := cni.Install(ctx, b); err != nil {
		return err
	}
	b.log().Info("pod network installed", "cni", cni.Name())
	return nil
}

// writeIfChanged writes data to path when its contents differ, and says
// whether it did.
func writeIfChanged(ctx context.Context, r remote.Runner, path string, data []byte, mode fs.FileMode) (bool, error) {
	old, err := r.ReadFile(ctx, path)
	if err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, r.WriteFile(ctx, path, data, mode)
}
