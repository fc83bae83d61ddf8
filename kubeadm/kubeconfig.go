package kubeadm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"k8s.io/client-go/tools/clientcmd/api"

	"github.com/planetstage/planetstage/kubeconfig"
	"github.com/planetstage/planetstage/remote"
)

// ReadAdminKubeconfig returns the cluster's admin kubeconfig (AdminKubeconfig,
// which kubeadm writes on every control plane) from the first control plane
// that holds it, in Kubectl's order, and says which one it came from. A
// control plane that cannot be reached, or that has no such file (kubeadm
// has not run there yet), is passed over.
//
// The data holds the admin's client key: keep it out of logs, and store it
// only in files of mode 0600.
func (b *Bootstrapper) ReadAdminKubeconfig(ctx context.Context) (data []byte, via string, err error) {
	via, err = b.firstControlPlane(ctx, "read "+AdminKubeconfig, func(r remote.Runner) (bool, error) {
		var err error
		data, err = r.ReadFile(ctx, AdminKubeconfig)
		return err == nil, err
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w (has the cluster been bootstrapped? apply its cluster layer)", err)
		}
		return nil, "", err
	}
	return data, via, nil
}

// Kubeconfig returns the admin kubeconfig (ReadAdminKubeconfig) with its
// cluster, user and context named after the Cluster and its server set to
// server (see kubeconfig.Named): for kubectl on a machine that is not a
// control plane. Empty server is https://Endpoint, the load balancer, as
// kubeadm wrote it unless the file was changed; pass another where this
// machine reaches the API elsewhere. kubeconfig.Merge writes the result
// into a user's kubeconfig file.
func (b *Bootstrapper) Kubeconfig(ctx context.Context, server string) (*api.Config, error) {
	data, via, err := b.ReadAdminKubeconfig(ctx)
	if err != nil {
		return nil, err
	}
	if server == "" {
		server = "https://" + b.Cluster.Endpoint.String()
	}
	cfg, err := kubeconfig.Named(data, b.Cluster.Name, server)
	if err != nil {
		return nil, fmt.Errorf("node %q: %s: %w", via, AdminKubeconfig, err)
	}
	return cfg, nil
}
