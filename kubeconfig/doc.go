// Package kubeconfig puts a cluster's admin kubeconfig where kubectl finds
// it, as kind does for its clusters: under one name for the cluster, the
// user and the context, merged into the user's kubeconfig file next to the
// contexts already there, and made current.
//
// Named takes the kubeconfig kubeadm writes on a control plane
// (/etc/kubernetes/admin.conf: one cluster, one user, one context) and
// renames its entries, pointing the cluster at a server this machine
// reaches; Merge writes it into a file, replacing the entries of that name
// and keeping every other; DefaultPath is the file kubectl reads first.
// Loading, merging and writing go through client-go's clientcmd, so the
// file stays what kubectl itself would write.
//
// A kubeconfig holds the admin's client key: Merge writes mode 0600,
// atomically (a reader sees the old file or the new one), under client-go's
// lock file (PATH.lock) so that a kubectl editing the same file at the same
// time fails instead of losing one of the two edits. Nothing here logs or
// returns a kubeconfig's contents in an error.
//
// Tests merge into files on disk; the kubeconfig of a real cluster is
// fetched by kubeadm.Bootstrapper.ReadAdminKubeconfig.
package kubeconfig
