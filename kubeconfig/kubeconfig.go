package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/clientcmd/api"

	"github.com/planetstage/planetstage/internal/atomicfile"
)

// Named returns the kubeconfig in data under name: its one context, and
// the cluster and user that context names, renamed to name, with name's
// context current. With server not empty ("https://192.168.10.253:6443")
// the cluster's server becomes server; the certificate is then still
// checked against the host the file named (tls-server-name), so a server
// address the API server's certificate does not list works as well.
//
// data must hold exactly one context, whose cluster and user it holds: what
// kubeadm writes to /etc/kubernetes/admin.conf.
func Named(data []byte, name, server string) (*api.Config, error) {
	if name == "" {
		return nil, errors.New("kubeconfig: the name is empty")
	}
	in, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if len(in.Contexts) != 1 {
		return nil, fmt.Errorf("kubeconfig: %d contexts; want the one context of an admin.conf", len(in.Contexts))
	}
	var from string
	var ctx *api.Context
	for name, c := range in.Contexts {
		from, ctx = name, c
	}
	cluster, user := in.Clusters[ctx.Cluster], in.AuthInfos[ctx.AuthInfo]
	if cluster == nil {
		return nil, fmt.Errorf("kubeconfig: context %q names cluster %q, which the file does not hold", from, ctx.Cluster)
	}
	if user == nil {
		return nil, fmt.Errorf("kubeconfig: context %q names user %q, which the file does not hold", from, ctx.AuthInfo)
	}
	if server != "" && server != cluster.Server {
		if err := pointAt(cluster, server); err != nil {
			return nil, err
		}
	}
	out := api.NewConfig()
	out.Clusters[name] = cluster
	out.AuthInfos[name] = user
	out.Contexts[name] = &api.Context{Cluster: name, AuthInfo: name, Namespace: ctx.Namespace, Extensions: ctx.Extensions}
	out.CurrentContext = name
	return out, nil
}

// pointAt makes server the cluster's server, and keeps the certificate
// checked against the host it named before.
func pointAt(cluster *api.Cluster, server string) error {
	to, err := url.Parse(server)
	if err != nil || to.Scheme != "https" || to.Host == "" {
		return fmt.Errorf("kubeconfig: server %q is not an https:// URL", server)
	}
	if from, err := url.Parse(cluster.Server); err == nil && cluster.TLSServerName == "" && from.Hostname() != to.Hostname() {
		cluster.TLSServerName = from.Hostname()
	}
	cluster.Server = server
	return nil
}

// Merge writes cfg's clusters, users and contexts into the kubeconfig file
// at path, replacing the entries of the same names and keeping every other
// entry and setting, and makes cfg's current context the file's. A missing
// file (and its directory, mode 0700) is created. The file is written mode
// 0600, atomically; a symbolic link at path is followed, so the file it
// points to is the one replaced.
//
// Merge holds client-go's lock file (path + ".lock") while it reads and
// writes, as kubectl config does; if the lock is there already, it changes
// nothing and says so.
func Merge(path string, cfg *api.Config) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	unlock, err := lock(path)
	if err != nil {
		return err
	}
	defer unlock()
	into, err := clientcmd.LoadFromFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		into = api.NewConfig()
	case err != nil:
		return fmt.Errorf("kubeconfig %s: %w; nothing was changed", path, err)
	}
	for name, c := range cfg.Clusters {
		into.Clusters[name] = c
	}
	for name, u := range cfg.AuthInfos {
		into.AuthInfos[name] = u
	}
	for name, c := range cfg.Contexts {
		into.Contexts[name] = c
	}
	if cfg.CurrentContext != "" {
		into.CurrentContext = cfg.CurrentContext
	}
	data, err := clientcmd.Write(*into)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return nil
}

// lock takes client-go's lock file of path, as kubectl config does before
// it rewrites a kubeconfig.
func lock(path string) (unlock func(), err error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("kubeconfig %s: locked by %s (a kubectl writing it?); remove that file if nothing is; nothing was changed", path, name)
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: lock: %w", path, err)
	}
	f.Close()
	return func() { os.Remove(name) }, nil
}

// DefaultPath is the kubeconfig file Merge should write for a user: the
// first path of $KUBECONFIG, else ~/.kube/config, the file kubectl reads.
func DefaultPath() (string, error) {
	for _, p := range filepath.SplitList(os.Getenv(clientcmd.RecommendedConfigPathEnvVar)) {
		if p != "" {
			return p, nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("kubeconfig: no home directory for ~/.kube/config (set KUBECONFIG): %w", err)
	}
	return filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName), nil
}
